"""`linker add ID[@REV]`: pin a Hub repo in project_cache.yaml (resolved to a full commit, with its file list)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK
from ..hfcache import REPO_TYPES
from ..render.lock import render_added
from ._gitignore import ignore_new_view


@click.command()
@click.argument("spec", metavar="ID[@REV]")
@click.option("--type", "repo_type", type=click.Choice(REPO_TYPES), default="model", show_default=True)
@click.option("--include", multiple=True, metavar="GLOB", help="Only files matching (repeatable), as `hf download`.")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Skip files matching (repeatable).")
@click.option(
    "--ref", help="The branch or tag the pin stands for in the view (default: REV if a branch/tag, else main)."
)
@click.option("--safe", is_flag=True, help="Exclude pickle weights when the repo has safetensors ones.")
@json_option
@pass_app
def command(
    app: App, spec: str, repo_type: str, include: tuple[str, ...], exclude: tuple[str, ...], ref: str | None, safe: bool
) -> int:
    """Add a repo to the lock. REV (branch, tag or full sha; default main) is resolved on the Hub to its commit,
    and the commit's file list is written as `files`. Then `linker sync` downloads and links it.

    When the repo has both safetensors and pickle weights (`pytorch_model.bin`), the `exclude` keeping only the
    safetensors is suggested; `--safe` writes it. The lock's `policy:` applies (see `linker audit`).

    Exit codes: 0 added; 1 the repo or revision does not exist, or the format policy refuses a file;
    2 bad arguments or already in the lock;
    3 Hub unreachable, token refused, or rate limited.
    """
    from ..adding import add_repo
    from ..lockedit import lockfile_to_edit

    repo_id, _, revision = spec.partition("@")
    lock_path = lockfile_to_edit(app.config)
    added = add_repo(
        lock_path,
        repo_id,
        revision or "main",
        repo_type,
        include=include,
        exclude=exclude,
        ref=ref,
        safe=safe,
        log=app.log,
    )
    ignored = ignore_new_view(app, lock_path) if added.created else None
    if added.warning:
        app.log(added.warning)
    if app.json:
        app.emit_json({**added.to_json(), "gitignore": ignored.to_json() if ignored else None})
    else:
        render_added(app, added.label, added.revision, added.ref, added.files, added.size, lock_path, added.created)
    return EXIT_OK
