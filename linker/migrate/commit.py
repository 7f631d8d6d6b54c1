"""Applying a migrate plan: journal it, execute it, record what moved, and update the lockfile."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import fs_boundary
from . import journal, record
from .executor import Outcome, execute
from .plandata import MigratePlan


def apply_plan(
    plan: MigratePlan, *, journal_path: Path | None = None, on_bytes: Callable[[int], None] | None = None
) -> tuple[Outcome, list[str]]:
    """Journal the plan (unless resuming the one at `journal_path`), execute it, update the lockfile, then close
    the journal: unless an item failed in a way a rerun can finish (a full disk, a copy that did not verify), which
    the journal then keeps for the next run to finish to the same revision. (A permanent failure, such as a source
    that changed, closes it: the guard ref still protects what moved, and a rerun plans what is left as it now is.)"""
    path = journal_path if journal_path is not None else journal.begin(plan)
    with fs_boundary(plan.global_cache, "migrate stopped (resumed by the next run) at"):
        outcome = execute(plan, on_bytes=on_bytes)
    done = [it for it in plan.items if it.label not in outcome.failed_items]
    locked: list[str] = []
    if plan.lock_path:
        locked = update_lock(Path(plan.lock_path), [it.lock_entry for it in done])
    record.remember(Path(plan.global_cache), done)
    if not outcome.retry:  # else kept: the next run finishes it to the same revision
        journal.end(path)
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
