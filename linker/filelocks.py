"""Inter-process locks: the project's view lock, and huggingface_hub's own per-blob locks in the global cache."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import LockTimeout, env_seconds, fs_boundary, warn_once
from .hfcache import view_lock_path

DEFAULT_TIMEOUT = 120.0


def lock_timeout() -> float:
    """`LINKER_LOCK_TIMEOUT` in seconds; a value that is not a number >= 0 is reported and the default used."""
    return env_seconds("LINKER_LOCK_TIMEOUT", DEFAULT_TIMEOUT, lambda why: warn_once("LINKER_LOCK_TIMEOUT", why))


def lockfile_lock_path(lock_path: Path) -> Path:
    """The lock that serializes writers of one lockfile: `<tmp>/linker-locks/<sha256 of its real path>.lock`,
    so the project folder stays clean and a symlinked lockfile shares its target's lock."""
    key = hashlib.sha256(os.fsencode(os.path.realpath(lock_path))).hexdigest()[:32]
    return Path(tempfile.gettempdir()) / "linker-locks" / f"{key}.lock"


def lockfile_lock(lock_path: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    """The lock every writer of `lock_path` holds from reading the lockfile to replacing it."""
    path = lockfile_lock_path(lock_path)
    with contextlib.suppress(OSError):
        os.mkdir(path.parent, 0o1777)
        os.chmod(path.parent, 0o1777)  # like /tmp: every user may take locks there (mkdir's mode obeys umask)
    return file_lock(path, timeout, what="lockfile lock", boundary=True)


@contextlib.contextmanager
def file_lock(
    path: Path, timeout: float | None = None, what: str = "lock", *, boundary: bool = False
) -> Iterator[None]:
    """A FileLock (mode 0664, like huggingface_hub's WeakFileLock), falling back to a SoftFileLock where the
    filesystem has no flock. Raises `LockTimeout` (exit 4) after `timeout` seconds. With `boundary`, an OSError
    while taking it (a read-only or full folder) is a `FilesystemError` naming the lock (exit 1); without, it
    stays an OSError for callers that handle it per item."""
    from filelock import FileLock, SoftFileLock, Timeout  # only commands that write pay for the import

    timeout = lock_timeout() if timeout is None else timeout
    lock = FileLock(str(path), timeout=timeout, mode=0o664)
    with fs_boundary(path, f"cannot take the {what}") if boundary else contextlib.nullcontext():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                lock.acquire()
            except NotImplementedError:
                lock = SoftFileLock(str(path), timeout=timeout)
                lock.acquire()
        except Timeout:  # a TimeoutError, hence an OSError: made a LinkerError before fs_boundary sees it
            raise LockTimeout(
                f"could not take the {what} {path} within {timeout:g}s: another linker or hf process holds it",
                hint="wait for it to finish, or raise LINKER_LOCK_TIMEOUT",
            ) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.release()


def view_lock(view: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    return file_lock(view_lock_path(view), timeout, what="project lock", boundary=True)


def blob_lock(lock_path: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    """huggingface_hub's lock for one blob: `<global>/.locks/<repo folder>/<etag>.lock` (see CacheRepo.lock_path)."""
    return file_lock(lock_path, timeout, what="blob lock")
