"""The migrate plan as plain data (what `build_plan` returns, the executor applies and the journal stores as
JSON): blob, link, ref, tree and guard operations per repo, and the typed kinds of problems and operations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..lockfile import repo_label
from ..problems import Problem

MOVE, COPY, HARDLINK = "move", "copy", "hardlink"
MODES = (MOVE, COPY, HARDLINK)
# Blob operations.
OP_DEDUPE = "dedupe"  # the global cache already has this blob: verify it, then drop the source copy (move mode)
# Problem kinds.
UNSAFE = "unsafe-source"
INCOMPLETE = "incomplete"
CORRUPT = "corrupt"
UNRESOLVED = "unresolved"
NOT_A_MODEL = "not-a-model"  # source code or a project marker next to the model files


@dataclass
class BlobOp:
    """Put one blob in the global cache from a source file."""

    etag: str
    size: int
    src: str  # a regular file with the bytes
    dst: str  # <global>/<repo>/blobs/<etag>
    lock: str  # huggingface_hub's lock for that blob
    op: str  # move | copy | hardlink | dedupe
    ident: list[int] = field(default_factory=list)  # st_dev, st_ino, st_size, st_mtime_ns when hashed
    remove_src: bool = False  # drop the source once the blob is in place and verified
    cross_device: bool = False
    leave_link: str = ""  # hf-cache: the old repo blob path, turned into a link to dst
    sidecars: list[str] = field(default_factory=list)  # bookkeeping removed once the source is gone
    aliases: list[str] = field(default_factory=list)  # symlinks in the source that named it, removed likewise


@dataclass
class LinkOp:
    path: str  # a snapshot entry
    target: str  # relative `../../blobs/<etag>`


@dataclass
class RefOp:
    path: str
    revision: str
    reason: str


@dataclass
class TreeOp:
    path: str
    content: str


@dataclass
class GuardOp:
    """A ref written before the first byte of a revision moves, so that `hf cache prune` never deletes a partly
    migrated snapshot (it needs the snapshot folder, made first). Kept after the run unless another ref names the
    revision then."""

    ref: str
    snapshot: str
    revision: str
    refs: str  # the repo's refs folder: any other ref in it that names the revision protects it as well


@dataclass
class Item:
    """One repo migrated into the global cache."""

    kind: str
    source: str
    repo_id: str
    repo_type: str
    revisions: list[str]
    reason: str  # why this revision
    local: bool = False
    id_reason: str = ""
    files: int = 0
    size: int = 0
    blobs: list[BlobOp] = field(default_factory=list)
    links: list[LinkOp] = field(default_factory=list)  # in the global cache
    relinks: list[LinkOp] = field(default_factory=list)  # in the old place (hf-cache: it becomes a view)
    refs: list[RefOp] = field(default_factory=list)
    trees: list[TreeOp] = field(default_factory=list)
    guards: list[GuardOp] = field(default_factory=list)
    prune: list[str] = field(default_factory=list)  # source folders whose empty directories are removed
    prune_stop: str = ""  # ... and their empty parents, up to (not including) this SRC folder
    cleanup: list[str] = field(default_factory=list)  # bookkeeping removed once every file of the item moved
    unmark: list[str] = field(default_factory=list)  # `.no_exist` markers that would shadow files now present
    notes: list[str] = field(default_factory=list)
    lock_entry: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        return repo_label(self.repo_id, self.repo_type)

    def bytes_by_op(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for b in self.blobs:
            key = "copy" if b.op == MOVE and b.cross_device else b.op
            out[key] = out.get(key, 0) + b.size
        return out


@dataclass
class MigratePlan:
    global_cache: str
    mode: str
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    lock_path: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MigratePlan:
        items = []
        for it in data.get("items", []):
            it = dict(it)
            it["blobs"] = [BlobOp(**b) for b in it.get("blobs", [])]
            it["links"] = [LinkOp(**x) for x in it.get("links", [])]
            it["relinks"] = [LinkOp(**x) for x in it.get("relinks", [])]
            it["refs"] = [RefOp(**x) for x in it.get("refs", [])]
            it["trees"] = [TreeOp(**x) for x in it.get("trees", [])]
            it["guards"] = [GuardOp(**x) for x in it.get("guards", [])]
            items.append(Item(**it))
        return cls(
            global_cache=data["global_cache"],
            mode=data["mode"],
            items=items,
            problems=[Problem(**p) for p in data.get("problems", [])],
            notices=list(data.get("notices", [])),
            lock_path=data.get("lock_path", ""),
        )

    @property
    def total_bytes(self) -> int:
        return sum(b.size for it in self.items for b in it.blobs)
