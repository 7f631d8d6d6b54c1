"""What a lock entry asks for, resolved against the global cache: the files, their blobs and where those live.

The file list comes from the first of: the lock's `files`, the global `trees/<sha>.json`, the global snapshot
folder. Each file's blob is found by following the global snapshot link, or by its locked name in `blobs/`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .hfcache import CacheRepo, TreeFile, compute_etag, etag_kind, is_lfs_path, matches_patterns
from .lockfile import Entry


@dataclass(frozen=True)
class WantFile:
    path: str
    etag: str
    size: int
    source: str  # realpath of the blob's data in the global cache


@dataclass
class Want:
    entry: Entry
    global_repo: CacheRepo
    files: dict[str, WantFile] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # path -> why
    listing: str = "snapshot"  # where the file list came from: lock | tree | snapshot
    tree: Path | None = None  # the global trees/<sha>.json, when there is one

    @property
    def state(self) -> str:
        if not self.missing:
            return "present"
        return "partial" if self.files else "missing"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())


def resolve_entry(entry: Entry, global_cache: Path) -> Want:
    g = CacheRepo(global_cache, entry.id, entry.type)
    want = Want(entry=entry, global_repo=g)
    expected: dict[str, TreeFile | None]
    tree = g.read_tree(entry.revision)
    if tree is not None:
        want.tree = g.tree(entry.revision)
    if entry.files is not None:
        want.listing = "lock"
        expected = {p: TreeFile(f.size, f.hash, etag_kind(f.hash) == "sha256") for p, f in entry.files.items()}
    elif tree is not None:
        want.listing = "tree"
        expected = {p: f for p, f in tree.items() if matches_patterns(p, list(entry.include), list(entry.exclude))}
    else:
        expected = {
            p: None
            for p, _ in g.snapshot_files(entry.revision)
            if matches_patterns(p, list(entry.include), list(entry.exclude))
        }
        if not expected:
            want.missing["*"] = "revision not in the global cache"
            return want
    for path, known in sorted(expected.items()):
        found = _find_blob(g, entry.revision, path, known)
        if isinstance(found, WantFile):
            want.files[path] = found
        else:
            want.missing[path] = found
    return want


def _find_blob(g: CacheRepo, revision: str, path: str, known: TreeFile | None) -> WantFile | str:
    """Locate one file's blob in the global cache, or say why it is not there."""
    pointer = g.snapshot_file(revision, path)
    etag = g.blob_of(revision, path)
    if etag is not None:
        if known is not None and known.etag != etag:
            return f"global snapshot links {path} to blob {etag[:12]}, the lock says {known.etag[:12]}"
        real = os.path.realpath(pointer)
        try:
            st = os.stat(real)
        except OSError:
            return "blob missing from the global cache"
        if known is not None and known.size != st.st_size:
            return f"global blob {etag[:12]} of {path} is {st.st_size} bytes, the lock says {known.size}"
        return WantFile(path, etag, st.st_size, real)
    if os.path.isfile(pointer) and not os.path.islink(pointer):
        # A cache written without symlinks: the snapshot file is the blob.
        real = os.path.realpath(pointer)
        size = os.stat(real).st_size
        name = known.etag if known else compute_etag(real, is_lfs_path(path, size))
        return WantFile(path, name, size, real)
    if known is not None:
        blob = g.blob(known.etag)
        try:
            real = os.path.realpath(blob)
            st = os.stat(real)
        except OSError:
            return "not in the global cache"
        return WantFile(path, known.etag, st.st_size, real)
    return "not in the global cache"
