"""`linker repair`: fix what `linker verify` finds, in the view and in the pinned data of the global cache."""

from __future__ import annotations

from pathlib import Path

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK, ConfigError
from ..lockfile import find_lockfile


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
    from ..render.progress import byte_progress
    from ..render.repair import render_repair
    from ..repair.apply import repair

    global_cache = app.global_cache()
    try:
        find_lockfile(app.config)
    except ConfigError:  # no project here: still finish an interrupted migrate of the global cache
        return _journals_only(app, global_cache, dry_run)
    from ..tiers import usable_noting, view_tiers

    lock, global_cache = app.project()
    tiers = usable_noting(app.shared_tiers(lock, global_cache), app.log)
    tiers += view_tiers(lock.view, global_cache, tiers, app.log)
    result = repair(
        lock,
        global_cache,
        dry_run=dry_run,
        offline=offline,
        hash_blobs=not fast,
        tiers=tiers,
        progress=lambda total: byte_progress(app, "hashing", total),
    )
    if app.json:
        app.emit_json({"dry_run": dry_run, **result.to_json()})
    else:
        render_repair(app, result, dry_run=dry_run)
    return result.exit_code


def _journals_only(app: App, global_cache: Path, dry_run: bool) -> int:
    """Without a lockfile there is no view to repair; an interrupted migrate in the global cache is finished all
    the same (it leaves a model half linked). With nothing pending, the missing lockfile is the error."""
    from ..hfcache import migrate_journal_dir
    from ..migrate.journal import pending
    from ..migrate.recover import resume

    if dry_run:
        found = pending(global_cache) if migrate_journal_dir(global_cache).is_dir() else []
        if not found:
            app.lockfile()  # raises: no project_cache.yaml
        lines = [f"would resume the interrupted migrate {p}" for p in found]
        ok = True
    else:
        done = resume(global_cache)
        if not done:
            app.lockfile()  # raises: no project_cache.yaml
        lines = [r.message for r in done]
        ok = all(r.complete for r in done)
    if app.json:
        app.emit_json({"dry_run": dry_run, "ok": ok, "recovered": lines, "lockfile": None})
    else:
        from ..render.repair import render_journals_only

        render_journals_only(app, lines)
    return EXIT_OK if ok else EXIT_FAILED
