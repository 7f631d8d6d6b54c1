"""Hash many files in parallel, streaming, with bounded memory.

hashlib releases the GIL while it digests large buffers, so a thread per core hashes on every core. Each worker
reads 1 MiB at a time into one reused buffer: memory does not grow with file size. `kind` is "sha256" (LFS blob
names), "sha1" (git blob ids, `sha1(b"blob <size>\\0" + content)`) or "both" (one read, both digests).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Digest:
    size: int
    sha256: str | None = None
    sha1: str | None = None  # git blob id

    def etag(self, lfs: bool) -> str:
        value = self.sha256 if lfs else self.sha1
        if value is None:
            raise ValueError("digest of the other kind")
        return value


def hash_file(
    path: str | os.PathLike[str], kind: str = "sha256", on_bytes: Callable[[int], None] | None = None
) -> Digest:
    """Stream one file through sha256 and/or the git blob sha1. Does not follow a final symlink unless the
    caller passes a resolved path (callers check links before hashing)."""
    want256, want1 = kind in ("sha256", "both"), kind in ("sha1", "both")
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        h256 = hashlib.sha256() if want256 else None
        h1 = hashlib.sha1(b"blob %d\0" % size) if want1 else None
        buf = bytearray(_CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            chunk = view[:n]
            if h256 is not None:
                h256.update(chunk)
            if h1 is not None:
                h1.update(chunk)
            if on_bytes is not None:
                on_bytes(n)
    return Digest(size, h256.hexdigest() if h256 else None, h1.hexdigest() if h1 else None)


def default_workers() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def hash_many(
    items: Iterable[tuple[Hashable, str | Path, str]],
    *,
    workers: int | None = None,
    on_bytes: Callable[[int], None] | None = None,
) -> dict[Hashable, Digest | OSError]:
    """Hash (key, path, kind) items concurrently; returns key -> Digest, or the OSError that file raised.

    Big files are started first so that two cores stay busy until the end.
    """
    todo = list(items)

    def _size(item: tuple[Hashable, str | Path, str]) -> int:
        try:
            return os.stat(item[1]).st_size
        except OSError:
            return 0

    todo.sort(key=_size, reverse=True)
    lock = threading.Lock()

    def _progress(n: int) -> None:
        if on_bytes is not None:
            with lock:
                on_bytes(n)

    def _one(item: tuple[Hashable, str | Path, str]) -> tuple[Hashable, Digest | OSError]:
        key, path, kind = item
        try:
            return key, hash_file(path, kind, _progress if on_bytes else None)
        except OSError as exc:
            return key, exc

    n = workers or default_workers()
    if n == 1 or len(todo) <= 1:
        return dict(_one(i) for i in todo)
    from concurrent.futures import ThreadPoolExecutor  # kept off the start-up path of every command

    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="hash") as pool:
        return dict(pool.map(_one, todo))
