"""Crash-safe file operations: every write goes to a temp name in the same folder, then `os.replace`."""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from collections.abc import Callable
from pathlib import Path


def tmp_path(path: Path) -> Path:
    """A unique sibling temp name (same folder, so `os.replace` is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.linker-tmp")


def is_tmp_name(name: str) -> bool:
    return name.endswith(".linker-tmp")


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path: Path, text: str, *, fsync: bool = False) -> None:
    atomic_write_bytes(path, text.encode(), fsync=fsync)


def atomic_write_bytes(path: Path, data: bytes, *, fsync: bool = False) -> None:
    def make(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    _replace_with(path, make)
    if fsync:
        fsync_dir(path.parent)


def _replace_with(path: Path, make: Callable[[Path], None]) -> None:
    """Build the new file at a temp sibling with `make`, then move it over `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path(path)
    try:
        make(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_symlink(target: str, path: Path) -> None:
    """Make `path` a symlink to `target`, replacing whatever link was there in one step."""
    _replace_with(path, lambda tmp: os.symlink(target, tmp))


def atomic_hardlink(source: Path, path: Path) -> None:
    _replace_with(path, lambda tmp: os.link(source, tmp))


class _Rejected(Exception):
    pass


def atomic_copy(source: Path, path: Path, *, fsync: bool = False, check: Callable[[Path], bool] | None = None) -> bool:
    """Copy `source` to a temp sibling (fsynced if asked), let `check` judge the copy, then rename it onto `path`.
    Returns False, leaving `path` as it was, when `check` rejects the copy."""

    def make(tmp: Path) -> None:
        import shutil  # only when copying: not paid by start-up

        shutil.copyfile(source, tmp)
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        if check is not None and not check(tmp):
            raise _Rejected

    try:
        _replace_with(path, make)
    except _Rejected:
        return False
    return True


def is_cross_device(exc: OSError) -> bool:
    return exc.errno == errno.EXDEV


def prune_empty_dirs(start: Path, stop: Path) -> None:
    """Remove `start` and its parents while they are empty, up to (not including) `stop`."""
    cur = start
    while cur != stop and stop in cur.parents:
        try:
            os.rmdir(cur)
        except OSError:
            return
        cur = cur.parent


def writable_dir(path: Path) -> bool:
    """Whether we can create files in `path` (or in its nearest existing parent)."""
    cur = path
    while not cur.exists():
        if cur.parent == cur:
            return False
        cur = cur.parent
    return os.access(cur, os.W_OK | os.X_OK)


def file_id(path: str | os.PathLike[str]) -> tuple[int, int] | None:
    """(device, inode) of what `path` resolves to, or None when it does not."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
