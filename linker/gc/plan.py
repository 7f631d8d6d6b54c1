"""`linker gc`'s plan: every project ref linker wrote in a global cache, whether its owner still pins it, and what
`hf cache prune` would free once the orphaned ones are gone (pure: reads only).

A project ref is `refs/linker/<folder>-<hash>` (hfcache.linker_ref_kind); its owner is the lockfile recorded under
`.locks/linker/projects/` (projects.py). Refs linker did not create (`main`, tags, `refs/pr/*`, anything else) and
migrate's guard refs (`refs/linker/migrated-<rev>`) are never candidates; they only protect revisions.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from ..errors import LinkerError
from ..hfcache import REFS, SNAPSHOTS, iter_files, linker_ref_kind, repo_folders
from ..lockfile import Lockfile, load_lockfile, repo_label
from ..projects import Owner, read_owner

RefState = Literal["alive", "orphaned", "unknown"]
ALIVE: Final = "alive"  # the owning lockfile exists and pins this revision
ORPHANED: Final = "orphaned"  # the owning lockfile is gone, or no longer pins this revision
UNKNOWN: Final = "unknown"  # no record of an owner, or a lockfile that cannot be read: kept

Why = Literal["pinned", "lockfile-gone", "not-pinned", "no-record", "unreadable-lockfile"]
REASONS: dict[Why, str] = {
    "pinned": "the lockfile pins this revision",
    "lockfile-gone": "the lockfile is gone",
    "not-pinned": "the lockfile no longer pins this revision",
    "no-record": "no record of the lockfile that owns it",
    "unreadable-lockfile": "its lockfile cannot be read",
}


@dataclass(frozen=True)
class LinkerRef:
    """One project ref in the global cache, judged."""

    repo: str  # the entry label, e.g. org/name
    folder: str  # the repo folder, e.g. models--org--name
    ref: str  # linker/<folder>-<hash>
    path: str
    revision: str
    state: RefState
    why: Why
    owner: str = ""  # the owning lockfile, when recorded

    def describe(self) -> str:
        return REASONS[self.why]


@dataclass(frozen=True)
class Detached:
    """A revision that no ref protects once the orphaned refs are gone: `hf cache prune` deletes it."""

    repo: str
    folder: str
    revision: str
    size: int  # bytes its deletion frees (blobs no protected revision of the repo shares)
    files: int


@dataclass
class GcPlan:
    global_cache: Path
    refs: list[LinkerRef] = field(default_factory=list)
    detached: list[Detached] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)  # owner records of ref names that will have no ref left

    @property
    def orphaned(self) -> list[LinkerRef]:
        return [r for r in self.refs if r.state == ORPHANED]

    @property
    def freed(self) -> int:
        return sum(d.size for d in self.detached)

    def to_json(self) -> dict[str, Any]:
        return {
            "global_cache": str(self.global_cache),
            "refs": [asdict(r) for r in self.refs],
            "counts": {s: sum(r.state == s for r in self.refs) for s in (ALIVE, ORPHANED, UNKNOWN)},
            "prunable": [asdict(d) for d in self.detached],
            "prunable_bytes": self.freed,
        }


def plan_gc(global_cache: Path) -> GcPlan:
    """Judge every project ref of `global_cache`; list what `hf cache prune` would free once the orphans go."""
    plan = GcPlan(global_cache)
    lockfiles: dict[str, Lockfile | None] = {}
    owners: dict[str, Owner | None] = {}
    refs_by_folder: dict[str, dict[str, str]] = {}
    for repo_type, repo_id, path in repo_folders(global_cache):
        refs = _refs(path)
        refs_by_folder[path.name] = refs
        for name, raw in sorted(refs.items()):
            if linker_ref_kind(name) != "project":
                continue  # not ours, or migrate's guard: never a candidate
            if name not in owners:
                owners[name] = read_owner(global_cache, name)
            owner = owners[name]
            state, why = _judge(owner, repo_type, repo_id, raw, lockfiles)
            label, where = repo_label(repo_id, repo_type), str(path / REFS / name)
            lockfile = owner.lockfile if owner else ""
            plan.refs.append(LinkerRef(label, path.name, name, where, raw, state, why, lockfile))
    gone = {(r.folder, r.ref) for r in plan.orphaned}
    kept_names = {r.ref for r in plan.refs if (r.folder, r.ref) not in gone}
    plan.forget = sorted({r.ref for r in plan.orphaned} - kept_names)
    for repo_type, repo_id, path in repo_folders(global_cache):
        left = {n: raw for n, raw in refs_by_folder.get(path.name, {}).items() if (path.name, n) not in gone}
        plan.detached += _detached(repo_label(repo_id, repo_type), path, set(left.values()))
    return plan


def _refs(repo: Path) -> dict[str, str]:
    """name -> raw content of every ref, as `scan_cache_dir` reads them (any file under refs/)."""
    base = repo / REFS
    out: dict[str, str] = {}
    for p in iter_files(base):
        try:
            out[p.relative_to(base).as_posix()] = p.read_text(errors="replace")
        except OSError:
            continue
    return out


def _judge(
    owner: Owner | None, repo_type: str, repo_id: str, raw: str, lockfiles: dict[str, Lockfile | None]
) -> tuple[RefState, Why]:
    if owner is None:
        return UNKNOWN, "no-record"
    if not os.path.lexists(owner.lockfile):
        return ORPHANED, "lockfile-gone"
    if owner.lockfile not in lockfiles:
        try:
            lockfiles[owner.lockfile] = load_lockfile(Path(owner.lockfile))
        except (LinkerError, OSError):
            lockfiles[owner.lockfile] = None
    lock = lockfiles[owner.lockfile]
    if lock is None:
        return UNKNOWN, "unreadable-lockfile"
    pinned = any(e.id == repo_id and e.type == repo_type and e.revision == raw for e in lock.entries)
    return (ALIVE, "pinned") if pinned else (ORPHANED, "not-pinned")


def _detached(label: str, repo: Path, protected: set[str]) -> list[Detached]:
    """The revisions of `repo` no ref names, with the bytes `hf cache prune` frees by deleting them: blobs (by
    real path) that no protected revision uses, each counted once."""
    try:
        revisions = sorted(e.name for e in os.scandir(repo / SNAPSHOTS) if e.is_dir(follow_symlinks=False))
    except OSError:
        return []
    blobs = {rev: _blobs(repo / SNAPSHOTS / rev) for rev in revisions}
    kept = {b for rev in revisions if rev in protected for b in blobs[rev]}
    out: list[Detached] = []
    counted: set[str] = set()
    for rev in revisions:
        if rev in protected:
            continue
        mine = {b: s for b, s in blobs[rev].items() if b not in kept and b not in counted}
        counted |= set(mine)
        out.append(Detached(label, repo.name, rev, sum(mine.values()), len(blobs[rev])))
    return out


def _blobs(snapshot: Path) -> dict[str, int]:
    """real path -> size of what each file of a snapshot resolves to (a dangling link counts nothing)."""
    out: dict[str, int] = {}
    for p in iter_files(snapshot):
        real = os.path.realpath(p)
        try:
            out[real] = os.stat(real).st_size
        except OSError:
            continue
    return out
