"""Finishing interrupted `linker migrate` runs: each pending journal's plan is applied again (every operation is
idempotent and reads the disk first), after rolling back half-written temp files."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from glob import escape as glob_escape
from pathlib import Path

from ..filelocks import blob_lock
from ..hfcache import migrate_journal_dir
from ..problems import Problem
from .commit import apply_plan
from .journal import journal_temps, load, migrate_lock, pending
from .plandata import MigratePlan


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
    if not pending(global_cache) and not journal_temps(global_cache):
        return []
    with migrate_lock(global_cache):
        return resume_locked(global_cache)


def recover_locked(global_cache: Path) -> list[str]:
    """`recover` for a caller that already holds the migrate lock."""
    return [r.message for r in resume_locked(global_cache)]


def resume_locked(global_cache: Path) -> list[Resumed]:
    """`resume` for a caller that already holds the migrate lock."""
    _unlink_all(journal_temps(global_cache))  # a kill during a journal write: that plan never started
    out = []
    for path in pending(global_cache):
        plan = load(path)
        if plan is None:
            quarantine = path.with_name(path.name + ".unreadable")
            os.replace(path, quarantine)
            out.append(Resumed(f"unreadable migrate journal moved aside to {quarantine}; nothing was resumed", True))
            continue
        _drop_temps(plan)
        outcome, _locked = apply_plan(plan, journal_path=path)
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
