"""`migrate` as a library call: recover, discover, hash, plan, journal, execute, update the lockfile."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, HubError, LinkerError
from ..fsutil import writable_dir
from ..hfcache import offline_mode
from . import journal
from .executor import Outcome, execute
from .planner import MigratePlan, Options, apply_overrides, build_plan
from .remote import Remote
from .sources import discover
from .units import Unit

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
        resumed: list[Path] = []
        if not dry_run:
            resumed = [Path(it.source) for p in journal.pending(gc) if (pl := journal.load(p)) for it in pl.items]
            recovered = journal.recover_locked(gc)
        units: list[Unit] = []
        for src in sources:
            src = src.absolute()
            try:
                units += discover(src, kind, global_cache=gc)
            except ConfigError:
                if not any(s == src or src in s.parents for s in resumed):
                    raise
                recovered.append(f"{src}: nothing left to migrate (the resumed run moved it)")
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
        if dry_run or not plan.items:
            return Result(plan, recovered=recovered)
        with progress("moving", sum(b.size for it in plan.items for b in it.blobs if b.op != "dedupe")) as on_bytes:
            outcome, locked = apply_plan(plan, on_bytes=on_bytes)
    return Result(plan, outcome, recovered, locked, applied=True)


def apply_plan(
    plan: MigratePlan, *, journal: Path | None = None, on_bytes: Callable[[int], None] | None = None
) -> tuple[Outcome, list[str]]:
    """Journal the plan (unless resuming one), execute it, update the lockfile, then close the journal."""
    from . import journal as jr

    path = journal if journal is not None else jr.begin(plan)
    outcome = execute(plan, on_bytes=on_bytes)
    locked: list[str] = []
    if plan.lock_path:
        entries = [it.lock_entry for it in plan.items if it.lock_entry and it.label not in outcome.failed_items]
        locked = update_lock(Path(plan.lock_path), entries)
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
