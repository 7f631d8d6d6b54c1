"""Plans are plain data: what a command will do, computed before anything is touched.

A command turns (lockfile, disk) into a `Plan`, prints it, stops there on `--dry-run`, and otherwise hands it
to an executor. Actions are small and each one is idempotent, so a plan can be re-applied after a crash.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Action kinds, in the order an executor applies them.
FETCH = "fetch"  # download missing files of a revision into the global cache
MOVE_ASIDE = "move-aside"  # --force: a file linker did not create, moved to a quarantine name in the view
BLOB = "blob"  # view blobs/<etag> -> the global blob (symlink, hardlink or copy)
LINK = "link"  # view snapshots/<rev>/<path> -> ../../blobs/<etag>
TREE = "tree"  # view trees/<rev>.json copied from the global cache
REF = "ref"  # view refs/<name> = revision
GLOBAL_REF = "global-ref"  # the project's ref in the global cache = revision
REMOVE = "remove"  # a view path linker created and no longer needs
REMOVE_GLOBAL_REF = "remove-global-ref"
ORDER = (FETCH, MOVE_ASIDE, BLOB, LINK, TREE, REF, GLOBAL_REF, REMOVE, REMOVE_GLOBAL_REF)

# Problem kinds: what a plan cannot fix by itself.
MISSING = "missing"  # not in the global cache and not fetched (offline)
CONFLICT = "conflict"  # a path linker did not create is in the way (--force overrides)
MISMATCH = "mismatch"  # the global cache holds a different blob than the lock says


@dataclass(frozen=True)
class Action:
    kind: str
    repo: str  # the entry label, e.g. org/name
    folder: str  # the repo folder, e.g. models--org--name
    path: str = ""  # relative to the repo folder in the view (absolute for global refs)
    target: str = ""  # link target, source file or revision
    mode: str = ""  # link mode, for BLOB
    size: int = 0
    reason: str = ""

    def describe(self) -> str:
        if self.kind == BLOB:
            return f"{self.mode} {self.folder}/{self.path} -> {self.target}"
        if self.kind == LINK:
            return f"link {self.folder}/{self.path} -> {self.target}"
        if self.kind in (REF, GLOBAL_REF):
            where = self.path if self.kind == GLOBAL_REF else f"{self.folder}/{self.path}"
            return f"write {where} = {self.target}"
        if self.kind == TREE:
            return f"copy {self.folder}/{self.path}"
        if self.kind == FETCH:
            return f"fetch {self.repo}@{self.target[:12]} ({self.reason})"
        if self.kind == MOVE_ASIDE:
            return f"move {self.folder}/{self.path} aside to {self.folder}/{self.target} ({self.reason})"
        if self.kind == REMOVE_GLOBAL_REF:
            return f"remove {self.path}"
        return f"remove {self.folder}/{self.path}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class Problem:
    kind: str
    repo: str
    path: str = ""
    detail: str = ""
    fix: str = ""  # the command that fixes it

    def describe(self) -> str:
        where = f"{self.repo}: {self.path}: " if self.path else f"{self.repo}: "
        return where + self.detail + (f"\n    fix: {self.fix}" if self.fix else "")


@dataclass
class EntryReport:
    """One row of `linker status` and of the sync summary."""

    repo: str
    type: str
    revision: str
    ref: str
    state: str  # linked | missing | partial | broken | stale | not-in-lock
    files: int = 0
    size: int = 0
    detail: str = ""


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    entries: list[EntryReport] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.actions

    def ordered(self) -> list[Action]:
        rank = {k: i for i, k in enumerate(ORDER)}
        return sorted(self.actions, key=lambda a: rank[a.kind])

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": [asdict(a) for a in self.ordered()],
            "problems": [asdict(p) for p in self.problems],
            "entries": [asdict(e) for e in self.entries],
            "notices": self.notices,
        }
