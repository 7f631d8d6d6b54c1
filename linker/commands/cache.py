"""`linker cache move NEW_PATH`: move the global cache, keeping every project's view working."""

from __future__ import annotations

from pathlib import Path

import click

from ..cachemove import move_cache
from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK
from ..render.cachemove import render_move


@click.group()
def command() -> None:
    """Operations on the global cache itself."""


@command.command()
@click.argument("new_path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would move, and how; change nothing.")
@json_option
@pass_app
def move(app: App, new_path: Path, dry_run: bool) -> int:
    """Move the global cache to NEW_PATH: a rename on the same filesystem, else copy, verify every file, delete the
    old copy. Journaled: rerun after an interruption to finish. Relinks the view of every project that synced
    from it, then prints the `export HF_HUB_CACHE=NEW_PATH` line for your shell profile.

    Exit codes: 0 moved; 1 a view could not be relinked, something stayed behind, or no room; 2 NEW_PATH is
    inside the cache or a shared tier, or a non-empty folder; 4 a lock was not obtained in time."""
    old = app.global_cache()
    tiers = [t.path for t in app.shared_tiers(None, old)]  # --shared-cache, else LINKER_SHARED_CACHES
    shared = tiers if app.shared_cache else None  # else each project relinks with the tiers it configures
    result = move_cache(old, new_path.expanduser(), dry_run=dry_run, log=app.log, shared=shared, tiers=tiers)
    if app.json:
        app.emit_json({**result.to_json(), "export": f"export HF_HUB_CACHE={new_path.expanduser().absolute()}"})
    else:
        render_move(app, result, new_path.expanduser().absolute())
    return EXIT_FAILED if result.failed else EXIT_OK
