"""What a lock entry asks for, resolved against the global cache: the files, their blobs and where those live.

The file list comes from the first of: the lock's `files`, the global `trees/<sha>.json`, the global snapshot
folder. Each file's blob is found by following the global snapshot link, or by its locked name in `blobs/`.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..hfcache import (
    CacheRepo,
    TreeFile,
    blob_rel,
    compute_etag,
    etag_kind,
    is_lfs_path,
    link_etag,
    matches_patterns,
    snapshot_rel,
)
from ..lockfile import Entry


@dataclass(frozen=True)
class WantFile:
    path: str
    etag: str
    size: int
    source: str  # realpath of the blob's data in the global cache
    ident: tuple[int, int] | None = None  # (inode, device) of that data, when already known


@dataclass
class Want:
    entry: Entry
    global_repo: CacheRepo
    files: dict[str, WantFile] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # path -> why
    listing: str = "snapshot"  # where the file list came from: lock | tree | snapshot
    tree: Path | None = None  # the global trees/<sha>.json, when there is one
    tree_paths: frozenset[str] = frozenset()  # every file of the commit, as that listing gives them

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
        want.tree, want.tree_paths = g.tree(entry.revision), frozenset(tree)
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
    repo_real = os.path.realpath(g.path)  # once per repo; per file only readlink + lstat
    for path, known in sorted(expected.items()):
        found = _find_blob(repo_real, entry.revision, path, known)
        if isinstance(found, WantFile):
            want.files[path] = found
        else:
            want.missing[path] = found
    return want


def _resolve_file(path: str) -> tuple[str, os.stat_result] | None:
    """Follow links lexically from a path under a real directory (blob -> shared store) to the data file."""
    for _ in range(8):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISLNK(st.st_mode):
            return (path, st) if stat.S_ISREG(st.st_mode) else None
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None


def _find_blob(repo: str, revision: str, path: str, known: TreeFile | None) -> WantFile | str:
    """Locate one file's blob in the global repo folder `repo` (a real path), or say why it is not there."""
    pointer = f"{repo}/{snapshot_rel(revision, path)}"
    try:
        target: str | None = os.readlink(pointer)
    except FileNotFoundError:
        target = None
    except OSError:  # not a link: a cache written without symlinks, where the snapshot file is the blob
        if not os.path.isfile(pointer):
            return "not in the global cache"
        real = os.path.realpath(pointer)
        size = os.stat(real).st_size
        name = known.etag if known else compute_etag(real, is_lfs_path(path, size))
        return WantFile(path, name, size, real)
    if target is not None:
        etag = link_etag(target)
        if etag is None:
            return f"global snapshot file {path} is a link to {target}, not to a blob"
        if known is not None and known.etag != etag:
            return f"global snapshot links {path} to blob {etag[:12]}, the lock says {known.etag[:12]}"
        found = _resolve_file(os.path.normpath(os.path.join(os.path.dirname(pointer), target)))
        if found is None:
            return "blob missing from the global cache"
        real, st = found
        if known is not None and known.size != st.st_size:
            return f"global blob {etag[:12]} of {path} is {st.st_size} bytes, the lock says {known.size}"
        return WantFile(path, etag, st.st_size, real, (st.st_ino, st.st_dev))
    if known is not None:
        found = _resolve_file(f"{repo}/{blob_rel(known.etag)}")
        if found is None:
            return "not in the global cache"
        real, st = found
        return WantFile(path, known.etag, st.st_size, real, (st.st_ino, st.st_dev))
    return "not in the global cache"
