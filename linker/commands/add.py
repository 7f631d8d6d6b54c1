"""`linker add ID[@REV]`: pin a Hub repo in project_cache.yaml (resolved to a full commit, with its file list)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK, ConfigError, NotFoundError
from ..hfcache import REPO_TYPES, SHA40, check_repo_id, is_safe_repo_path
from ..lockfile import Entry, LockedFile, load_lockfile, repo_label
from ..policy import Risk, classify
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
    from .. import hub
    from ..lockedit import create_lockfile, lockfile_to_edit, upsert_entry

    repo_id, _, revision = spec.partition("@")
    revision = revision or "main"
    if why := check_repo_id(repo_id):
        raise ConfigError(f"invalid repo id {repo_id!r}: {why}")
    revision = hub.check_revision_syntax(revision)
    is_sha = bool(SHA40.fullmatch(revision))
    ref = ref or ("main" if is_sha else revision)
    if not is_safe_repo_path(ref) or SHA40.fullmatch(ref):
        raise ConfigError(f"--ref {ref!r} must be a branch or tag name such as main or v1.0")

    lock_path = lockfile_to_edit(app.config)
    if lock_path.exists():
        lock = load_lockfile(lock_path)
        old = lock.find(repo_id, repo_type)
        if old is not None:
            n = lock.entries.index(old) + 1
            pin = old.revision[:12] if old.resolved else f"not locked yet, {old.wants}"
            hint = "moves its pin" if old.resolved else "pins it"
            raise ConfigError(
                f"{old.label} is already in {lock_path} (entry {n}: {pin}, ref {old.ref})",
                hint=f"`linker lock --upgrade {old.id}` {hint}; `linker remove {old.id}` drops it",
            )

    label = repo_label(repo_id, repo_type)
    app.log(f"resolving {label}@{revision} on {hub.endpoint()}")
    state = hub.repo_state(repo_id, revision, repo_type)
    files = hub.list_files(repo_id, state.sha, repo_type, include, exclude)
    if not files:
        raise ConfigError(f"no file of {label}@{state.sha[:12]} matches --include/--exclude")
    files, exclude, suggest = _safe_choice(app, Entry(repo_id, "", repo_type), files, exclude, safe, lock_path)
    warning = None
    if state.gated:
        probe = hub.gated_probe_path(files)
        if probe is not None:
            try:
                hub.check_access(repo_id, state.sha, probe, repo_type)
            except hub.HubTrouble as exc:
                warning = f"warning: {exc.message}; `linker sync` cannot download it until then"

    entry = {
        "id": repo_id,
        "type": repo_type,
        "revision": state.sha,
        "ref": ref,
        "include": list(include),
        "exclude": list(exclude),
        "files": files,
    }
    if suggest:
        app.log(f"note: {label} has safetensors weights; `--safe` (exclude: {suggest}) links only those")
    created = create_lockfile(lock_path)  # under the lockfile lock: a concurrent `add` may have made it
    upsert_entry(lock_path, entry)
    ignored = ignore_new_view(app, lock_path) if created else None

    size = sum(f.size for f in files.values())
    if warning:
        app.log(warning)
    if app.json:
        app.emit_json(
            {
                "lockfile": str(lock_path),
                "created": created,
                "id": repo_id,
                "type": repo_type,
                "revision": state.sha,
                "ref": ref,
                "files": len(files),
                "size": size,
                "gated": state.gated,
                "warning": warning,
                "exclude": list(exclude),
                "safe_exclude": suggest,
                "gitignore": ignored.to_json() if ignored else None,
            }
        )
    else:
        render_added(app, label, state.sha, ref, len(files), size, lock_path, created)
    return EXIT_OK


def _safe_choice(
    app: App, entry: Entry, files: dict[str, LockedFile], exclude: tuple[str, ...], safe: bool, lock_path: Path
) -> tuple[dict[str, LockedFile], tuple[str, ...], list[str] | None]:
    """The files, the exclude to write and the safe-subset suggestion (None once written, or when there is none);
    then the lock's format policy on what would be written (exit 1 when it refuses a file)."""
    from ..hfcache import matches_patterns
    from ..lockfile import FormatPolicy
    from ..policy import check_policy, safe_subset

    suggest = safe_subset(files)
    if safe and suggest is None and any(classify(p) is Risk.PICKLE for p in files):
        raise NotFoundError(f"{entry.label} has no safetensors weights: `--safe` cannot leave its pickles out")
    if safe and suggest:
        exclude = (*exclude, *(g for g in suggest if g not in exclude))
        files = {p: f for p, f in files.items() if matches_patterns(p, None, list(exclude))}
        suggest = None
    policy = load_lockfile(lock_path).policy if lock_path.exists() else FormatPolicy()
    check_policy(policy, [(replace(entry, files=files), list(files))], log=app.log)
    return files, exclude, suggest
