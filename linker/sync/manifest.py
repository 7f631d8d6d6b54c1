"""The view's manifest: what linker created in the view, and how it looked when it was last in sync.

It lives at `<view>/.locks/linker-manifest.json`: `.locks/` is the one top-level name of a cache dir that
`scan_cache_dir` skips. It serves two purposes:

* ownership: sync deletes only paths listed here (what linker created);
* a fast path: an entry whose spec is unchanged and whose files still stat to the recorded inodes is in sync,
  which costs one `stat` per file.

Before applying a plan the manifest is written with the union of old and planned paths (an intent record), so
a crash never leaves linker-created files that a later run would refuse to remove as foreign.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..hashcheck import VerifiedBlobs
from ..hfcache import manifest_path, snapshot_rel
from ..lockfile import Entry

MANIFEST_VERSION = 2


@dataclass
class RepoRecord:
    """What linker made for one repo folder of the view."""

    id: str
    type: str
    revision: str = ""
    ref: str = ""
    spec: str = ""  # digest of the entry, link mode and global cache it was synced from
    in_sync: bool = False  # the last sync completed this entry with nothing missing
    proven: bool = False  # ... from a file list of the lock's `files` or a trees/ listing (see sync/writers.py)
    global_ref: str | None = None  # path of the project ref written in the global cache
    files: int = 0  # number of pinned files linked, and their total size (for reports on the fast path)
    size: int = 0
    # view path (relative to the repo folder) -> [ino, dev, size] of what it resolves to, or None
    paths: dict[str, list[int] | None] = field(default_factory=dict)
    # directory -> st_mtime_ns when the record was written: the view's dirs (relative to the repo folder) and the
    # global dirs holding its blobs and project ref (absolute). Creating, deleting or replacing an entry changes
    # its directory's mtime and symlinks cannot change in place, so unchanged dirs prove the links unchanged.
    dirs: dict[str, int] = field(default_factory=dict)
    served: str = ""  # which cache serves it (`shared:<tier>`, `global`, `split`...: sync/desired.py Want.served)
    shared: list[str] = field(default_factory=list)  # the shared read-only tiers serving some of its files

    def to_json(self) -> dict[str, Any]:
        """Paths of the pinned snapshot are stored without their `snapshots/<rev>/` prefix (half the bytes)."""
        prefix = snapshot_rel(self.revision) + "/"
        snap = {k[len(prefix) :]: v for k, v in self.paths.items() if k.startswith(prefix)}
        other = {k: v for k, v in self.paths.items() if not k.startswith(prefix)}
        fields = {k: v for k, v in self.__dict__.items() if k != "paths" and (v or k not in _OPTIONAL)}
        return {**fields, "snap": snap, "other": other}

    def snapshot_sizes(self) -> dict[str, int | None]:
        """The files of the recorded revision this record linked, with the size each resolved to (if known)."""
        prefix = snapshot_rel(self.revision) + "/"
        n = len(prefix)
        return {rel[n:]: ident[2] if ident else None for rel, ident in self.paths.items() if rel.startswith(prefix)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RepoRecord:
        rec = cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data and k != "paths"})
        prefix = snapshot_rel(rec.revision) + "/"
        rec.paths = {prefix + k: v for k, v in data.get("snap", {}).items()}
        rec.paths.update(data.get("other", {}))
        return rec


_OPTIONAL = frozenset({"served", "shared"})  # left out of the file when empty (most views use no shared tier)


@dataclass
class Manifest:
    view: Path
    repos: dict[str, RepoRecord] = field(default_factory=dict)  # repo folder name -> record
    stamp_ns: int = 0  # the manifest file's own mtime: dir stamps at or after it are "racy" (as in git's index)
    global_cache: str | None = None  # the global cache the view was last synced from (absolute)
    link_mode: str | None = None  # the link mode it was last synced with: symlink | hardlink | copy
    lock_link_mode: str | None = None  # the lockfile's `link_mode` then (an edit of it is an explicit change)
    verified: VerifiedBlobs = field(default_factory=VerifiedBlobs)  # blobs whose bytes were hashed and matched


def load_manifest(view: Path) -> Manifest:
    path = manifest_path(view)
    try:
        with open(path, "rb", opener=_open_regular) as f:  # never blocks on a FIFO put in its place
            stamp = os.fstat(f.fileno()).st_mtime_ns
            data = json.loads(f.read())
        if data.get("version") != MANIFEST_VERSION:
            return Manifest(view)
        repos = {name: RepoRecord.from_json(rec) for name, rec in data.get("repos", {}).items()}
        return Manifest(
            view,
            repos,
            stamp,
            global_cache=_str(data.get("global_cache")),
            link_mode=_str(data.get("link_mode")),
            lock_link_mode=_str(data.get("lock_link_mode")),
            verified=VerifiedBlobs.from_json(data.get("verified")),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return Manifest(view)


def _open_regular(path: str, flags: int) -> int:
    """An `opener` that refuses (OSError) anything but a regular file, opening it non-blocking first."""
    fd = os.open(path, flags | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise IsADirectoryError(path)
    os.set_blocking(fd, True)
    return fd


def save_manifest(manifest: Manifest) -> None:
    data: dict[str, Any] = {"version": MANIFEST_VERSION}
    for key in ("global_cache", "link_mode", "lock_link_mode"):
        if getattr(manifest, key):
            data[key] = getattr(manifest, key)
    data["repos"] = {name: rec.to_json() for name, rec in sorted(manifest.repos.items())}
    if manifest.verified.data:
        data["verified"] = manifest.verified.data
    atomic_write_text(manifest_path(manifest.view), json.dumps(data, separators=(",", ":")))


def recorded_global_cache(view: Path) -> Path | None:
    """The global cache the view's manifest says it was last synced from, if any."""
    recorded = load_manifest(view).global_cache
    return Path(recorded) if recorded and os.path.isabs(recorded) else None


def spec_digest(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def entry_spec(entry: Entry, link_mode: str, global_cache: Path, tiers: Sequence[Path] = ()) -> str:
    """The digest a record keeps of what it was synced from: the entry, the link mode and the global cache (not
    for a copy, which depends on no global cache: a copy view moved to another machine is still in sync), and the
    shared tiers consulted, when any (a changed LINKER_SHARED_CACHES plans again)."""
    shared = [str(t) for t in tiers] if link_mode != "copy" else []
    key: tuple[object, ...] | None = None
    if entry.files is None:  # hashable: remembered, as the policy check and the planner both ask
        key = (entry.id, entry.type, entry.revision, entry.ref, entry.include, entry.exclude, entry.absent,
               link_mode, str(global_cache), tuple(shared))  # fmt: skip
        try:
            if key in _SPECS:
                return _SPECS[key]
        except TypeError:  # patterns given as a list
            key = None
    files = {p: (f.size, f.hash) for p, f in entry.files.items()} if entry.files is not None else None
    digest = spec_digest(
        entry.id, entry.type, entry.revision, entry.ref, entry.include, entry.exclude, files,
        link_mode, str(global_cache) if link_mode != "copy" else "", *((entry.absent,) if entry.absent else ()),
        *((shared,) if shared else ()),
    )  # fmt: skip
    if key is not None:
        if len(_SPECS) > 100_000:
            _SPECS.clear()
        _SPECS[key] = digest
    return digest


_SPECS: dict[tuple[object, ...], str] = {}


def record_matches(
    entry: Entry, rec: RepoRecord | None, global_cache: Path, tiers: Sequence[Path] = (), first: str | None = None
) -> bool:
    """Whether the record is of a complete sync of exactly this entry (revision, ref, patterns, locked files,
    global cache, shared `tiers` as sync consulted them), in any link mode (`first`: the likely one, tried first),
    from a proven file list."""
    if rec is None or not rec.in_sync or not rec.proven or rec.revision != entry.revision:
        return False
    modes: tuple[str, ...] = ("symlink", "hardlink", "copy")
    if first in modes:
        modes = (first, *(m for m in modes if m != first))
    return any(entry_spec(entry, m, global_cache, tiers if m == "symlink" else ()) == rec.spec for m in modes)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
