"""`linker audit`: per entry, its files by risk class; per pickle, what it imports."""

from __future__ import annotations

from ..context import App
from ..policy import EntryAudit, FileAudit, Finding, Risk


def render_audit(app: App, audits: list[EntryAudit], refused: list[Finding]) -> None:
    for a in audits:
        app.out(a.label)
        for f in a.of(Risk.PICKLE):
            app.out(f"  pickle       {f.path}{_imports(f)}")
        for f in a.of(Risk.REMOTE_CODE):
            app.out(f"  remote code  {f.path}")
        safe = a.of(Risk.SAFE)
        if safe:
            names = ", ".join(f.path for f in safe[:4]) + (", ..." if len(safe) > 4 else "")
            app.out(f"  safe         {len(safe)} file{'s' if len(safe) != 1 else ''} ({names})")
    for r in refused:
        app.out(f"refused: {r.line()}")


def _imports(f: FileAudit) -> str:
    if f.scan is None:
        return "  (not on this machine: not read)"
    if f.dangerous:
        names = ", ".join(f.scan.unsafe) or "nothing readable"
        why = "" if f.scan.complete else f"; not fully read: {f.scan.note}"
        return f"  DANGEROUS: imports {names}{why}"
    return f"  imports {', '.join(sorted(set(f.scan.globals))) or 'nothing'}"
