"""Human rendering of plans and reports (the JSON form is `Plan.to_json`)."""

from __future__ import annotations

from collections import defaultdict

from .context import App
from .plan import human_size
from .sync.plan import BLOB, FETCH, LINK, MOVE_ASIDE, REMOVE, Plan

MAX_ROWS = 25  # longer plans are summarised unless -v

_STATE_TEXT = {
    "linked": "linked",
    "missing": "missing from global cache",
    "partial": "partial",
    "broken": "broken link",
    "stale": "stale",
    "not-in-lock": "not in lock",
}


def state_text(state: str) -> str:
    return _STATE_TEXT.get(state, state)


def render_plan(app: App, plan: Plan, *, header: str | None = None) -> None:
    """One line per repo that changes (every action with -v), then problems and notices."""
    for notice in plan.notices:
        app.log(notice)
    if header:
        app.out(header)
    by_repo: dict[str, list] = defaultdict(list)
    for a in plan.ordered():
        by_repo[a.repo].append(a)
    revisions = {e.repo: (e.revision, e.ref) for e in plan.entries}
    shown = list(by_repo.items()) if app.verbose or len(by_repo) <= MAX_ROWS else list(by_repo.items())[: MAX_ROWS - 5]
    for repo, actions in shown:
        kinds = defaultdict(int)
        size = 0
        for a in actions:
            kinds[a.kind] += 1
            size += a.size if a.kind == BLOB else 0
        rev, ref = revisions.get(repo, ("", ""))
        parts = []
        if kinds[FETCH]:
            parts.append("fetch from the Hub")
        if kinds[MOVE_ASIDE]:
            parts.append(f"move {kinds[MOVE_ASIDE]} file(s) linker did not create aside (--force)")
        if kinds[LINK]:
            parts.append(f"link {kinds[LINK]} file(s)" + (f", {human_size(size)}" if size else ""))
        other = sum(n for k, n in kinds.items() if k not in (FETCH, LINK, BLOB, REMOVE, MOVE_ASIDE))
        if other:
            parts.append(f"{other} bookkeeping write(s)")
        if kinds[REMOVE]:
            parts.append(f"remove {kinds[REMOVE]} stale path(s)")
        sign = "-" if kinds[REMOVE] and not kinds[LINK] else "+"
        at = f"@{rev[:7]} ({ref})" if rev else ""
        app.out(f"  {sign} {repo}{at}: " + ", ".join(parts))
        if app.verbose:
            for a in actions:
                app.out(f"      {a.describe()}")
    if len(shown) < len(by_repo):
        app.out(f"  … and {len(by_repo) - len(shown)} more repo(s) (-v lists every action)")
    problems = plan.problems if app.verbose or len(plan.problems) <= MAX_ROWS else plan.problems[: MAX_ROWS - 5]
    for p in problems:
        app.out(f"  ! {p.describe()}")
    if len(problems) < len(plan.problems):
        app.out(f"  … and {len(plan.problems) - len(problems)} more problem(s) (-v, or --json, lists them all)")


def render_table(app: App, rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    app.out("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)).rstrip())
    for r in rows:
        app.out("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
