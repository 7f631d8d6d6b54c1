"""`linker sync`: make the project view hold exactly the pinned revisions."""

from __future__ import annotations

import time

import click

from ..context import App, json_option, pass_app
from ..lockfile import LINK_MODES
from ..render.progress import action_progress
from ..render.sync import render_sync
from ..sync import sync


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if the view differs from the lock.")
@click.option("--offline", is_flag=True, help="Make no network request (also: HF_HUB_OFFLINE=1).")
@click.option("--link-mode", type=click.Choice(LINK_MODES), help="symlink (default), hardlink, copy or auto.")
@click.option("--force", is_flag=True, help="Replace or delete files linker did not create.")
@click.option(
    "--verify-hashes", is_flag=True, help="Hash every blob linked, cached ones too (remembered while unchanged)."
)
@click.option("--require-hashes", is_flag=True, help="Refuse (exit 2) an entry whose lock has no `files` hashes.")
@json_option
@pass_app
def command(
    app: App,
    dry_run: bool,
    check: bool,
    offline: bool,
    link_mode: str | None,
    force: bool,
    verify_hashes: bool,
    require_hashes: bool,
) -> int:
    """Link the pinned revisions from the global cache into the project view."""
    lock, global_cache = app.project()
    tiers = app.shared_tiers(lock, global_cache)
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
            verify_hashes=verify_hashes,
            require_hashes=require_hashes,
            progress=progress,
            log=app.log,
            shared=tiers,
        )
    plan = result.plan
    elapsed = time.perf_counter() - start
    if app.json:
        doc = {
            "view": str(lock.view),
            "global_cache": str(global_cache),
            "shared_caches": [t.to_json() for t in tiers],
            "link_mode": result.link_mode,
            "dry_run": dry_run,
            "check": check,
            "applied": result.applied,
            "in_sync": plan.empty and not plan.problems,
            "warnings": result.warnings,
            "hashes": result.hashes.to_json(),
            **plan.to_json(),
        }
        app.emit_json(doc)
    else:
        render_sync(app, plan, result.applied, read_only, elapsed, lock.view, result.warnings)
    for bad in result.hashes.mismatches:  # one line per file, whatever the output format
        click.echo(f"error: hash mismatch: {bad.line()}", err=True)
    if result.hub_error:
        click.echo(f"error: {result.hub_error}", err=True)
    return result.exit_code(check=check)
