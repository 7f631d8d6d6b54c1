"""`linker migrate`: move legacy model folders into the global HF cache, losing nothing."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK, ConfigError, LinkerError
from ..hfcache import REPO_TYPES, SHA40, check_repo_id
from ..lockedit import lockfile_to_edit
from ..migrate.plandata import COPY, HARDLINK, MOVE
from ..migrate.planner import Options
from ..migrate.run import Result, migrate
from ..migrate.units import KIND_ALIASES, KINDS
from ..render.migrate import render_migrate
from ..render.progress import byte_progress
from ._gitignore import ignore_new_view


@click.command()
@click.argument("sources", nargs=-1, metavar="[SRC]...", type=click.Path(path_type=Path))
@click.option("--kind", type=click.Choice([*KINDS, *KIND_ALIASES]), help="Force the source kind (default: detect).")
@click.option("--id", "repo_id", metavar="ORG/NAME", help="The repo id (one model only).")
@click.option("--type", "repo_type", type=click.Choice(REPO_TYPES), default="model", show_default=True)
@click.option("--revision", metavar="SHA", help="The commit the files are (one model only; 40 hex).")
@click.option("--to", "to", type=click.Path(file_okay=False, path_type=Path), help="The global cache to fill.")
@click.option("--copy", "copy_", is_flag=True, help="Copy: leave the sources untouched.")
@click.option("--hardlink", is_flag=True, help="Hard-link the blobs instead of moving them (same filesystem).")
@click.option("--lock", "lock", is_flag=True, help="Add or update each model in project_cache.yaml.")
@click.option("--offline", is_flag=True, help="Ask the Hub nothing (also HF_HUB_OFFLINE=1): local revisions.")
@click.option("--dry-run", is_flag=True, help="Print the plan (what moves where, bytes, revision and why) only.")
@json_option
@pass_app
def command(
    app: App,
    sources: tuple[Path, ...],
    kind: str | None,
    repo_id: str | None,
    repo_type: str,
    revision: str | None,
    to: Path | None,
    copy_: bool,
    hardlink: bool,
    lock: bool,
    offline: bool,
    dry_run: bool,
) -> int:
    """Move models stored the old ways into the global Hugging Face cache.

    SRC may be a model folder (save_pretrained, git clone, org/model trees), a sentence-transformers < 2.3
    cache, an `hf download --local-dir` folder, an HF cache in the wrong place (or with hub 0.13 links), or a
    transformers < 4.22 cache. With no SRC, only an interrupted migrate is resumed.

    Exit codes: 0 migrated (or nothing to do); 1 something was refused or left in place (unsafe source,
    ambiguous id, incomplete download, a copy that did not verify); 2 bad arguments; 3 Hub unreachable, token
    refused or rate limited (retry, or pass --offline); 4 a blob or migrate lock was not obtained in time.
    """
    if copy_ and hardlink:
        raise click.UsageError("--copy and --hardlink exclude each other")
    if repo_id is not None and (why := check_repo_id(repo_id)):
        raise ConfigError(f"--id {repo_id!r}: {why}")
    if revision is not None and not SHA40.fullmatch(revision):
        raise ConfigError(
            f"--revision {revision!r} is not a commit", hint="pin the full 40-character commit (lowercase)"
        )
    global_cache = Path(to).expanduser().absolute() if to else app.global_cache()
    _refuse_tiers(app, global_cache, [Path(s).expanduser() for s in sources], copy_)
    lock_path = lockfile_to_edit(app.config) if lock else None
    opts = Options(
        global_cache=global_cache,
        mode=COPY if copy_ else HARDLINK if hardlink else MOVE,
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
        lock_path=lock_path,
    )
    lock_existed = lock_path is not None and lock_path.exists()
    start = time.perf_counter()
    result = migrate(
        [Path(s).expanduser() for s in sources],
        opts,
        kind=kind,
        offline=offline,
        dry_run=dry_run,
        progress=lambda what, total: byte_progress(app, what, total),
    )
    elapsed = time.perf_counter() - start
    ignored = None
    if lock_path is not None and not lock_existed and lock_path.exists():
        ignored = ignore_new_view(app, lock_path)
    problems = result.plan.problems + (result.outcome.problems if result.outcome else [])
    if app.json:
        app.emit_json({**_json(result, dry_run, elapsed), "gitignore": ignored.to_json() if ignored else None})
    else:
        render_migrate(app, result, dry_run, elapsed)
    return EXIT_FAILED if problems else EXIT_OK


def _refuse_tiers(app: App, global_cache: Path, sources: list[Path], copy_: bool) -> None:
    """A shared read-only tier is never written: refuse (exit 2) `--to` inside one, and a SRC in (or holding) one
    unless `--copy` (a move or a hardlink changes the tier's files)."""
    from ..tiers import tier_overlapping

    try:
        project_lock = app.lockfile(unresolved_ok=True)
    except LinkerError:  # no (readable) project here: the tiers come from --shared-cache or LINKER_SHARED_CACHES
        project_lock = None
    tiers = app.shared_tiers(project_lock, global_cache)
    if (t := tier_overlapping(global_cache, tiers)) is not None:
        raise ConfigError(
            f"the global cache to fill, {global_cache}, is the shared cache {t.path} or overlaps it (from "
            f"{t.source}): linker never writes a shared read-only tier",
            hint="migrate into your own writable cache; pass --copy to copy from the tier",
        )
    for src in [] if copy_ else sources:
        if (t := tier_overlapping(src, tiers)) is not None:
            raise ConfigError(
                f"{src} is the shared cache {t.path}, or lies in or holds it (from {t.source}): moving or "
                "hard-linking out of it would write a shared read-only tier",
                hint="pass --copy to copy from it and leave it untouched",
            )


def _json(result: Result, dry_run: bool, elapsed: float) -> dict[str, object]:
    plan = result.plan.to_json()
    out = result.outcome
    return {
        "global_cache": result.plan.global_cache,
        "mode": result.plan.mode,
        "dry_run": dry_run,
        "applied": result.applied,
        "recovered": result.recovered,
        "notices": plan["notices"],
        "items": [_item_json(it) for it in plan["items"]],
        "problems": plan["problems"] + ([p.__dict__ for p in out.problems] if out else []),
        "bytes": {
            "renamed": out.renamed if out else 0,
            "copied": out.copied if out else 0,
            "hardlinked": out.linked if out else 0,
            "deduplicated": out.deduped if out else 0,
        },
        "lock_entries": result.locked,
        "seconds": round(elapsed, 3),
    }


def _item_json(it: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in it.items() if k not in ("prune",)}
