"""The journal of a cache move: the plan, written durably before anything moves, first in the old cache and, for a
copy, in the new one before its first file (a rename carries it along). A rerun finds it in either place and
finishes the same plan; it is removed when the move is complete."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ..errors import fs_boundary
from ..fsutil import atomic_write_text, fsync_dir
from ..hfcache import move_journal_path
from .plan import MovePlan


def write(cache: Path, plan: MovePlan) -> None:
    path = move_journal_path(cache)
    with fs_boundary(path.parent, "cannot write the cache-move journal in"):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(plan.to_json()), fsync=True)


def load(cache: Path) -> MovePlan | None:
    try:
        return MovePlan.from_json(json.loads(move_journal_path(cache).read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def pending(old: Path, new: Path) -> MovePlan | None:
    """The plan of an interrupted move of `old` (or of whatever cache was moved) into `new`: the new folder's journal
    first (a copy under way, or a rename done), else the old cache's (nothing moved yet)."""
    want = os.path.realpath(new)
    for where in (new, old):
        plan = load(where)
        if plan is not None and os.path.realpath(plan.new) == want:
            return plan
    return None


def drop_temps(cache: Path) -> None:
    """A half-written journal (a kill during its write): never read, and not to be moved as cache content."""
    path = move_journal_path(cache)
    with contextlib.suppress(OSError):
        for t in path.parent.glob(f".{path.name}.*.linker-tmp"):
            os.unlink(t)


def remove(cache: Path) -> None:
    path = move_journal_path(cache)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fsync_dir(path.parent)
