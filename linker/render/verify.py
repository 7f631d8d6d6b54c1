"""`linker verify` as text: local findings with their fixes, or one line per pin checked on the Hub; each
ends with a summary line."""

from __future__ import annotations

from ..context import App
from ..verify.local import VerifyReport
from ..verify.remote import LOCAL, OK, TROUBLE, WRONG, RemoteReport
from .text import human_size


def render_local(app: App, report: VerifyReport) -> None:
    """Findings, one per line with its fix (errors first, then warnings), then a summary line."""
    for f in sorted(report.findings, key=lambda f: f.severity != "error"):
        app.out(f"  ! {f.describe()}")
    files = sum(e.files for e in report.entries)
    size = human_size(sum(e.size for e in report.entries))
    hashed = f", hashed {report.hashed_files} blob(s) ({human_size(report.hashed_bytes)})" if report.full else ""
    if report.full and report.remembered:
        hashed += f", {report.remembered} verified before and unchanged (--rehash hashes them too)"
    bad = sum(not e.ok for e in report.entries)
    if report.ok:
        app.out(f"OK: {len(report.entries)} repo(s), {files} file(s), {size}{hashed} in {report.elapsed:.2f}s")
    else:
        app.out(
            f"FAILED: {len(report.errors)} problem(s) in {bad} of {len(report.entries)} repo(s) "
            f"({files} file(s), {size}{hashed}); `linker repair` fixes what it can"
        )


def render_remote(app: App, report: RemoteReport) -> None:
    """One line per entry (problems first in detail), then a summary that says which exit code and why."""
    width = max([len(e.text) for e in report.entries] + [2])
    for e in report.entries:
        mark = "✓" if e.status == OK else ("-" if e.status == LOCAL else "✗")
        line = f"  {mark} {e.text.ljust(width)}  {e.repo}@{e.revision[:7]}"
        if e.status == OK and e.files_checked:
            line += f" ({e.files_checked} file(s))"
        if e.message and e.status != OK:
            line += f": {e.cause or e.message}"
        elif e.message:
            line += f" (note: {e.message})"
        app.out(line)
        for p in e.file_problems[:20]:
            app.out(f"      {p.describe()}")
        if len(e.file_problems) > 20:
            app.out(f"      ... and {len(e.file_problems) - 20} more")
    wrong, unchecked, local = report.count(WRONG), report.count(TROUBLE), report.count({LOCAL})
    ok = report.count({OK})
    summary = f"{ok}/{len(report.entries)} ok on {report.endpoint} in {report.elapsed:.2f}s"
    if local:
        summary += f", {local} local (not checked)"
    if wrong:
        summary += f"; {wrong} pin(s) wrong: fix the lock (`linker lock`, `linker lock --upgrade ID`)"
    if unchecked:
        summary += f"; {unchecked} could not be checked (network, token or rate limit)"
    app.out(summary)
