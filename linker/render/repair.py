"""`linker repair` as text: what was found, each fix (planned or applied), what could not be fixed and why."""

from __future__ import annotations

from ..context import App
from ..repair.apply import DONE, SKIPPED, RepairResult


def render_recovered(app: App, lines: list[str]) -> None:
    """One line per interrupted migrate that was finished (or would be)."""
    for line in lines:
        app.out(f"  + migrate: {line}")


def render_journals_only(app: App, lines: list[str]) -> None:
    """No lockfile here: only the global cache's interrupted migrates were handled."""
    render_recovered(app, lines)
    app.out("No project_cache.yaml here: only the global cache's interrupted migrate was handled.")


def render_repair(app: App, result: RepairResult, *, dry_run: bool) -> None:
    """The problems found, the fixes (planned with --dry-run, else applied), the unfixable, then the verify."""
    plan = result.plan
    before = plan.before
    for notice in plan.notices:
        app.log(notice)
    render_recovered(app, result.recovered)
    found = before.errors if before else []
    if not plan.fixes and not plan.problems and not found:
        warnings = len(before.findings) if before else 0
        extra = f" ({warnings} warning(s) left as they are)" if warnings else ""
        app.out(f"Nothing to repair: {plan.view} is sound{extra}")
        return
    if found:
        app.out(f"Found {len(found)} problem(s):")
        for f in found:
            app.out(f"  ! [{f.kind}] {f.repo}: {f.path + ': ' if f.path else ''}{f.detail}")
    if dry_run:
        if plan.fixes:
            app.out(f"Would apply {len(plan.fixes)} fix(es):")
            for fix in plan.ordered():
                app.out(f"  + {fix.describe()}")
    else:
        app.out(f"Applied {sum(o.status == DONE for o in result.outcomes)} of {len(result.outcomes)} fix(es):")
        for o in result.outcomes:
            sign = {DONE: "+", SKIPPED: "-"}.get(o.status, "x")
            app.out(f"  {sign} {o.fix.describe()}" + (f" [{o.status}: {o.detail}]" if o.status != DONE else ""))
    unfixable = plan.problems + result.unfixable
    if unfixable:
        app.out(f"Cannot fix {len(unfixable)}:")
        for p in unfixable:
            app.out(f"  ! {p.repo}: {p.path + ': ' if p.path else ''}{p.detail}\n      fix: {p.fix}")
    after = result.after
    if after is None:
        return
    check = "verify --full" if after.full else "verify"
    if after.ok:
        app.out(f"{check}: OK ({len(after.entries)} repo(s), {sum(e.files for e in after.entries)} file(s))")
    else:
        app.out(f"{check}: still {len(after.errors)} problem(s):")
        for f in after.errors:
            app.out(f"  ! {f.describe()}")
