"""`linker repair`: fix what `linker verify` finds, in the view and in the pinned data of the global cache."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app


@click.command()
@click.option("--dry-run", is_flag=True, help="List the fixes and change nothing.")
@click.option("--offline", is_flag=True, help="Never download (also: HF_HUB_OFFLINE=1); report what needs the Hub.")
@click.option("--fast", is_flag=True, help="Skip hashing blobs (corrupt blobs are then found by size only).")
@json_option
@pass_app
def command(app: App, dry_run: bool, offline: bool, fast: bool) -> int:
    """Fix the view and the global cache without deleting data it cannot restore.

    Relinks dangling links to the blob wherever the global cache now holds it (hash-verified), else downloads it
    (online), else names the command that restores it; quarantines corrupt blobs; rewrites bad refs, project refs
    and hub-0.13 absolute links; removes stale `.no_exist` markers and leftovers of interrupted runs; finishes
    interrupted migrates. Ends with `verify` (`--full` unless `--fast`): exit 0 when it passes, 1 when something
    could not be fixed (3 when the Hub refused or failed).
    """
    from ..progress import byte_progress
    from ..repair.apply import repair
    from ..repair.render import render_result

    lock, global_cache = app.project()
    result = repair(
        lock,
        global_cache,
        dry_run=dry_run,
        offline=offline,
        hash_blobs=not fast,
        progress=lambda total: byte_progress(app, "hashing", total),
    )
    if app.json:
        app.emit_json({"dry_run": dry_run, **result.to_json()})
    else:
        render_result(app, result, dry_run=dry_run)
    return result.exit_code
