"""Free space, checked before a migrate copies anything: a copy that runs out of room midway leaves a model
half in each place (protected and resumable, but still a bad surprise), so it is refused up front."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import LinkerError
from ..render.text import human_size
from .plandata import COPY, HARDLINK, MOVE, BlobOp, MigratePlan


class NotEnoughSpace(LinkerError):
    """The blobs to copy do not fit on the global cache's filesystem (exit 1: free space and rerun)."""


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def _dev(path: Path) -> int:
    return os.stat(_existing(path)).st_dev


def copies(op: BlobOp) -> bool:
    """Whether this operation writes the blob's bytes anew (rather than renaming or hard-linking them)."""
    if os.path.lexists(op.dst):
        return False
    if op.op == COPY:
        return True
    if op.op == MOVE:
        return op.cross_device
    if op.op == HARDLINK:
        return _dev(Path(op.src)) != _dev(Path(op.dst).parent)
    return False


def check_space(plan: MigratePlan) -> None:
    """Raise `NotEnoughSpace` (one line naming the bytes) when the copies exceed the free space of a filesystem."""
    needed: dict[int, tuple[Path, dict[str, int]]] = {}
    for item in plan.items:
        for op in item.blobs:
            if copies(op):
                where = _existing(Path(op.dst).parent)
                _, blobs = needed.setdefault(os.stat(where).st_dev, (where, {}))
                blobs[op.dst] = op.size
    for where, blobs in needed.values():
        total = sum(blobs.values())
        free = shutil.disk_usage(where).free
        if total > free:
            raise NotEnoughSpace(
                f"not enough free space for the migrate: copying {len(blobs)} file(s) into {plan.global_cache} "
                f"needs {total} bytes ({human_size(total)}), {free} bytes ({human_size(free)}) are free there; "
                "nothing was moved: free space, or pass --to DIR on a disk with room"
            )
