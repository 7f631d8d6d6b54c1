"""The recorded lookups per repo, and what the lock lacks to serve them (`record`'s report, `run --strict`'s misses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from ..hfcache import matches_patterns
from ..lockfile import Entry, Lockfile, repo_label
from . import ABSENT, FOUND, INFO, MISSING, Lookup

# Why the lock does not cover a repo (Gap.kind).
NEW_REPO: Final = "new-repo"  # no entry for it
OTHER_REVISION: Final = "other-revision"  # the code loaded another commit than the pin
LEFT_OUT: Final = "left-out"  # a loaded file the entry's include/exclude (or its files map) leaves out
ABSENT_UNRECORDED: Final = "absent-unrecorded"  # a probe for a file absent upstream, not in the entry's `absent`
FAILED: Final = "failed"  # a lookup that raised (not found offline, Hub error)


@dataclass
class RepoUse:
    """Everything the program asked of one repo."""

    id: str
    type: str
    asked: set[str] = field(default_factory=set)  # revisions as asked ("main" for the default)
    commits: set[str] = field(default_factory=set)
    loaded: set[str] = field(default_factory=set)
    absent: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)  # path ("" for the repo) -> error

    @property
    def label(self) -> str:
        return repo_label(self.id, self.type)

    @property
    def commit(self) -> str | None:
        """The one commit loaded (None when unknown or when several were)."""
        return next(iter(self.commits)) if len(self.commits) == 1 else None

    def to_json(self) -> dict[str, Any]:
        return {
            "repo": self.label,
            "id": self.id,
            "type": self.type,
            "revisions_asked": sorted(self.asked),
            "commits": sorted(self.commits),
            "loaded": sorted(self.loaded),
            "absent": sorted(self.absent - self.loaded),
            "failed": dict(sorted(self.failed.items())),
        }


@dataclass(frozen=True)
class Gap:
    """One thing the lock lacks for what the program did."""

    kind: str
    repo: str
    path: str = ""
    detail: str = ""

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "repo": self.repo, "path": self.path, "detail": self.detail}


def group(lookups: list[Lookup]) -> list[RepoUse]:
    """The lookups per repo, in the order the program first asked for each."""
    repos: dict[tuple[str, str], RepoUse] = {}
    for lk in lookups:
        use = repos.setdefault((lk.repo_type, lk.repo_id), RepoUse(lk.repo_id, lk.repo_type))
        if lk.status == INFO:
            continue  # model_info answers a question about the repo: it loads no file
        use.asked.add(lk.revision or "main")
        if lk.commit:
            use.commits.add(lk.commit)
        if lk.status == FOUND:
            if lk.path:
                use.loaded.add(lk.path)
            use.loaded.update(lk.files)
        elif lk.status == ABSENT and lk.path:
            use.absent.add(lk.path)
        elif lk.status == MISSING:
            use.failed[lk.path or ""] = lk.error or "failed"
    for use in repos.values():
        for p in use.loaded:
            use.failed.pop(p, None)  # a later attempt found it
        for p in use.absent:
            use.failed.pop(p, None)
    return [u for u in repos.values() if u.asked]


def gaps(lock: Lockfile | None, uses: list[RepoUse]) -> list[Gap]:
    """What the lock does not cover of `uses` (empty: the lock serves all of it)."""
    out: list[Gap] = []
    for use in uses:
        entry = lock.find(use.id, use.type) if lock is not None else None
        out += [Gap(FAILED, use.label, p, why) for p, why in sorted(use.failed.items())]
        if entry is None:
            out.append(Gap(NEW_REPO, use.label, detail="no entry in the lock"))
            continue
        other = sorted(c for c in use.commits if c != entry.revision)
        if other:
            pin = entry.revision[:12] or entry.wants
            loaded = ", ".join(c[:12] for c in other)
            out.append(Gap(OTHER_REVISION, use.label, detail=f"loaded {loaded}, the lock pins {pin}"))
        left_out = [p for p in sorted(use.loaded) if not covers(entry, p)]
        out += [Gap(LEFT_OUT, use.label, p, "include/exclude (or `files`) leave it out") for p in left_out]
        unrecorded = [p for p in sorted(use.absent - use.loaded) if p not in entry.absent]
        out += [
            Gap(ABSENT_UNRECORDED, use.label, p, "absent upstream; not in the entry's `absent`") for p in unrecorded
        ]
    return out


def covers(entry: Entry, path: str) -> bool:
    """The entry's view serves `path`: include/exclude select it (and its `files` map, when written, has it)."""
    if not matches_patterns(path, list(entry.include), list(entry.exclude)):
        return False
    return entry.files is None or path in entry.files


def strict_misses(lock: Lockfile, lookups: list[Lookup]) -> list[tuple[str, str]]:
    """(repo label, path) for each lookup the view could not serve, in order, once each: a lookup that failed, or
    a file served that the lock does not cover. Absent probes answered by `.no_exist` markers are not misses."""
    out: list[tuple[str, str]] = []
    for lk in lookups:
        label = repo_label(lk.repo_id, lk.repo_type)
        entry = lock.find(lk.repo_id, lk.repo_type)
        if lk.status == MISSING or (lk.status == FOUND and (entry is None or (lk.path and not covers(entry, lk.path)))):
            miss = (label, lk.path or "")
        else:
            continue
        if miss not in out:
            out.append(miss)
    return out
