"""Hash many files in parallel, streaming, with bounded memory.

hashlib releases the GIL while it digests large buffers, so a thread per core hashes on every core. Each worker
reads 1 MiB at a time into one reused buffer: memory does not grow with file size. `kind` is "sha256" (LFS blob
names), "sha1" (git blob ids, `sha1(b"blob <size>\\0" + content)`) or "both" (one read, both digests).
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
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


class NotRegularFile(OSError):
    """`hash_file` opens regular files only: a device (/dev/zero never ends), a FIFO (blocks), a socket or a
    folder is refused with this error (`what` says which)."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        self.what = file_type(mode)
        super().__init__(errno.EINVAL, f"not a regular file but a {self.what}", os.fspath(path))


def file_type(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "regular file"),
        (stat.S_ISDIR, "folder"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISLNK, "symlink"),
    ):
        if test(mode):
            return name
    return "special file"


def open_regular(path: str | os.PathLike[str]) -> int:
    """Open `path` (links followed) for reading, only if it is a regular file: checked before the open, and again
    on the open descriptor (a FIFO swapped in between is opened non-blocking, so the open cannot hang)."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotRegularFile(path, st.st_mode)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(path, st.st_mode)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def hash_file(
    path: str | os.PathLike[str], kind: str = "sha256", on_bytes: Callable[[int], None] | None = None
) -> Digest:
    """Stream one regular file through sha256 and/or the git blob sha1 (links followed: callers check links
    before hashing). Anything but a regular file raises `NotRegularFile` without being read."""
    want256, want1 = kind in ("sha256", "both"), kind in ("sha1", "both")
    with os.fdopen(open_regular(path), "rb") as f:
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
