"""`linker lock` as plan-then-apply: ask the Hub what each entry's pin and file list should be, compare with the
lock (a `LockPlan` of plain data), then write only the entries that change, in one atomic rewrite."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import EXIT_FAILED, EXIT_HUB, EXIT_OK, LinkerError
from .lockfile import Entry, LockedFile, Lockfile


@dataclass
class LockChange:
    """What `linker lock` would write for one entry."""

    repo: str  # the entry label
    id: str
    type: str
    ref: str
    old_revision: str
    new_revision: str
    files: dict[str, LockedFile]
    added: int = 0
    removed: int = 0
    changed: int = 0
    files_were_missing: bool = False

    @property
    def moved(self) -> bool:
        return self.old_revision != self.new_revision

    @property
    def files_changed(self) -> bool:
        return self.files_were_missing or bool(self.added or self.removed or self.changed)

    @property
    def resolves(self) -> bool:
        """The entry was hand-written intent (no commit yet): this change pins it."""
        return not self.old_revision

    def describe(self) -> str:
        parts = []
        if self.resolves:
            parts.append(f"locked {self.ref} at {self.new_revision[:7]}")
        elif self.moved:
            parts.append(f"{self.old_revision[:7]} -> {self.new_revision[:7]} ({self.ref})")
        if self.files_were_missing:
            parts.append(f"files written ({len(self.files)})")
        elif self.files_changed:
            parts.append(f"files refreshed (+{self.added} -{self.removed} ~{self.changed})")
        return f"{self.repo}: " + ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = len(self.files)
        d["moved"] = self.moved
        d["resolved"] = self.resolves
        return d


@dataclass
class LockPlan:
    upgrade: bool
    changes: list[LockChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # label -> why
    errors: dict[str, LinkerError] = field(default_factory=dict)  # label -> what went wrong
    unresolved: list[str] = field(default_factory=list)  # entries not locked yet and not selected by ID...

    @property
    def out_of_date(self) -> bool:
        """`lock --check` fails: something would change, or some entry is still not locked to a commit."""
        return bool(self.changes or self.unresolved)

    @property
    def error_exit_code(self) -> int:
        """1 if the Hub says some pin does not exist (the lock is wrong), else 3 (network, token, rate limit)."""
        if not self.errors:
            return EXIT_OK
        if any(e.exit_code == EXIT_FAILED for e in self.errors.values()):
            return EXIT_FAILED
        return max(e.exit_code for e in self.errors.values()) or EXIT_HUB

    def to_json(self) -> dict[str, Any]:
        return {
            "upgrade": self.upgrade,
            "changes": [c.to_json() for c in self.changes],
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": {label: e.message for label, e in self.errors.items()},
            "unresolved": self.unresolved,
        }


def plan_lock(lock: Lockfile, *, upgrade: bool = False, ids: tuple[str, ...] = (), jobs: int = 8) -> LockPlan:
    """Ask the Hub, for each selected entry, for the pin (`--upgrade`: the current commit of its `ref`) and the
    file list at that pin; keep what differs from the lock. Nothing is written."""
    from . import hub

    plan = LockPlan(upgrade=upgrade)
    entries = lock.select(ids, hint="`linker add ID` adds it")
    for e in lock.unresolved:
        if e not in entries:
            plan.unresolved.append(e.label)
    todo = []
    for e in entries:
        if e.local:
            plan.skipped[e.label] = "local revision (from `linker migrate`): not on the Hub"
        else:
            todo.append(e)

    def one(entry: Entry) -> LockChange | LinkerError | None:
        try:
            revision = entry.revision
            if entry.wants is not None:  # hand-written intent: always resolved, as `uv lock` does
                revision = hub.resolve_revision(entry.id, entry.wants, entry.type)
            elif upgrade:
                revision = hub.resolve_revision(entry.id, entry.ref, entry.type)
            files = hub.list_files(entry.id, revision, entry.type, entry.include, entry.exclude)
        except LinkerError as exc:
            return exc
        return _change(entry, revision, files)

    for entry, outcome in zip(todo, hub.parallel_map(one, todo, jobs=jobs), strict=True):
        if isinstance(outcome, LinkerError):
            plan.errors[entry.label] = outcome
        elif outcome is None:
            plan.unchanged.append(entry.label)
        else:
            plan.changes.append(outcome)
    return plan


def _change(entry: Entry, revision: str, files: dict[str, LockedFile]) -> LockChange | None:
    old = entry.files
    change = LockChange(entry.label, entry.id, entry.type, entry.ref, entry.revision, revision, files)
    if old is None:
        change.files_were_missing = True
    else:
        change.added = len(files.keys() - old.keys())
        change.removed = len(old.keys() - files.keys())
        change.changed = sum(1 for p in files.keys() & old.keys() if files[p] != old[p])
    return change if (change.moved or change.files_changed) else None


def apply_lock_plan(lock_path: Path, plan: LockPlan) -> None:
    """Write every change of the plan in one atomic rewrite of the lockfile."""
    from .lockedit import upsert_entries

    if plan.changes:
        upsert_entries(lock_path, [_upsert(c) for c in plan.changes], only_existing=True)  # removed stays removed


def _upsert(c: LockChange) -> dict[str, Any]:
    """The keys `lock` writes: the commit and the files; a resolved `revision: v1.0` also becomes `ref: v1.0`."""
    out: dict[str, Any] = {"id": c.id, "type": c.type, "revision": c.new_revision, "files": c.files}
    if c.resolves and c.ref != "main":
        out["ref"] = c.ref
    return out
