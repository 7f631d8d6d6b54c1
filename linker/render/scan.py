"""`linker scan` as text: one line per reference (`file:line:col: state ...`), then notes and a summary."""

from __future__ import annotations

from ..context import App
from ..scan import Reference, ScanReport, State
from .text import human_size


def describe(ref: Reference) -> str:
    f = ref.found
    what = ref.label or ""
    if f.revision is not None and f.repo_id is not None:
        what += f"@{f.revision}"
    line = f"{f.place}: {ref.state.value} {what} ({f.call})".replace("  ", " ")
    if ref.conflict is not None:
        line += f": {ref.conflict.describe()}"
    elif f.dynamic is not None:
        line += f": {f.dynamic.describe()}"
    return line


def render_scan(app: App, report: ScanReport) -> None:
    for ref in report.references:
        app.out(describe(ref))
    for problem in report.unreadable:
        app.log(f"warning: {problem.describe()} (not scanned)")
    for a in report.added:
        app.out(f"+ {a.label}@{a.revision[:7]} ({a.ref}): {a.files} file(s), {human_size(a.size)} -> {a.lock_path}")
    for label, why in report.not_added:
        app.out(f"! {label}: not added: {why}")
    if report.unnamed:
        names = ", ".join(report.unnamed)
        app.out(f"note: in the lock, named by no scanned code (ids also come from config files): {names}")
    counts = report.counts()
    parts = ", ".join(f"{counts[s.value]} {s.value}" for s in State if counts[s.value])
    app.out(f"{report.files} file(s), {len(report.references)} reference(s){': ' + parts if parts else ''}")
    if counts[State.UNPINNED.value]:
        app.out("  `linker scan --add` pins the unpinned repos (or `linker add ID`)")
    if counts[State.CONFLICT.value]:
        app.out("  a conflict: make the code's revision= match the lock, or pin that revision (`linker lock`)")
    if report.added:
        app.out("  next: `linker sync` downloads and links what was added")
