"""Crash safety for `linker migrate`: the plan is written (fsynced) to a journal in the global cache before the
first byte moves, and removed when the run is complete.

A run killed at any instant (kill -9) leaves the journal behind, and so does a run that could not complete an
item (a full disk): the next run resumes it to the same revision rather than planning the rest anew, and
meanwhile a guard ref (`refs/linker/migrated-<rev>`, written before the first byte moves) keeps `hf cache prune`
off the partial snapshot. Every operation of a plan is idempotent and
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
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path

from ..errors import fs_boundary
from ..filelocks import blob_lock, file_lock
from ..fsutil import atomic_write_text, fsync_dir, is_tmp_name
from ..hfcache import migrate_journal_dir, migrate_lock_path
from ..problems import Problem
from .plandata import MigratePlan

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
    with fs_boundary(d, "cannot write the migrate journal in"):  # nothing has moved yet
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


@dataclass
class Resumed:
    """What resuming one journal did."""

    message: str
    complete: bool  # False: still incomplete (a full disk again...); the journal stays for the next run
    sources: list[str] = field(default_factory=list)  # the source folders of its items
    problems: list[Problem] = field(default_factory=list)


def recover(global_cache: Path) -> list[str]:
    """Finish (or roll back the half-done steps of) every interrupted migrate of this global cache.

    Returns one line per journal saying what was done; an empty list when nothing was pending. Raises
    `LockTimeout` if another migrate holds the cache.
    """
    return [r.message for r in resume(global_cache)]


def resume(global_cache: Path) -> list[Resumed]:
    """`recover`, with what each journal's run did."""
    global_cache = Path(global_cache)
    if not pending(global_cache) and not _journal_temps(global_cache):
        return []
    with migrate_lock(global_cache):
        return resume_locked(global_cache)


def recover_locked(global_cache: Path) -> list[str]:
    """`recover` for a caller that already holds the migrate lock."""
    return [r.message for r in resume_locked(global_cache)]


def resume_locked(global_cache: Path) -> list[Resumed]:
    """`resume` for a caller that already holds the migrate lock."""
    from .run import apply_plan  # the executor and the lockfile update, shared with a normal run

    _unlink_all(_journal_temps(global_cache))  # a kill during a journal write: that plan never started
    out = []
    for path in pending(global_cache):
        plan = load(path)
        if plan is None:
            quarantine = path.with_name(path.name + ".unreadable")
            os.replace(path, quarantine)
            out.append(Resumed(f"unreadable migrate journal moved aside to {quarantine}; nothing was resumed", True))
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
        if outcome.retry:
            line += "; still incomplete (kept, protected by a ref): rerun `linker migrate` once fixed"
        sources = [it.source for it in plan.items]
        out.append(Resumed(line, not outcome.retry, sources, list(outcome.problems)))
    with contextlib.suppress(OSError):
        migrate_journal_dir(global_cache).rmdir()
    return out


def pending_sources(global_cache: Path) -> list[str]:
    """The source folders of the journals still pending (their units are not planned again)."""
    return [it.source for p in pending(global_cache) if (plan := load(p)) for it in plan.items]


def _journal_temps(global_cache: Path) -> list[Path]:
    try:
        return [p for p in migrate_journal_dir(global_cache).iterdir() if is_tmp_name(p.name)]
    except OSError:
        return []


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
