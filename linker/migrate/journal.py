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

This module only stores and lists journals; migrate/commit.py applies a plan and migrate/recover.py resumes
pending journals. They live in `<global>/.locks/linker-migrate/` (skipped by `scan_cache_dir`), guarded by
`<global>/.locks/linker-migrate.lock`. `linker migrate` recovers first thing; `linker repair` calls `recover`.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from ..errors import fs_boundary
from ..filelocks import file_lock
from ..fsutil import atomic_write_text, fsync_dir, is_tmp_name
from ..hfcache import migrate_journal_dir, migrate_lock_path
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


def pending_sources(global_cache: Path) -> list[str]:
    """The source folders of the journals still pending (their units are not planned again)."""
    return [it.source for p in pending(global_cache) if (plan := load(p)) for it in plan.items]


def journal_temps(global_cache: Path) -> list[Path]:
    """Half-written journals (a kill during a journal write: that plan never started)."""
    try:
        return [p for p in migrate_journal_dir(global_cache).iterdir() if is_tmp_name(p.name)]
    except OSError:
        return []
