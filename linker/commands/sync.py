"""`linker sync`: make the project view hold exactly the pinned revisions."""

from __future__ import annotations

import time

import click

from ..context import App, json_option, pass_app
from ..lockfile import LINK_MODES
from ..plan import human_size
from ..progress import action_progress
from ..render import render_plan
from ..sync import sync
from ..sync.plan import LINK, Plan


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if the view differs from the lock.")
@click.option("--offline", is_flag=True, help="Make no network request (also: HF_HUB_OFFLINE=1).")
@click.option("--link-mode", type=click.Choice(LINK_MODES), help="symlink (default), hardlink, copy or auto.")
@click.option("--force", is_flag=True, help="Replace or delete files linker did not create.")
@json_option
@pass_app
def command(app: App, dry_run: bool, check: bool, offline: bool, link_mode: str | None, force: bool) -> int:
    """Link the pinned revisions from the global cache into the project view."""
    lock, global_cache = app.project()
    start = time.perf_counter()
    read_only = dry_run or check
    with action_progress(app, "linking") as progress:
        result = sync(
            lock,
            global_cache,
            link_mode=link_mode,
            force=force,
            offline=offline or check,
            dry_run=read_only,
            progress=progress,
            log=app.log,
        )
    plan = result.plan
    elapsed = time.perf_counter() - start
    if app.json:
        doc = {
            "view": str(lock.view),
            "global_cache": str(global_cache),
            "link_mode": result.link_mode,
            "dry_run": dry_run,
            "check": check,
            "applied": result.applied,
            "in_sync": plan.empty and not plan.problems,
            "warnings": result.warnings,
            **plan.to_json(),
        }
        app.emit_json(doc)
    else:
        _render(app, plan, result.applied, read_only, elapsed, lock.view, result.warnings)
    if result.hub_error:
        click.echo(f"error: {result.hub_error}", err=True)
    return result.exit_code(check=check)


def _render(
    app: App, plan: Plan, applied: bool, read_only: bool, elapsed: float, view: object, warnings: list[str]
) -> None:
    linked = [e for e in plan.entries if e.state != "not-in-lock"]
    total = human_size(sum(e.size for e in linked))
    if app.quiet:  # errors only: the problems, each with its fix
        for p in plan.problems:
            app.out(f"  ! {p.describe()}")
        return
    if plan.empty and not plan.problems:
        for n in plan.notices:
            app.log(n)
        app.out(f"Already in sync: {len(linked)} repo(s), {total} in {view}")
        return
    verb = "Would change" if read_only else "Changed"
    render_plan(app, plan, header=f"{verb} {view}:" if plan.actions else None)
    for w in warnings:
        app.log(w)
    if applied:
        links = sum(1 for a in plan.actions if a.kind == LINK)
        app.out(f"Synced {len(linked)} repo(s) ({links} link(s), {total}) in {elapsed:.2f}s")
    if plan.problems:
        app.log(f"{len(plan.problems)} problem(s): the view is not complete")
