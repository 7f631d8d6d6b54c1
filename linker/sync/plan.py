"""Sync's vocabulary: what `linker sync` will do, as plain data computed before anything is touched.

`compute_plan` turns (lockfile, disk) into a `SyncPlan`; the command prints it, stops there on `--dry-run`, and
otherwise hands it to the executor (sync/apply.py). Actions are small and each one is idempotent, so a plan can
be re-applied after a crash. What a plan cannot fix by itself is a `problems.Problem`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from ..hfcache import repo_folder_name
from ..lockfile import Entry
from ..problems import Problem
from ..projects import Owner
from .desired import Want
from .manifest import Manifest, RepoRecord

ActionKind = Literal[
    "fetch", "move-aside", "blob", "link", "tree", "ref", "no-exist", "global-ref", "remove", "remove-global-ref"
]  # fmt: skip
# Action kinds, in the order an executor applies them.
FETCH: Final = "fetch"  # download missing files of a revision into the global cache
MOVE_ASIDE: Final = "move-aside"  # --force: a file linker did not create, moved to a quarantine name in the view
BLOB: Final = "blob"  # view blobs/<etag> -> the global blob (symlink, hardlink or copy)
LINK: Final = "link"  # view snapshots/<rev>/<path> -> ../../blobs/<etag>
TREE: Final = "tree"  # view trees/<rev>.json copied from the global cache
REF: Final = "ref"  # view refs/<name> = revision
NO_EXIST: Final = (
    "no-exist"  # view .no_exist/<rev>/<path>: a file the entry lists as `absent` (huggingface_hub's marker)
)
GLOBAL_REF: Final = "global-ref"  # the project's ref in the global cache = revision
REMOVE: Final = "remove"  # a view path linker created and no longer needs
REMOVE_GLOBAL_REF: Final = "remove-global-ref"
ORDER: tuple[ActionKind, ...] = (
    FETCH, MOVE_ASIDE, BLOB, LINK, TREE, REF, NO_EXIST, GLOBAL_REF, REMOVE, REMOVE_GLOBAL_REF
)  # fmt: skip


@dataclass(frozen=True)
class Action:
    kind: ActionKind
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
        if self.kind == NO_EXIST:
            return f"mark {self.folder}/{self.path} (absent upstream)"
        if self.kind == TREE:
            return f"copy {self.folder}/{self.path}"
        if self.kind == FETCH:
            return f"fetch {self.repo}@{self.target[:12]} ({self.reason})"
        if self.kind == MOVE_ASIDE:
            return f"move {self.folder}/{self.path} aside to {self.folder}/{self.target} ({self.reason})"
        if self.kind == REMOVE_GLOBAL_REF:
            return f"remove {self.path}"
        return f"remove {self.folder}/{self.path}" + (f" ({self.reason})" if self.reason else "")


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
    served: str = ""  # which cache serves it: shared:<tier> | global | split | view | "" (nothing linked)


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


@dataclass
class EntryPlan:
    """The plan for one entry, plus the record the manifest will hold once it is applied."""

    entry: Entry
    record: RepoRecord
    want: Want | None  # None when the fast path proved the entry in sync
    refresh: bool = False  # proved file by file: its directory stamps are stale and worth rewriting

    @property
    def record_folder(self) -> str:
        return repo_folder_name(self.entry.id, self.entry.type)


@dataclass
class SyncPlan:
    """One sync plan: what to do (`plan`), the manifest it was computed against and the records it will leave
    there (`entry_plans`), and the link mode in effect."""

    plan: Plan
    entry_plans: list[EntryPlan]
    manifest: Manifest
    link_mode: str
    global_cache: str | None = None  # recorded in the manifest: the global cache the view is synced from
    lock_link_mode: str | None = None  # the lockfile's `link_mode`, recorded with the mode in effect
    owner: Owner | None = None  # recorded in the global cache before the project's refs are written

    def linked_here(self) -> set[str]:
        """The view repo folders whose directory stamps prove them unchanged since a sync from this plan's global
        cache (fast path, not re-stamped): their links lead there, no need to look."""
        if self.manifest.global_cache != self.global_cache:
            return set()
        return {ep.record_folder for ep in self.entry_plans if ep.want is None and not ep.refresh}

    def records_current(self) -> bool:
        """Whether the manifest already records this plan's global cache and link mode."""
        m = self.manifest
        return (m.global_cache, m.link_mode, m.lock_link_mode) == (
            self.global_cache, self.link_mode, self.lock_link_mode
        )  # fmt: skip
