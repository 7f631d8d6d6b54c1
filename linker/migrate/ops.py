"""The operations of one migrate plan item: a blob op per (etag, source file), snapshot links, refs, the guard ref
that keeps a migrated revision from `hf cache prune`, and the lock entry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..hfcache import REFS, SHA40, CacheRepo, migrate_guard_ref, read_ref, snapshot_link_target
from .plandata import COPY, HARDLINK, MOVE, OP_DEDUPE, BlobOp, GuardOp, Item, LinkOp, RefOp
from .remote import Remote
from .units import SourceFile


def dev_of(path: Path) -> int | None:
    cur = path
    while True:
        try:
            return os.stat(cur).st_dev
        except OSError:
            if cur.parent == cur:
                return None
            cur = cur.parent


class BlobOps:
    """Blob operations of one item, one per (etag, source file)."""

    def __init__(self, repo: CacheRepo, mode: str) -> None:
        self.repo, self.mode = repo, mode
        self.ops: dict[str, BlobOp] = {}  # etag -> the op that creates the blob
        self.extra: list[BlobOp] = []  # further sources of an etag already planned
        self.by_src: dict[str, BlobOp] = {}
        self.gdev = dev_of(repo.path)

    def add(self, f: SourceFile, etag: str, *, leave_link: Path | None = None) -> BlobOp | None:
        src = str(f.abspath)
        if src in self.by_src:  # the same bytes under several names (an alias link, a blob shared by snapshots)
            op = self.by_src[src]
            if f.alias is not None and str(f.alias) not in op.aliases:
                op.aliases.append(str(f.alias))
            return op
        dst = self.repo.blob(etag)
        if os.path.realpath(src) == os.path.realpath(dst):
            return None  # the blob itself (an hf-cache merged in place)
        remove = self.mode == MOVE and not f.shared
        if etag in self.ops or os.path.lexists(dst):
            op_kind = OP_DEDUPE  # created earlier in this run, or already in the global cache
        elif f.shared:
            op_kind = HARDLINK if self.mode != COPY else COPY  # a shared-store payload is never moved
        else:
            op_kind = self.mode
        op = BlobOp(
            etag=etag, size=f.size, src=src, dst=str(dst), lock=str(self.repo.lock_path(etag)), op=op_kind,
            ident=list(f.ident), remove_src=remove and op_kind in (MOVE, OP_DEDUPE),
            cross_device=op_kind == MOVE and dev_of(f.abspath) != self.gdev,
            leave_link=str(leave_link) if leave_link and self.mode == MOVE else "",
            sidecars=[str(s) for s in f.sidecars] if remove else [],
            aliases=[str(f.alias)] if f.alias is not None and remove else [],
        )  # fmt: skip
        if op_kind == OP_DEDUPE:
            self.extra.append(op)
        else:
            self.ops[etag] = op
        self.by_src[src] = op
        return op

    def all(self) -> list[BlobOp]:
        return list(self.ops.values()) + self.extra


def add_link_ops(repo: CacheRepo, revision: str, etags: dict[str, str], item: Item) -> None:
    for path, etag in sorted(etags.items()):
        p = repo.snapshot_file(revision, path)
        target = snapshot_link_target(path, etag)
        marker = repo.no_exist(revision, path)
        if os.path.isfile(marker) and not os.path.islink(marker):
            item.unmark.append(str(marker))
        try:
            current = os.readlink(p)
        except OSError:
            if os.path.lexists(p):
                item.notes.append(f"{p} is a real file in the global cache; left as is")
                continue
            item.links.append(LinkOp(str(p), target))
            continue
        if current == target:
            continue
        if current.rsplit("/", 1)[-1] == etag:
            continue  # same blob, another link form (repair rewrites those)
        item.notes.append(f"{p} already links to another blob ({current.rsplit('/', 1)[-1][:12]}); left as is")


def add_ref_ops(
    repo: CacheRepo, revision: str, wanted: list[tuple[str, bool]], item: Item, remote: Remote | None
) -> None:
    for name, forced in wanted:
        path = repo.ref(name)
        current = read_ref(path)
        cur = current.strip() if current is not None else None
        if current == revision:
            continue
        if cur is None or cur == revision:
            item.refs.append(RefOp(str(path), revision, "the cache had no such ref" if cur is None else "normalised"))
        elif forced:
            item.refs.append(RefOp(str(path), revision, f"the Hub's {name} is this commit (was {cur[:12]})"))
        elif (
            remote is not None
            and SHA40.fullmatch(cur)
            and remote.is_ahead(item.repo_id, item.repo_type, name, revision, cur)
        ):
            item.refs.append(RefOp(str(path), revision, f"moves {name} forward from {cur[:12]} (Hub history)"))
        else:
            item.notes.append(
                f"kept the global refs/{name} = {cur[:12]}: not moving a branch backwards to {revision[:12]}"
            )


def add_guard(repo: CacheRepo, revision: str, item: Item) -> None:
    if item.blobs or item.links:
        ref = repo.ref(guard_ref_name(revision))
        item.guards.append(GuardOp(str(ref), str(repo.snapshot(revision)), revision, str(repo.path / REFS)))


def guard_ref_name(revision: str) -> str:
    """The ref that keeps a migrated revision from `hf cache prune` (also a local revision's only ref)."""
    return migrate_guard_ref(revision)


def lock_entry(
    repo_id: str, repo_type: str, revision: str, local: bool, files: dict[str, dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The lock entry: the pin, `local: true` for a local revision, and the file list when the whole commit
    was migrated (else none: a `files` map of an older pin must go)."""
    entry: dict[str, Any] = {"id": repo_id, "revision": revision, "local": local, "files": files}
    if repo_type != "model":
        entry["type"] = repo_type
    return entry
