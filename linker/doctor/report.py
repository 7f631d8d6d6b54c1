"""What `linker doctor` returns: one `Check` per finding, gathered in a `DoctorReport`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Verdict

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | info | warn | fail
    summary: str
    fix: str = ""


@dataclass(frozen=True)
class TierState:
    """One shared read-only tier as doctor found it (linker/doctor/tiers.py)."""

    path: Path
    source: str
    readable: bool
    read_only: str  # why it is read-only ("read-only mount", "immutable", "not writable by you"), "" if writable
    fs_type: str | None
    locks_may_be_noops: bool
    problem: str = ""  # why it cannot be used (absent, not a folder, unreadable)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "source": self.source,
            "readable": self.readable,
            "read_only": bool(self.read_only),
            "read_only_why": self.read_only,
            "fs_type": self.fs_type,
            "locks_may_be_noops": self.locks_may_be_noops,
            "problem": self.problem,
        }


@dataclass
class DoctorReport(Verdict):
    global_cache: Path
    source: str
    lockfile: Path | None
    view: Path | None
    checks: list[Check] = field(default_factory=list)
    tiers: list[TierState] = field(default_factory=list)  # the shared read-only tiers (linker/doctor/tiers.py)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in (WARN, FAIL)]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "global_cache": str(self.global_cache),
            "global_cache_source": self.source,
            "lockfile": str(self.lockfile) if self.lockfile else None,
            "view": str(self.view) if self.view else None,
            "shared_caches": [t.to_json() for t in self.tiers],
            "checks": [asdict(c) for c in self.checks],
        }
