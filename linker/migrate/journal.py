"""Crash safety for `linker migrate`: the plan is written (fsynced) to a journal in the global cache before the
first byte moves, and removed when the run is complete.

A run killed at any instant (kill -9) leaves the journal behind. Every operation of a plan is idempotent and
reads the disk before it acts, so `recover` finishes the run by applying the journaled plan again: a source file
that was not moved yet is moved now, a blob already in place is kept, a half-written temp copy is deleted (that
operation is rolled back and redone from the intact source). No source file is removed before its blob is in
place, fsynced and verified, so every byte stays reachable throughout.

The journals live in `<global>/.locks/linker-migrate/` (skipped by `scan_cache_dir`), guarded by
`<global>/.locks/linker-migrate.lock`. `linker migrate` recovers first thing; `linker repair` calls `recover`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from glob import escape as glob_escape
from pathlib import Path

from ..filelocks import blob_lock, file_lock
from ..fsutil import atomic_write_text, fsync_dir
from ..hfcache import migrate_journal_dir, migrate_lock_path
from .planner import MigratePlan

SUFFIX = ".journal.json"


def pending(global_cache: Path) -> list[Path]:
    """Journals of interrupted runs, oldest first."""
    d = migrate_journal_dir(global_cache)
    try:
        return sorted(p for p in d.iterdir() if p.name.endswith(SUFFIX) and p.is_file() and not p.is_symlink())
    except OSError:
        return []


def begin(plan: MigratePlan) -> Path:
    """Write the plan durably before anything moves."""
    d = migrate_journal_dir(Path(plan.global_cache))
    path = d / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}{SUFFIX}"
    atomic_write_text(path, json.dumps(plan.to_json()), fsync=True)
    return path


def end(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fsync_dir(path.parent)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def load(path: Path) -> MigratePlan | None:
    try:
        return MigratePlan.from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def migrate_lock(global_cache: Path, timeout: float | None = None) -> contextlib.AbstractContextManager[None]:
    return file_lock(migrate_lock_path(global_cache), timeout, what="migrate lock")


def recover(global_cache: Path) -> list[str]:
    """Finish (or roll back the half-done steps of) every interrupted migrate of this global cache.

    Returns one line per journal saying what was done; an empty list when nothing was pending. Raises
    `LockTimeout` if another migrate holds the cache.
    """
    global_cache = Path(global_cache)
    if not pending(global_cache):
        return []
    with migrate_lock(global_cache):
        return recover_locked(global_cache)


def recover_locked(global_cache: Path) -> list[str]:
    """`recover` for a caller that already holds the migrate lock."""
    from .run import apply_plan  # the executor and the lockfile update, shared with a normal run

    messages = []
    for path in pending(global_cache):
        plan = load(path)
        if plan is None:
            quarantine = path.with_name(path.name + ".unreadable")
            os.replace(path, quarantine)
            messages.append(f"unreadable migrate journal moved aside to {quarantine}; nothing was resumed")
            continue
        _drop_temps(plan)
        outcome, _locked = apply_plan(plan, journal=path)
        files = sum(len(it.blobs) for it in plan.items)
        what = ", ".join(it.label for it in plan.items[:3]) + ("…" if len(plan.items) > 3 else "")
        line = f"resumed an interrupted migrate ({what}: {files} blob operation(s))"
        if outcome.problems:
            line += f"; {len(outcome.problems)} could not be completed: " + "; ".join(
                p.describe() for p in outcome.problems[:3]
            )
        messages.append(line)
    return messages


def _drop_temps(plan: MigratePlan) -> None:
    """Roll back half-done writes: the `.<name>.<8hex>.linker-tmp` siblings of every path the plan writes (a
    half-written blob copy, a temp link in a snapshot, a temp ref), blob temps under their blob lock."""
    for item in plan.items:
        for op in item.blobs:
            temps = _temps(Path(op.dst))
            if temps:
                with blob_lock(Path(op.lock)):
                    _unlink_all(temps)
            if op.leave_link:
                _unlink_all(_temps(Path(op.leave_link)))
        for path in [x.path for x in item.links + item.relinks] + [r.path for r in item.refs + item.trees]:
            _unlink_all(_temps(Path(path)))


def _temps(path: Path) -> list[Path]:
    try:
        return list(path.parent.glob(f".{glob_escape(path.name)}.*.linker-tmp"))
    except OSError:
        return []


def _unlink_all(paths: list[Path]) -> None:
    for t in paths:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(t)
