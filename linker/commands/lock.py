"""`linker lock`: write or refresh each entry's `files` from the Hub; `--upgrade` moves pins to their ref's head."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK
from ..lockplan import apply_lock_plan, plan_lock
from ..policy import check_planned
from ..render.lock import render_lock
from ..render.text import n_entries


@click.command()
@click.argument("ids", nargs=-1, metavar="[ID]...")
@click.option("--upgrade", is_flag=True, help="Move pins to the current commit of each entry's ref (or of ID...).")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if `linker lock` would change the lock (CI).")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent Hub requests.")
@json_option
@pass_app
def command(app: App, ids: tuple[str, ...], upgrade: bool, check: bool, jobs: int) -> int:
    """Resolve the lock on the Hub: each entry's `files` (repo path -> size and blob hash, sha256 for LFS/Xet,
    git sha1 otherwise, honouring include/exclude) and, with --upgrade, its pin.

    An entry written by hand as just `id` (optional `ref`), or with `revision: <branch or tag>`, is resolved to
    its commit, and its `ref` and `files` are written (comments and order are kept); every other command refuses
    such an entry until then.

    ID... limits the run to those entries. `lock --check` fails on a missing or stale `files` map and on an entry
    not locked yet; `lock --upgrade --check` also fails when a newer commit exists.

    Exit codes: 0 done or up to date; 1 --check found changes, or a pin does not exist on the Hub;
    2 lockfile error; 3 Hub unreachable, token refused, or rate limited. On any Hub error nothing is written.
    """
    from .. import hub

    lock = app.lockfile(unresolved_ok=True)
    n = len(ids) or len(lock.entries)
    app.log(f"locking {n_entries(n)} against {hub.endpoint()}")
    plan = plan_lock(lock, upgrade=upgrade, ids=ids, jobs=jobs)
    if not plan.errors:
        check_planned(lock, plan, app.global_cache(lock.view), log=app.log)  # the format policy, before writing
    write = not check and not plan.errors and bool(plan.changes)
    if write:
        apply_lock_plan(lock.path, plan)
    if app.json:
        app.emit_json({"lockfile": str(lock.path), "check": check, "written": write, **plan.to_json()})
    else:
        render_lock(app, plan, check=check, written=write, lock_path=str(lock.path))
    if plan.errors:
        return plan.error_exit_code
    if check and plan.out_of_date:
        return EXIT_FAILED
    return EXIT_OK
