"""Copying a cache to another filesystem: every file copied to a temp name, fsynced, hashed (a repo blob against its
name, anything else against its source), and only then renamed into place, under huggingface_hub's blob lock. A
file present under its final name in the new cache is therefore verified; a rerun skips it. Deleting the old copy
comes after every item is in place."""

from __future__ import annotations

import contextlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..filelocks import blob_lock
from ..fsutil import atomic_copy, atomic_symlink, fsync_dir, is_tmp_name
from ..hashpool import default_workers, hash_file
from ..hfcache import CacheRepo, hash_as, move_journal_path, parse_repo_folder
from .plan import DIR, FILE, LINK, LOCK, Item, MovePlan


class CopyFailed(OSError):
    """A copy did not match its source (a failing disk): the old cache is kept."""


def copy_all(plan: MovePlan) -> tuple[int, list[str]]:
    """Copy every item not yet in the new cache; returns (bytes copied, warnings). Raises OSError (the old cache
    is untouched) when a copy cannot be made or does not verify."""
    old, new = Path(plan.old), Path(plan.new)
    _drop_temps(new)
    dirs = [new] + [new / i.rel for i in plan.items if i.kind == DIR]
    for d in dirs:
        d.mkdir(parents=True, exist_ok=True)
    files = [i for i in plan.items if i.kind == FILE and not os.path.lexists(new / i.rel)]
    warnings: list[str] = []
    with ThreadPoolExecutor(max_workers=default_workers(), thread_name_prefix="move") as pool:
        for warning in pool.map(lambda i: _copy_file(old, new, i), files):
            if warning:
                warnings.append(warning)
    for i in plan.items:
        if i.kind == LINK and not os.path.lexists(new / i.rel):
            atomic_symlink(i.target, new / i.rel)
    for d in dirs:
        fsync_dir(d)
    return sum(i.size for i in files), warnings


def _copy_file(old: Path, new: Path, item: Item) -> str | None:
    src, dst = old / item.rel, new / item.rel
    if not os.path.lexists(src):
        return f"{item.rel} vanished from the old cache during the move (deleted by another process)"
    said: list[str] = []

    def check(tmp: Path) -> bool:
        shutil.copystat(src, tmp)  # mode (store payloads are read-only) and times, as the old cache had them
        if item.etag:
            got = hash_as(tmp, item.etag)
            if got == item.etag:
                return True
            if got == hash_as(src, item.etag):
                said.append(f"{item.rel} does not match its name in the old cache either: moved as it was; "
                            "`linker verify` and `linker repair` report and fix it")  # fmt: skip
                return True
            return False
        return hash_file(tmp, "sha256").sha256 == hash_file(src, "sha256").sha256

    with _lock_for(new, item):
        ok = atomic_copy(src, dst, fsync=True, check=check)
    if not ok:
        raise CopyFailed(f"the copy of {src} in {dst} does not match its source; the old cache is kept")
    return said[0] if said else None


def _lock_for(new: Path, item: Item) -> contextlib.AbstractContextManager[None]:
    """huggingface_hub's lock for a repo blob (`<new>/.locks/<repo folder>/<etag>.lock`); none for other files."""
    if not item.etag:
        return contextlib.nullcontext()
    folder = item.rel.split("/", 1)[0]
    parsed = parse_repo_folder(folder)
    assert parsed is not None  # an etag is only set on `<repo folder>/blobs/<etag>`
    return blob_lock(CacheRepo(new, parsed[1], parsed[0]).lock_path(item.etag))


def _drop_temps(new: Path) -> None:
    """Half-written copies of a killed run (`.<name>.<8hex>.linker-tmp`): the new folder holds only our files."""
    for dirpath, _dirs, names in os.walk(new):
        for name in names:
            if is_tmp_name(name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(os.path.join(dirpath, name))


def delete_old(plan: MovePlan) -> list[str]:
    """Delete from the old cache what is in place in the new one (and the empty lock files); returns what is left
    (written there during the move, or not movable). Only called once every item is copied and verified."""
    old, new = Path(plan.old), Path(plan.new)
    for i in plan.items:
        if (i.kind in (FILE, LINK) and os.path.lexists(new / i.rel)) or i.kind == LOCK:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(old / i.rel)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(move_journal_path(old))
    for d in sorted((old / i.rel for i in plan.items if i.kind == DIR), key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(d)
    for d in (move_journal_path(old).parent, move_journal_path(old).parent.parent):  # made for the journal
        with contextlib.suppress(OSError):
            os.rmdir(d)
    try:
        os.rmdir(old)
    except FileNotFoundError:
        return []
    except OSError:
        left: list[str] = []
        for dirpath, _dirs, names in os.walk(old):
            left.extend(Path(dirpath, n).relative_to(old).as_posix() for n in names)
        return sorted(left)
    return []
