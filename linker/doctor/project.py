"""Doctor's checks of the project: the view against the global cache, links between them, and folders that shadow
a pinned id."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from ..errors import LinkerError
from ..hfcache import is_true, locks_dir
from ..lockfile import Lockfile
from .disk import existing
from .report import FAIL, INFO, OK, Check


def view_is_global_checks(global_cache: Path, lock: Lockfile) -> list[Check]:
    g, v = os.path.realpath(global_cache), os.path.realpath(lock.view)
    if g == v or g.startswith(v + os.sep):
        return [
            Check(
                "global-cache",
                FAIL,
                f"the global cache {global_cache} is the project view {lock.view}: "
                "`linker env` was probably evaluated in this shell",
                fix="unset HF_HUB_CACHE (or pass --cache-dir) before running linker",
            )
        ]
    if v.startswith(g + os.sep):
        return [
            Check(
                "global-cache",
                FAIL,
                f"the view {lock.view} is inside the global cache {global_cache}: "
                "huggingface_hub would take it for a repo folder",
                fix="set cache_dir in the lockfile to a folder outside the global cache",
            )
        ]
    return []


def link_checks(global_cache: Path, lock: Lockfile) -> list[Check]:
    from ..sync.linkmode import requested_mode, same_filesystem, symlinks_work
    from ..sync.manifest import load_manifest

    recorded = load_manifest(lock.view)
    try:
        mode = requested_mode(None, lock.link_mode, (recorded.link_mode, recorded.lock_link_mode))
    except LinkerError as exc:
        return [Check("links", FAIL, exc.message, fix="use symlink, hardlink, copy or auto")]
    view_dir = existing(lock.view)
    sym = symlinks_work(view_dir)
    same_fs = same_filesystem(lock.view, global_cache)
    hard = same_fs and _hardlinks_work(global_cache, view_dir)
    fs = "the same filesystem" if same_fs else "different filesystems"
    summary = (
        f"view and global cache on {fs}; symlinks {'work' if sym else 'do NOT work'}, hardlinks "
        f"{'work' if hard else 'do NOT work'}; link mode {mode}"
    )
    out = []
    if mode == "symlink" and not sym:
        out.append(
            Check(
                "links", FAIL, summary, fix="set `link_mode: auto` (or copy) in the lockfile, or LINKER_LINK_MODE=auto"
            )
        )
    elif mode == "hardlink" and not hard:
        out.append(Check("links", FAIL, summary, fix="use `link_mode: copy` (or auto): hardlinks need one filesystem"))
    else:
        out.append(Check("links", OK, summary))
    if is_true(os.environ.get("HF_HUB_DISABLE_SYMLINKS")):
        out.append(
            Check(
                "links",
                INFO,
                "HF_HUB_DISABLE_SYMLINKS is set: huggingface_hub stores real files in "
                "snapshots (linker still links them)",
            )
        )
    return out


def _hardlinks_work(global_cache: Path, view_dir: Path) -> bool:
    """Try a real hardlink from the global cache into the view's folder (probe files are removed again)."""
    locks = locks_dir(global_cache)
    if not os.path.isdir(locks) or not os.access(locks, os.W_OK) or not os.access(view_dir, os.W_OK):
        return True  # cannot probe without writing elsewhere: same filesystem is the best we know
    tag = uuid.uuid4().hex[:8]
    src, dst = locks / f".linker-doctor-{tag}", view_dir / f".linker-doctor-{tag}"
    try:
        src.write_bytes(b"")
        os.link(src, dst)
        return True
    except OSError:
        return False
    finally:
        for p in (dst, src):
            with contextlib.suppress(OSError):
                os.unlink(p)


def shadowing_checks(lock: Lockfile, cwd: Path) -> list[Check]:
    out = []
    bases = {lock.root.resolve(), cwd.resolve()}
    for entry in lock.entries:
        if entry.type != "model":
            continue
        for base in sorted(bases):
            folder = base / entry.id
            if os.path.isdir(folder):
                out.append(
                    Check(
                        "shadowing",
                        FAIL,
                        f"{folder} is named like the pinned id {entry.id}: transformers "
                        "and sentence-transformers run from there load that folder by path, bypassing the "
                        "cache and the pin",
                        fix=f"rename or move {folder} (`linker migrate {folder} --id "
                        f"{entry.id}` moves its data into the global cache)",
                    )
                )
    if not out:
        out.append(Check("shadowing", OK, "no folder named like a pinned id in the project or the current folder"))
    return out
