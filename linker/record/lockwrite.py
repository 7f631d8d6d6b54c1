"""`linker record --lock`: the lockfile edits that make the lock cover what the program loaded."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lockfile import Lockfile
from .report import RepoUse, covers


@dataclass
class LockEdits:
    """The entries to upsert (lockedit's dict form) and the repos left alone, with why."""

    upserts: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)  # the entries whose files map `linker lock` then writes
    skipped: dict[str, str] = field(default_factory=dict)
    lock_path: Path | None = None  # the lockfile written


def plan_edits(lock: Lockfile | None, uses: list[RepoUse], *, exact: bool = False) -> LockEdits:
    """New entries pinned to the commit loaded, `include` = exactly the files loaded; existing entries widened
    (include grows, `absent` grows), or with `exact` set to what was observed (pin, include, absent)."""
    edits = LockEdits()
    for use in uses:
        entry = lock.find(use.id, use.type) if lock is not None else None
        loaded = sorted(use.loaded)
        absent = sorted(use.absent - use.loaded)
        if not loaded:
            edits.skipped[use.label] = "no file was loaded (an include list would be empty: all files)"
            continue
        commit = use.commit
        if commit is None and (entry is None or exact or not entry.resolved):
            why = "several commits were loaded" if len(use.commits) > 1 else "the commit loaded is not known"
            edits.skipped[use.label] = why
            continue
        up: dict[str, Any] = {"id": use.id, "type": use.type}
        if entry is None or exact:
            up.update(revision=commit, include=[glob.escape(p) for p in loaded], absent=absent or None)
            if entry is not None:
                up["exclude"] = None
        else:
            if not entry.resolved:
                up["revision"] = commit
            if entry.include:
                extra = [glob.escape(p) for p in loaded if not covers(entry, p)]
                if extra:
                    up["include"] = [*entry.include, *(e for e in extra if e not in entry.include)]
            new_absent = [p for p in absent if p not in entry.absent]
            if new_absent:
                up["absent"] = [*entry.absent, *new_absent]
        edits.upserts.append(up)
        edits.labels.append(use.label)
    return edits
