"""`migrate` as a library call: recover, discover, hash, plan, journal, execute, update the lockfile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HubError, LinkerError
from ..fsutil import writable_dir
from ..hfcache import offline_mode
from ..problems import Problem
from . import journal, record
from .commit import apply_plan, update_lock
from .executor import Outcome
from .plandata import INCOMPLETE, MigratePlan
from .planner import Options, apply_overrides, build_plan
from .recover import resume_locked
from .remote import Remote
from .sources import discover
from .space import check_space
from .units import Unit, inside

#: progress(what, total_bytes) -> a context manager yielding a bytes callback.
ProgressFactory = Callable[[str, int], contextlib.AbstractContextManager[Callable[[int], None]]]


@contextlib.contextmanager
def _no_progress(_what: str, _total: int) -> Iterator[Callable[[int], None]]:
    yield lambda _n: None


@dataclass
class Result:
    plan: MigratePlan
    outcome: Outcome | None = None
    recovered: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)  # lock entries written
    applied: bool = False


def migrate(
    sources: list[Path],
    opts: Options,
    *,
    kind: str | None = None,
    offline: bool = False,
    dry_run: bool = False,
    progress: ProgressFactory = _no_progress,
) -> Result:
    gc = opts.global_cache
    recovered: list[str] = []
    extra: list[Problem] = []  # an interrupted migrate that is still incomplete
    if dry_run:
        guard: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
        recovered = [
            f"an interrupted migrate is pending ({p.name}); a real run resumes it first" for p in journal.pending(gc)
        ]
    else:
        if not writable_dir(gc):
            raise LinkerError(f"the global cache {gc} is not writable by this user", hint="pass --to DIR, or fix it")
        gc.mkdir(parents=True, exist_ok=True)
        guard = journal.migrate_lock(gc)
    with guard:
        if not dry_run:
            for r in resume_locked(gc):
                recovered.append(r.message)
                extra += [] if r.complete else r.problems
        units, done = _discover_all(sources, kind, gc, explicit=opts.repo_id is not None)
        recovered += [f"{d.source}: already migrated ({d.label}@{d.revision[:12]})" for d in done]
        units, waiting = _not_pending(units, journal.pending_sources(gc))
        if dry_run:
            recovered += [f"{w.path}: an interrupted migrate holds it; a real run resumes that first" for w in waiting]
        else:
            extra += waiting
        apply_overrides(units, opts)
        online = not offline and not offline_mode()
        remote = Remote() if online else None
        total = sum(
            {str(f.abspath): f.size for u in units if not u.unsafe and not u.problems for f in u.all_files()}.values()
        )
        try:
            with progress("hashing", total) as on_bytes:
                plan = build_plan(units, opts, remote=remote, on_bytes=on_bytes)
        except HubError as exc:
            raise HubError(exc.message, hint="retry later, or pass --offline to migrate with local revisions") from None
        plan.problems += extra
        locked = []
        if done and not dry_run and opts.lock_path is not None:  # a source moved already: its entry all the same
            locked = update_lock(opts.lock_path, [d.lock_entry for d in done])
        if dry_run or not plan.items:
            return Result(plan, recovered=recovered, locked=locked)
        check_space(plan)
        with progress("moving", sum(b.size for it in plan.items for b in it.blobs if b.op != "dedupe")) as on_bytes:
            outcome, more = apply_plan(plan, on_bytes=on_bytes)
    return Result(plan, outcome, recovered, locked + more, applied=True)


def _discover_all(
    sources: list[Path], kind: str | None, gc: Path, *, explicit: bool
) -> tuple[list[Unit], list[record.Done]]:
    """The units of every source, and what was migrated from a source that has moved since (not an error)."""
    units: list[Unit] = []
    done: list[record.Done] = []
    for src in sources:
        src = Path(os.path.abspath(src))
        try:
            found = discover(src, kind, global_cache=gc, explicit=explicit)
        except ConfigError:
            if os.path.lexists(src) or not (moved := record.lookup(gc, src)):
                raise
            done += moved
            continue
        if not found:
            done += record.lookup(gc, src)
        units += found
    return units, done


def _not_pending(units: list[Unit], pending: list[str]) -> tuple[list[Unit], list[Problem]]:
    """Units that an interrupted migrate still holds are not planned again (that would make another revision)."""
    keep, waiting = [], []
    for u in units:
        if any(inside(u.root, s) for s in pending):
            detail = "an interrupted migrate of it is still incomplete; not planned again"
            fix = "free space (or fix the problem above), then rerun `linker migrate` or `linker repair`"
            waiting.append(Problem(INCOMPLETE, u.label, str(u.root), detail, fix=fix))
        else:
            keep.append(u)
    return keep, waiting
