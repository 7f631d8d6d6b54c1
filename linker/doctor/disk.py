"""Doctor's checks of the disk: permissions, free space, and an interrupted `linker migrate`."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..hfcache import CacheRepo, locks_dir, migrate_journal_dir
from ..lockfile import Lockfile
from ..render.text import human_size
from .report import FAIL, OK, WARN, Check

LOW_SPACE = 1 << 30  # warn below 1 GiB free


def existing(path: Path) -> Path:
    while not os.path.exists(path) and path.parent != path:
        path = path.parent
    return path


def permission_checks(global_cache: Path, lock: Lockfile | None) -> list[Check]:
    out = []
    g = existing(global_cache)
    if not os.access(g, os.R_OK | os.X_OK):
        out.append(
            Check(
                "permissions",
                FAIL,
                f"{g} is not readable by this user: nothing can be loaded from it",
                fix="ask its owner for read access, or set HF_HUB_CACHE to a cache you own",
            )
        )
    elif not os.access(g, os.W_OK | os.X_OK) or (
        os.path.isdir(locks_dir(global_cache)) and not os.access(locks_dir(global_cache), os.W_OK | os.X_OK)
    ):
        out.append(
            Check(
                "permissions",
                WARN,
                f"{global_cache} is not writable by this user: downloads fail, and "
                "linker cannot write the project refs that keep `hf cache prune` from deleting pins",
                fix="ask its owner for write access (group-writable), or set HF_HUB_CACHE to a cache you "
                "own; a read-only shared cache works for symlink views of what it already holds",
            )
        )
    else:
        out.append(Check("permissions", OK, f"{global_cache} is readable and writable"))
    if lock is not None:
        v = existing(lock.view)
        if not os.access(v, os.W_OK | os.X_OK):
            out.append(
                Check(
                    "permissions",
                    FAIL,
                    f"{v} is not writable: sync cannot write the view {lock.view}",
                    fix=f"fix the permissions of {v}",
                )
            )
    return out


def free_space_checks(global_cache: Path, lock: Lockfile | None) -> list[Check]:
    out = []
    needed = 0
    if lock is not None:
        for e in lock.entries:
            if e.files is None:
                continue
            g = CacheRepo(global_cache, e.id, e.type)
            for f in e.files.values():
                if not os.path.exists(g.blob(f.hash)):
                    needed += f.size
    places = [("global cache", global_cache)] + ([("view", lock.view)] if lock else [])
    seen: set[int] = set()
    for what, path in places:
        base = existing(path)
        try:
            usage = shutil.disk_usage(base)
            dev = os.stat(base).st_dev
        except OSError:
            continue
        if dev in seen:
            continue
        seen.add(dev)
        free = usage.free
        need = f"; the missing pins need {human_size(needed)}" if needed and what == "global cache" else ""
        if what == "global cache" and needed > free:
            out.append(
                Check(
                    "free-space",
                    FAIL,
                    f"{human_size(free)} free for the {what} ({base}){need}",
                    fix="free some space (`hf cache prune`, `hf cache rm`), or move HF_HUB_CACHE",
                )
            )
        elif free < LOW_SPACE:
            out.append(
                Check(
                    "free-space",
                    WARN,
                    f"only {human_size(free)} free for the {what} ({base}){need}",
                    fix="free some space (`hf cache prune`, `hf cache rm`)",
                )
            )
        else:
            out.append(Check("free-space", OK, f"{human_size(free)} free for the {what} ({base}){need}"))
    return out


def interrupted_migrate_checks(global_cache: Path) -> list[Check]:
    """A `linker migrate` journal left by a kill or a full disk: a model half in its old place, half linked."""
    if not os.path.isdir(migrate_journal_dir(global_cache)):  # os.path: never raises (a name too long)
        return []  # the common case costs one stat, not an import of the migrate package
    from ..migrate.journal import pending

    found = pending(global_cache)
    if not found:
        return []
    return [
        Check(
            "migrate",
            WARN,
            f"{len(found)} interrupted `linker migrate` run(s) in {global_cache}: a model is half migrated",
            fix="linker repair (or rerun `linker migrate`): it resumes the migration",
        )
    ]
