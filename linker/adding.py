"""Adding a Hub repo to the lock, as `linker add` does: resolve a revision on the Hub to its commit, list the
commit's files, and write the entry. Shared by `linker add` and `linker scan --add` (the library; no CLI here)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, NotFoundError
from .hfcache import SHA40, check_repo_id, is_safe_repo_path
from .lockfile import Entry, FormatPolicy, LockedFile, load_lockfile, repo_label


@dataclass(frozen=True)
class Added:
    """An entry written to the lockfile."""

    lock_path: Path
    created: bool  # the lockfile was created for it
    id: str
    type: str
    revision: str
    ref: str
    files: int
    size: int
    gated: bool
    warning: str | None  # e.g. a gated repo the token cannot download yet
    exclude: tuple[str, ...] = ()  # as written (with `--safe`, the pickle weights left out)
    safe_exclude: list[str] | None = None  # the exclude `--safe` would write, when not written

    @property
    def label(self) -> str:
        return repo_label(self.id, self.type)

    def to_json(self) -> dict[str, Any]:
        return {
            "lockfile": str(self.lock_path),
            "created": self.created,
            "id": self.id,
            "type": self.type,
            "revision": self.revision,
            "ref": self.ref,
            "files": self.files,
            "size": self.size,
            "gated": self.gated,
            "warning": self.warning,
            "exclude": list(self.exclude),
            "safe_exclude": self.safe_exclude,
        }


def add_repo(
    lock_path: Path,
    repo_id: str,
    revision: str = "main",
    repo_type: str = "model",
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    ref: str | None = None,
    safe: bool = False,
    log: Callable[[str], None] | None = None,
) -> Added:
    """Pin `repo_id@revision` in `lock_path` (created when absent), resolved on the Hub to its commit with its file
    list. ConfigError (exit 2) for a bad id, revision or ref, or an id already in the lock; the Hub's errors as
    `linker.hub` maps them (not found: exit 1; unreachable, auth, rate limit: exit 3). With `safe`, pickle weights
    are excluded when safetensors ones exist; the lock's format policy applies to what would be written (exit 1)."""
    from . import hub
    from .lockedit import create_lockfile, upsert_entry

    if why := check_repo_id(repo_id):
        raise ConfigError(f"invalid repo id {repo_id!r}: {why}")
    revision = hub.check_revision_syntax(revision)
    ref = ref or ("main" if SHA40.fullmatch(revision) else revision)
    if not is_safe_repo_path(ref) or SHA40.fullmatch(ref):
        raise ConfigError(f"--ref {ref!r} must be a branch or tag name such as main or v1.0")

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
    if log is not None:
        log(f"resolving {label}@{revision} on {hub.endpoint()}")
    state = hub.repo_state(repo_id, revision, repo_type)
    files = hub.list_files(repo_id, state.sha, repo_type, include, exclude)
    if not files:
        raise ConfigError(f"no file of {label}@{state.sha[:12]} matches --include/--exclude")
    files, exclude, suggest = _safe_choice(Entry(repo_id, "", repo_type), files, tuple(exclude), safe, lock_path, log)
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
    if suggest and log is not None:
        log(f"note: {label} has safetensors weights; `--safe` (exclude: {suggest}) links only those")
    created = create_lockfile(lock_path)  # under the lockfile lock: a concurrent `add` may have made it
    upsert_entry(lock_path, entry)
    size = sum(f.size for f in files.values())
    return Added(
        lock_path, created, repo_id, repo_type, state.sha, ref, len(files), size, state.gated, warning, exclude, suggest
    )


def _safe_choice(
    entry: Entry,
    files: dict[str, LockedFile],
    exclude: tuple[str, ...],
    safe: bool,
    lock_path: Path,
    log: Callable[[str], None] | None,
) -> tuple[dict[str, LockedFile], tuple[str, ...], list[str] | None]:
    """The files, the exclude to write and the safe-subset suggestion (None once written, or when there is none);
    then the lock's format policy on what would be written (exit 1 when it refuses a file)."""
    from .hfcache import matches_patterns
    from .policy import Risk, check_policy, classify, safe_subset

    suggest = safe_subset(files)
    if safe and suggest is None and any(classify(p) is Risk.PICKLE for p in files):
        raise NotFoundError(f"{entry.label} has no safetensors weights: `--safe` cannot leave its pickles out")
    if safe and suggest:
        exclude = (*exclude, *(g for g in suggest if g not in exclude))
        files = {p: f for p, f in files.items() if matches_patterns(p, None, list(exclude))}
        suggest = None
    policy = load_lockfile(lock_path).policy if lock_path.exists() else FormatPolicy()
    check_policy(policy, [(replace(entry, files=files), list(files))], log=log or (lambda _line: None))
    return files, exclude, suggest
