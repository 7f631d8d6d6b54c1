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


@dataclass
class DoctorReport(Verdict):
    global_cache: Path
    source: str
    lockfile: Path | None
    view: Path | None
    checks: list[Check] = field(default_factory=list)

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
            "checks": [asdict(c) for c in self.checks],
        }
