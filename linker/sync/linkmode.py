"""Choosing how view blobs point at the global cache: symlink, hardlink, copy, or auto (the first that works)."""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from pathlib import Path

from ..errors import ConfigError
from ..hfcache import BLOBS, is_true
from ..lockfile import LINK_MODES


def requested_mode(
    cli_value: str | None, lock_value: str | None, recorded: tuple[str | None, str | None] = (None, None)
) -> str:
    """`--link-mode`, else `LINKER_LINK_MODE`, else the mode the view was last synced with (`recorded`: that mode
    and the lockfile's `link_mode` then; an edit of the lockfile's value since is an explicit change too), else the
    lockfile's `link_mode`, else symlink. So a copy view stays a copy until told otherwise."""
    kept_mode, lock_then = recorded
    kept = kept_mode if kept_mode in LINK_MODES and lock_then == lock_value else None
    mode = cli_value or os.environ.get("LINKER_LINK_MODE") or kept or lock_value or "symlink"
    if mode not in LINK_MODES:
        raise ConfigError(f"unknown link mode {mode!r}; use one of {', '.join(LINK_MODES)}")
    return mode


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def same_filesystem(a: Path, b: Path) -> bool:
    try:
        return os.stat(_existing(a)).st_dev == os.stat(_existing(b)).st_dev
    except OSError:
        return False


def symlinks_work(folder: Path) -> bool:
    folder = _existing(folder)
    probe = folder / f".linker-symlink-probe-{uuid.uuid4().hex[:8]}"
    try:
        os.symlink("target", probe)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return True


def resolve_mode(mode: str, view: Path, global_cache: Path) -> tuple[str, str | None]:
    """The concrete mode to use, and a one-line notice when `auto` fell back."""
    if mode == "hardlink" and not same_filesystem(view, global_cache):
        raise ConfigError(
            f"--link-mode hardlink needs {view} and {global_cache} on one filesystem",
            hint="use --link-mode copy (or auto) across filesystems",
        )
    if mode != "auto":
        return mode, None
    if not is_true(os.environ.get("HF_HUB_DISABLE_SYMLINKS")) and symlinks_work(view):
        return "symlink", None
    if same_filesystem(view, global_cache):
        return "hardlink", "notice: symlinks unavailable here; using hardlinks (set LINKER_LINK_MODE to choose)"
    return "copy", "notice: symlinks and hardlinks unavailable here; copying blobs (set LINKER_LINK_MODE to choose)"


def mode_on_disk(view: Path) -> str | None:
    """The link mode the view's blobs show (the first blob found), for a view whose manifest records none."""
    try:
        folders = sorted(os.listdir(view)) if view.is_dir() else []
    except OSError:
        return None
    for folder in folders:
        try:
            with os.scandir(view / folder / BLOBS) as it:
                for e in it:
                    st = e.stat(follow_symlinks=False)
                    if stat.S_ISLNK(st.st_mode):
                        return "symlink"
                    if stat.S_ISREG(st.st_mode) and not e.name.startswith("."):
                        return "hardlink" if st.st_nlink > 1 else "copy"
        except OSError:
            continue
    return None
