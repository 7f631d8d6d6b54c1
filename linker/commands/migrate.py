"""`linker migrate`: move legacy model folders into the global HF cache, losing nothing."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_FAILED, EXIT_OK, ConfigError
from ..hfcache import REPO_TYPES, SHA40, check_repo_id
from ..lockedit import lockfile_to_edit
from ..migrate.plandata import COPY, HARDLINK, MOVE, OP_DEDUPE, MigratePlan
from ..migrate.planner import Options
from ..migrate.run import Result, migrate
from ..migrate.units import KIND_ALIASES, KINDS
from ..plan import human_size
from ..progress import byte_progress


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
    lock_path = lockfile_to_edit(app.config) if lock else None
    opts = Options(
        global_cache=global_cache,
        mode=COPY if copy_ else HARDLINK if hardlink else MOVE,
        repo_id=repo_id,
        repo_type=repo_type,
        revision=revision,
        lock_path=lock_path,
    )
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
    problems = result.plan.problems + (result.outcome.problems if result.outcome else [])
    if app.json:
        app.emit_json(_json(result, dry_run, elapsed))
    else:
        _render(app, result, dry_run, elapsed)
    return EXIT_FAILED if problems else EXIT_OK


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


def _mode_text(plan: MigratePlan) -> str:
    if plan.mode == COPY:
        return "copy (sources left untouched)"
    if plan.mode == HARDLINK:
        return "hard-link (sources left in place)"
    cross = any(b.cross_device for it in plan.items for b in it.blobs)
    return "move" + (" (another filesystem: copy, verify, then delete)" if cross else " (rename: no bytes copied)")


def _render(app: App, result: Result, dry_run: bool, elapsed: float) -> None:
    plan = result.plan
    for line in result.recovered:
        app.log(line)
    for n in plan.notices:
        app.log(n)
    if plan.items:
        verb = "Would migrate" if dry_run else "Migrating"
        app.out(f"{verb} {len(plan.items)} repo(s) into {plan.global_cache}: {_mode_text(plan)}")
    for it in result.plan.items:
        rev = ", ".join(r[:12] for r in it.revisions[:3]) + ("…" if len(it.revisions) > 3 else "")
        local = " (local revision)" if it.local else ""
        app.out(f"  + {it.label}@{rev}{local}  [{it.kind}]")
        app.out(f"      from {it.source}")
        app.out(f"      id: {it.id_reason}; revision: {it.reason}")
        by_op = it.bytes_by_op()
        parts = [f"{it.files} file(s), {human_size(it.size)}"]
        for op_kind, size in sorted(by_op.items()):
            word = {MOVE: "rename", OP_DEDUPE: "already there"}.get(op_kind, op_kind)
            parts.append(f"{word} {human_size(size)}")
        if it.refs:
            parts.append("refs: " + ", ".join(r.path.split("/refs/", 1)[-1] for r in it.refs))
        app.out("      " + "; ".join(parts))
        for note in it.notes:
            app.out(f"      note: {note}")
        if app.verbose:
            for b in it.blobs:
                app.out(f"      {b.op:8} {b.src} -> {b.dst} ({human_size(b.size)})")
            for link in it.links + it.relinks:
                app.out(f"      link     {link.path} -> {link.target}")
    problems = plan.problems + (result.outcome.problems if result.outcome else [])
    for p in problems:
        app.out(f"  ! {p.describe()}")
    if not plan.items and not problems:
        app.out("Nothing to migrate." if not result.recovered else "Nothing else to migrate.")
        for entry in result.locked:
            app.out(f"  locked {entry} in {plan.lock_path}")
        return
    if result.applied and result.outcome is not None:
        out = result.outcome
        app.out(
            f"Migrated {len(plan.items) - len(out.failed_items)} repo(s) in {elapsed:.2f}s: "
            f"{human_size(out.renamed)} renamed, {human_size(out.copied)} copied, "
            f"{human_size(out.linked)} hard-linked, {human_size(out.deduped)} already there"
        )
        for entry in result.locked:
            app.out(f"  locked {entry} in {plan.lock_path}")
        if plan.items and not plan.lock_path:
            app.log("next: `linker migrate ... --lock` or `linker add`, then `linker sync`")
    elif dry_run:
        app.out("Dry run: nothing was changed.")
    if problems:
        app.log(f"{len(problems)} problem(s)")
