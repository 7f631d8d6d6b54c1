"""`linker verify`: check the view against the lock, offline (fast, or `--full` with hashing), or on the Hub
(`--remote`, for CI)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app


@click.command()
@click.argument("ids", nargs=-1)
@click.option("--full", is_flag=True, help="Also hash every blob (sha256 or git sha1, by its name), in parallel.")
@click.option("--rehash", is_flag=True, help="With --full: hash every blob, even those verified before and unchanged.")
@click.option("--remote", is_flag=True, help="Check the pins on the Hub instead: repos, revisions, files, hashes.")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Concurrent checks (--remote).")
@json_option
@pass_app
def command(app: App, ids: tuple[str, ...], full: bool, rehash: bool, remote: bool, jobs: int) -> int:
    """Check that the view holds exactly the pinned files (exit 0), or list what is wrong (exit 1).

    Offline and fast by default: every pinned file present, every link resolving, sizes as locked, refs
    holding the 40-hex pins, no stale `.no_exist` marker, the project's refs in the global cache. `linker repair`
    fixes what this reports.
    """
    from ..policy import check_lock
    from ..sync.fastpath import recorded_files
    from ..sync.manifest import load_manifest
    from ..tiers import usable

    lock = app.lockfile()
    global_cache, entries = app.global_cache(lock.view), lock.select(ids)
    tiers = usable(app.shared_tiers(lock, global_cache))
    manifest = load_manifest(lock.view)  # records that match their entry list its files: no trees/ to read
    recorded = recorded_files(manifest, entries, global_cache, tiers)
    check_lock(lock, global_cache, entries, log=app.log, view_first=True, tiers=tiers, recorded=recorded)  # policy
    if remote:
        from ..render.verify import render_remote
        from ..verify.remote import verify_remote

        if ids:
            from dataclasses import replace

            lock = replace(lock, entries=lock.select(ids))
        on_hub = verify_remote(lock, jobs=jobs)
        if app.json:
            app.emit_json(on_hub.to_json())
        else:
            render_remote(app, on_hub)
        return on_hub.exit_code

    from ..render.progress import byte_progress
    from ..render.verify import render_local
    from ..tiers import usable_noting, view_tiers
    from ..verify.local import verify
    from ..verify.tiers import unnamed_tier_advice

    lock, global_cache = app.project()
    tiers = usable_noting(app.shared_tiers(lock, global_cache), app.log)
    report = verify(
        lock,
        global_cache,
        full=full,
        ids=ids,
        rehash=rehash,
        tiers=tiers,
        progress=lambda total: byte_progress(app, "hashing", total),
        manifest=manifest,
    )
    # advised on, not checked with; a folder proven unchanged since synced from these caches links nowhere else
    unnamed = view_tiers(lock.view, global_cache, tiers, app.log, skip=report.unchanged)
    report.findings = unnamed_tier_advice(lock, global_cache, report.findings, unnamed)
    if app.json:
        app.emit_json(report.to_json())
        return report.exit_code
    render_local(app, report)
    return report.exit_code
