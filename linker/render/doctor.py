"""`linker doctor` as text: one line per check (with its fix), then how many problems."""

from __future__ import annotations

from ..context import App
from ..doctor import DoctorReport

_SIGN = {"ok": "ok  ", "info": "    ", "warn": "WARN", "fail": "FAIL"}


def render_doctor(app: App, report: DoctorReport) -> None:
    for c in report.checks:
        app.out(f"{_SIGN.get(c.status, c.status)}  {c.name}: {c.summary}")
        if c.fix:
            app.out(f"        fix: {c.fix}")
    n = len(report.problems)
    app.out("\nNo problems found." if not n else f"\n{n} problem(s) found.")
