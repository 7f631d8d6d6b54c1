"""Inter-process locks: the project's view lock, and huggingface_hub's own per-blob locks in the global cache."""

from __future__ import annotations

import contextlib
import hashlib
import os
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
    import tempfile  # random, bisect...: only for a lockfile writer, not every start-up

    return Path(tempfile.gettempdir()) / "linker-locks" / f"{key}.lock"


def lockfile_lock(lock_path: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    """The lock every writer of `lock_path` holds from reading the lockfile to replacing it."""
    path = lockfile_lock_path(lock_path)
    with contextlib.suppress(OSError):
        os.mkdir(path.parent, 0o1777)
        os.chmod(path.parent, 0o1777)  # like /tmp: every user may take locks there (mkdir's mode obeys umask)
    return own_lock(path, timeout, what="lockfile lock")


def soft_lock_path(path: Path) -> Path:
    """The file a soft lock creates for the lock `path`: another name than the flock file, which stays on disk
    after use and would otherwise look like a held soft lock."""
    return path.with_name(path.name + ".soft")


def own_lock(path: Path, timeout: float | None = None, what: str = "lock") -> contextlib.AbstractContextManager[None]:
    """One of linker's own locks (never huggingface_hub's): a soft lock (an exclusively created file) when
    LINKER_LOCK_KIND=soft, or auto and the folder is on NFS, Lustre, GPFS, CIFS, FUSE or 9p (flock may be a
    no-op there); else a flock (linker/fstype.py)."""
    from .fstype import wants_soft_lock

    folder = path.parent
    while not folder.exists() and folder.parent != folder:  # the lock's folder may not exist yet
        folder = folder.parent
    return file_lock(path, timeout, what, boundary=True, soft=wants_soft_lock(folder))


@contextlib.contextmanager
def file_lock(
    path: Path, timeout: float | None = None, what: str = "lock", *, boundary: bool = False, soft: bool = False
) -> Iterator[None]:
    """A FileLock (mode 0664, like huggingface_hub's WeakFileLock), falling back to a SoftFileLock where the
    filesystem has no flock; with `soft`, a SoftFileLock at `soft_lock_path(path)` from the start. Raises
    `LockTimeout` (exit 4) after `timeout` seconds. With `boundary`, an OSError while taking it (a read-only or
    full folder) is a `FilesystemError` naming the lock (exit 1); without, it stays an OSError for callers that
    handle it per item."""
    from filelock import BaseFileLock, FileLock, SoftFileLock, Timeout  # only commands that write pay for it

    timeout = lock_timeout() if timeout is None else timeout

    def make(soft: bool) -> BaseFileLock:
        if soft:
            return SoftFileLock(str(soft_lock_path(path)), timeout=timeout)
        return FileLock(str(path), timeout=timeout, mode=0o664)

    lock = make(soft)
    with fs_boundary(path, f"cannot take the {what}") if boundary else contextlib.nullcontext():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            try:
                lock.acquire()
            except NotImplementedError:  # no flock on this filesystem
                if soft:
                    raise
                soft, lock = True, make(True)
                lock.acquire()
        except Timeout:  # a TimeoutError, hence an OSError: made a LinkerError before fs_boundary sees it
            if soft:  # a file, not a kernel lock: a killed process leaves it behind
                raise LockTimeout(
                    f"could not take the {what} within {timeout:g}s: the lock file {soft_lock_path(path)} exists; "
                    "if no linker is running, delete it"
                ) from None
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
    return own_lock(view_lock_path(view), timeout, what="project lock")


def blob_lock(lock_path: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    """huggingface_hub's lock for one blob: `<global>/.locks/<repo folder>/<etag>.lock` (see CacheRepo.lock_path)."""
    return file_lock(lock_path, timeout, what="blob lock")
