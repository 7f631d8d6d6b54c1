"""`migrate` as a library call: recover, discover, hash, plan, journal, execute, update the lockfile."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HubError, LinkerError, fs_boundary
from ..fsutil import writable_dir
from ..hfcache import offline_mode
from ..problems import Problem
from . import journal, record
from .executor import Outcome, execute
from .plandata import INCOMPLETE, MigratePlan
from .planner import Options, apply_overrides, build_plan
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
            for r in journal.resume_locked(gc):
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


def apply_plan(
    plan: MigratePlan, *, journal: Path | None = None, on_bytes: Callable[[int], None] | None = None
) -> tuple[Outcome, list[str]]:
    """Journal the plan (unless resuming one), execute it, update the lockfile, then close the journal: unless an
    item failed in a way a rerun can finish (a full disk, a copy that did not verify), which the journal then keeps
    for the next run to finish to the same revision. (A permanent failure, such as a source that changed, closes
    it: the guard ref still protects what moved, and a rerun plans what is left as it now is.)"""
    from . import journal as jr

    path = journal if journal is not None else jr.begin(plan)
    with fs_boundary(plan.global_cache, "migrate stopped (resumed by the next run) at"):
        outcome = execute(plan, on_bytes=on_bytes)
    done = [it for it in plan.items if it.label not in outcome.failed_items]
    locked: list[str] = []
    if plan.lock_path:
        locked = update_lock(Path(plan.lock_path), [it.lock_entry for it in done])
    record.remember(Path(plan.global_cache), done)
    if not outcome.retry:  # else kept: the next run finishes it to the same revision
        jr.end(path)
    return outcome, locked


def update_lock(lock_path: Path, entries: list[dict[str, Any] | None]) -> list[str]:
    """Add or update each entry in project_cache.yaml (linker/lockedit.py keeps order and comments)."""
    from ..lockedit import create_lockfile, upsert_entries

    real = [e for e in entries if e]
    if real:
        if not lock_path.exists():
            create_lockfile(lock_path)
        upsert_entries(lock_path, real)
    return [f"{e['id']}@{e['revision'][:12]}" + (" (local)" if e.get("local") else "") for e in real]
