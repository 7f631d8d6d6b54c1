"""What `linker scan` found, judged against the lock: each reference's state, and the lock entries no code names."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..adding import Added
from ..errors import Verdict
from ..lockfile import Entry, Lockfile, repo_label
from .calls import Dynamic, Found
from .files import Unreadable


class State(str, enum.Enum):
    PINNED = "pinned"  # the lock has it
    UNPINNED = "unpinned"  # the lock has no entry for it
    CONFLICT = "conflict"  # the code asks for a revision other than the lock's pin or ref
    DYNAMIC = "dynamic"  # not a literal: where it is, not what it is


@dataclass(frozen=True)
class Conflict:
    """The code passes `revision=` with a value the lock neither pins nor names as its ref."""

    asked: str
    pinned: str  # the entry's commit ("" while not locked yet)
    ref: str

    def describe(self) -> str:
        pin = f"pins {self.pinned[:12]} ({self.ref})" if self.pinned else f"wants {self.ref}"
        return f"the code asks for revision {self.asked}, the lock {pin}"


@dataclass(frozen=True)
class Reference:
    found: Found
    state: State
    conflict: Conflict | None = None

    @property
    def label(self) -> str | None:
        f = self.found
        return repo_label(f.repo_id, f.repo_type) if f.repo_id is not None else None

    @property
    def dynamic(self) -> Dynamic | None:
        return self.found.dynamic

    def to_json(self) -> dict[str, Any]:
        f = self.found
        return {
            "path": f.place.path,
            "line": f.place.line,
            "col": f.place.col,
            "cell": f.place.cell,
            "place": str(f.place),
            "id": f.repo_id,
            "type": f.repo_type,
            "loader": f.loader,
            "call": f.call,
            "revision": f.revision,
            "state": self.state.value,
            "conflict": (
                {"asked": self.conflict.asked, "pinned": self.conflict.pinned, "ref": self.conflict.ref}
                if self.conflict
                else None
            ),
            "dynamic": {"kind": f.dynamic.kind, "expr": f.dynamic.expr} if f.dynamic else None,
        }


def judge(found: Found, lock: Lockfile | None) -> Reference:
    """A reference's state against the lock."""
    if found.dynamic is not None or found.repo_id is None:
        return Reference(found, State.DYNAMIC)
    entry = lock.find(found.repo_id, found.repo_type) if lock is not None else None
    if entry is None:
        return Reference(found, State.UNPINNED)
    asked = found.revision
    if asked is not None and asked not in _names(entry):
        return Reference(found, State.CONFLICT, Conflict(asked, entry.revision, entry.ref))
    return Reference(found, State.PINNED)


def _names(entry: Entry) -> set[str]:
    return {n for n in (entry.revision, entry.ref, entry.wants) if n}


@dataclass
class ScanReport(Verdict):
    """Every reference found (in file order), the lock entries no scanned code names, and what could not be read.
    Exit code: 1 when a reference is unpinned or in conflict, else 0 (dynamic ones are reported, not judged)."""

    root: Path
    lockfile: Path | None
    files: int  # files read
    references: list[Reference]
    unnamed: list[str]  # labels of lock entries no reference names (ids also come from config files)
    unreadable: list[Unreadable]
    added: list[Added] = field(default_factory=list)  # `--add`: what was written
    not_added: list[tuple[str, str]] = field(default_factory=list)  # `--add`: label, why not
    complete: bool = True  # the whole project folder was scanned (else `unnamed` is left empty)

    @classmethod
    def build(
        cls, root: Path, lock: Lockfile | None, files: int, found: list[Found], unreadable: list[Unreadable]
    ) -> ScanReport:
        refs = [judge(f, lock) for f in found]
        named = {(r.found.repo_type, r.found.repo_id) for r in refs if r.found.repo_id is not None}
        unnamed = [e.label for e in (lock.entries if lock else []) if e.key not in named]
        return cls(root, lock.path if lock else None, files, refs, unnamed, unreadable)

    def rejudge(self, lock: Lockfile) -> ScanReport:
        """The same references judged against `lock` (after `--add` wrote it); `added`/`not_added` are kept."""
        found = [r.found for r in self.references]
        new = ScanReport.build(self.root, lock, self.files, found, self.unreadable)
        new.added, new.not_added, new.complete = self.added, self.not_added, self.complete
        if not self.complete:
            new.unnamed = []
        return new

    def of(self, state: State) -> list[Reference]:
        return [r for r in self.references if r.state == state]

    @property
    def ok(self) -> bool:
        return not any(r.state in (State.UNPINNED, State.CONFLICT) for r in self.references)

    def counts(self) -> dict[str, int]:
        return {s.value: len(self.of(s)) for s in State}

    def unpinned_repos(self) -> list[tuple[str, str, str | None]]:
        """(id, type, revision) of each unpinned repo, once, in order of first mention: the revision the code
        asks for when every mention asks for the same one, else None (main)."""
        asked: dict[tuple[str, str], set[str | None]] = {}
        for r in self.of(State.UNPINNED):
            assert r.found.repo_id is not None
            asked.setdefault((r.found.repo_id, r.found.repo_type), set()).add(r.found.revision)
        return [(i, t, next(iter(revs)) if len(revs) == 1 else None) for (i, t), revs in asked.items()]

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "lockfile": str(self.lockfile) if self.lockfile else None,
            "files": self.files,
            "complete": self.complete,
            "ok": self.ok,
            "counts": self.counts(),
            "references": [r.to_json() for r in self.references],
            "unnamed_entries": self.unnamed,
            "unreadable": [{"path": u.path, "kind": u.kind, "detail": u.detail} for u in self.unreadable],
            "added": [a.to_json() for a in self.added],
            "not_added": [{"repo": label, "error": why} for label, why in self.not_added],
        }
