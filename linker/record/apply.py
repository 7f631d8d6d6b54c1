"""`record --lock`: write the observed entries (comments and order kept), then their `files` maps from the Hub."""

from __future__ import annotations

from ..errors import LinkerError
from ..lockedit import create_lockfile, lockfile_to_edit, upsert_entries
from ..lockfile import Lockfile, load_lockfile
from ..lockplan import apply_lock_plan, plan_lock
from .lockwrite import LockEdits, plan_edits
from .report import RepoUse


def write_observed(config: str | None, lock: Lockfile | None, uses: list[RepoUse], *, exact: bool) -> LockEdits:
    """Edit the lockfile (`config`, else the one `linker add` would edit, created if need be) so that it covers
    `uses`; raises the first Hub error of the `files` step (the entries are written by then: `linker lock`
    finishes the job)."""
    path = lock.path if lock is not None else lockfile_to_edit(config)
    if lock is None:
        create_lockfile(path)
        lock = load_lockfile(path)
    edits = plan_edits(lock, uses, exact=exact)
    edits.lock_path = path
    if not edits.upserts:
        return edits
    upsert_entries(path, edits.upserts)
    plan = plan_lock(load_lockfile(path), ids=tuple(edits.labels))
    if plan.errors:
        err: LinkerError = next(iter(plan.errors.values()))
        raise err
    apply_lock_plan(path, plan)
    return edits
