"""The one check of blob bytes against their expected hash, for sync (downloads, `--verify-hashes`), `verify --full`
and `repair`; the memory of blobs verified before; quarantining a blob that fails.

A blob's expected hash is its name (sha256 for LFS files, the git blob sha1 otherwise), which sync has already
matched against the lock's `files`. A blob verified once is remembered in the view's manifest by (device, inode)
with its size and mtime_ns: while those stat the same, it is not hashed again (`rehash` ignores the memory).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from .fsutil import fsync_dir
from .hashpool import Digest, hash_many
from .hfcache import etag_kind, quarantine_path

#: where bytes came from, for the mismatch line: the Hub endpoint of a download, else this
FROM_CACHE: Final = "the global cache"


@dataclass(frozen=True)
class BlobToCheck:
    key: Hashable
    path: str  # the file to hash (links followed)
    expected: str  # its blob name: 64 hex (sha256) or 40 hex (git sha1)


@dataclass(frozen=True)
class HashMismatch:
    """A pinned file whose bytes do not hash to what the lock (or the blob's name) says."""

    repo: str
    path: str
    expected: str
    actual: str  # "" when the file could not be read
    source: str  # the endpoint it was downloaded from, or FROM_CACHE
    quarantined: str = ""  # where the bad blob was moved aside ("" when it was not)
    kind: Literal["hash-mismatch"] = "hash-mismatch"

    def line(self) -> str:
        actual = self.actual or "unreadable"
        return f"{self.repo}: {self.path}: expected {self.expected}, got {actual} (from {self.source})"

    def to_json(self) -> dict[str, str]:
        return dict(self.__dict__)


class VerifiedBlobs:
    """Blobs whose bytes were verified: "dev:ino" -> [size, mtime_ns, hash]. Kept in the view's manifest."""

    def __init__(self, data: dict[str, list[Any]] | None = None) -> None:
        self.data: dict[str, list[Any]] = dict(data or {})
        self.changed = False

    @staticmethod
    def key(st: os.stat_result) -> str:
        return f"{st.st_dev}:{st.st_ino}"

    def knows(self, st: os.stat_result, expected: str) -> bool:
        return self.data.get(self.key(st)) == [st.st_size, st.st_mtime_ns, expected]

    def remember(self, st: os.stat_result, expected: str) -> None:
        value = [st.st_size, st.st_mtime_ns, expected]
        if self.data.get(self.key(st)) != value:
            self.data[self.key(st)] = value
            self.changed = True

    def forget(self, st: os.stat_result) -> None:
        if self.data.pop(self.key(st), None) is not None:
            self.changed = True

    def retain(self, keys: set[str]) -> None:
        """Forget every blob but `keys` (those a run covering the whole lock saw): the memory stays the lock's size."""
        stale = [k for k in self.data if k not in keys]
        for k in stale:
            del self.data[k]
        self.changed = self.changed or bool(stale)

    @classmethod
    def from_json(cls, value: Any) -> VerifiedBlobs:
        if not isinstance(value, dict):
            return cls()
        return cls({k: v for k, v in value.items() if isinstance(v, list) and len(v) == 3})


@dataclass
class HashRun:
    """What one check found: key -> None (the bytes match), the actual hash, or the OSError reading raised."""

    bad: dict[Hashable, str | OSError] = field(default_factory=dict)
    digests: dict[Hashable, Digest] = field(default_factory=dict)
    hashed_files: int = 0
    hashed_bytes: int = 0
    remembered: int = 0  # skipped: verified before and unchanged since
    seen: set[str] = field(default_factory=set)  # the memory keys ("dev:ino") of every file stat'ed


def actual_hash(digest: Digest, expected: str) -> str:
    return (digest.sha256 if etag_kind(expected) == "sha256" else digest.sha1) or ""


def check_blobs(
    items: Iterable[BlobToCheck],
    memory: VerifiedBlobs | None = None,
    *,
    rehash: bool = False,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> HashRun:
    """Hash each item (in parallel, streaming: linker/hashpool.py) unless `memory` knows it unchanged; record in
    `memory` each that matches and forget each that does not."""
    run = HashRun()
    todo: list[tuple[BlobToCheck, os.stat_result]] = []
    for item in items:
        try:
            st = os.stat(item.path)
        except OSError as exc:
            run.bad[item.key] = exc
            continue
        run.seen.add(VerifiedBlobs.key(st))
        if memory is not None and not rehash and memory.knows(st, item.expected):
            run.remembered += 1
        else:
            todo.append((item, st))
    results = hash_many(
        ((n, item.path, etag_kind(item.expected) or "sha256") for n, (item, _st) in enumerate(todo)),
        workers=workers,
        on_bytes=on_bytes,
    )
    for n, (item, st) in enumerate(todo):
        got = results[n]
        if isinstance(got, OSError):
            run.bad[item.key] = got
            continue
        run.hashed_files += 1
        run.hashed_bytes += got.size
        run.digests[item.key] = got
        actual = actual_hash(got, item.expected)
        if actual == item.expected:
            if memory is not None:
                memory.remember(st, item.expected)
        else:
            run.bad[item.key] = actual
            if memory is not None:
                memory.forget(st)
    return run


def utc_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def quarantine(path: str, etag: str, stamp: str | None = None) -> str:
    """Move the file at `path` (a `blobs/<etag>` name, links followed) aside to `<etag>.<stamp>.linker-quarantine`
    in the same `blobs/` folder: renamed, never copied nor deleted. Returns where it went ("" when it is gone)."""
    real = os.path.realpath(path)
    repo = Path(real).parent.parent
    dest = quarantine_path(repo, etag, stamp or utc_stamp())
    n = 0
    while os.path.lexists(dest):  # a second bad copy in the same second
        n += 1
        dest = quarantine_path(repo, etag, f"{stamp or utc_stamp()}-{n}")
    try:
        os.rename(real, dest)
    except FileNotFoundError:
        return ""
    fsync_dir(dest.parent)
    return str(dest)
