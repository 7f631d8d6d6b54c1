"""`linker gc`: remove the project refs no lockfile needs any more from the global cache (`--prune`: and the
revisions they protected)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK, fs_boundary
from ..filelocks import file_lock
from ..gc import GcResult, plan_gc, prune_detached, remove_orphans
from ..hfcache import gc_lock_path
from ..render.gc import render_gc_plan, render_gc_result


@click.command()
@click.option("--dry-run", is_flag=True, help="Print what would be removed and freed; change nothing.")
@click.option("--prune", is_flag=True, help="Also delete the revisions no ref protects, after listing them.")
@json_option
@pass_app
def command(app: App, dry_run: bool, prune: bool) -> int:
    """Remove orphaned project refs from the global cache (refs of lockfiles that are gone or moved on)."""
    global_cache = app.global_cache()
    if dry_run or not global_cache.is_dir():
        plan = plan_gc(global_cache)
        result = GcResult(plan, dry_run=dry_run)
        if not app.json:
            render_gc_plan(app, plan, dry_run=True, prune=prune)
    else:
        with file_lock(gc_lock_path(global_cache), what="gc lock", boundary=True):
            plan = plan_gc(global_cache)
            if not app.json:
                render_gc_plan(app, plan, dry_run=False, prune=prune)
            with fs_boundary(global_cache, "cannot remove refs from the global cache"):
                result = remove_orphans(plan)
                if prune and plan.detached:
                    prune_detached(result)
        if not app.json:
            render_gc_result(app, result)
    if app.json:
        app.emit_json(result.to_json())
    return EXIT_OK
