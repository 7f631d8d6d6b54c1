"""`linker remove ID`: drop an entry from project_cache.yaml (the next `linker sync` removes its view)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK, NotFoundError
from ..hfcache import REPO_TYPES
from ..render.lock import render_removed


@click.command()
@click.argument("repo")
@click.option("--type", "repo_type", type=click.Choice(REPO_TYPES), help="The repo type (or write TYPE:ID).")
@json_option
@pass_app
def command(app: App, repo: str, repo_type: str | None) -> int:
    """Remove the entry for REPO (`org/name`, or `dataset:org/name`). Exit 1 if the lock has no such entry."""
    from ..lockedit import remove_entry

    lock = app.lockfile(unresolved_ok=True)
    if repo_type is None and ":" in repo and repo.split(":", 1)[0] in REPO_TYPES:
        repo_type, repo = repo.split(":", 1)
    entry = lock.find(repo, repo_type)
    if entry is None:
        raise NotFoundError(f"{repo} is not in {lock.path}", hint="`linker status` lists the pinned entries")
    remove_entry(lock.path, entry.id, entry.type)
    if app.json:
        app.emit_json({"lockfile": str(lock.path), "removed": entry.label, "revision": entry.revision})
    else:
        render_removed(app, entry.label, entry.revision, lock.path)
    return EXIT_OK
