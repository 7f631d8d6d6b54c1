"""`linker sync` and `linker status` as text: the plan (one line per repo), the outcome, the status table
(the JSON form is `Plan.to_json`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from ..context import App
from ..sync.plan import BLOB, FETCH, LINK, MOVE_ASIDE, REMOVE, Action, EntryReport, Plan
from .text import human_size, render_table

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
    by_repo: dict[str, list[Action]] = defaultdict(list)
    for a in plan.ordered():
        by_repo[a.repo].append(a)
    revisions = {e.repo: (e.revision, e.ref) for e in plan.entries}
    shown = list(by_repo.items()) if app.verbose or len(by_repo) <= MAX_ROWS else list(by_repo.items())[: MAX_ROWS - 5]
    for repo, actions in shown:
        kinds: defaultdict[str, int] = defaultdict(int)
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
        elif kinds[BLOB]:  # only the blobs change: a new link mode
            modes = "/".join(sorted({a.mode for a in actions if a.kind == BLOB}))
            parts.append(f"{modes} {kinds[BLOB]} blob(s), {human_size(size)}")
        other = sum(n for k, n in kinds.items() if k not in (FETCH, LINK, BLOB, REMOVE, MOVE_ASIDE))
        if other:
            parts.append(f"{other} bookkeeping write(s)")
        if kinds[REMOVE]:
            parts.append(f"remove {kinds[REMOVE]} stale path(s)")
        if not parts:  # never an empty line: name what is planned
            parts.append(", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
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


def render_sync(
    app: App, plan: Plan, applied: bool, read_only: bool, elapsed: float, view: object, warnings: list[str]
) -> None:
    """The plan (or "Already in sync"), warnings, then what was done; with -q only the problems."""
    linked = [e for e in plan.entries if e.state != "not-in-lock"]
    total = human_size(sum(e.size for e in linked))
    if app.quiet:  # errors only: the problems, each with its fix
        for p in plan.problems:
            app.out(f"  ! {p.describe()}")
        return
    if plan.empty and not plan.problems:
        for n in plan.notices:
            app.log(n)
        app.out(f"Already in sync: {len(linked)} repo(s), {total} in {view}")
        return
    verb = "Would change" if read_only else "Changed"
    render_plan(app, plan, header=f"{verb} {view}:" if plan.actions else None)
    for w in warnings:
        app.log(w)
    if applied:
        links = sum(1 for a in plan.actions if a.kind == LINK)
        done = [e for e in linked if e.state != "missing"]  # a pin absent from the global cache got no link
        count = f"{len(done)} of {len(linked)}" if len(done) != len(linked) else str(len(linked))
        app.out(f"Synced {count} repo(s) ({links} link(s), {total}) in {elapsed:.2f}s")
    if plan.problems:
        app.log(f"{len(plan.problems)} problem(s): the view is not complete")


def render_status(
    app: App,
    rows: list[EntryReport],
    totals: dict[str, int],
    view: Path,
    global_cache: Path,
    notices: Sequence[str] = (),
    *,
    shared: bool = False,
) -> None:
    """Notices, then one table row per entry (with shared tiers configured, a SOURCE column: which cache serves
    it), a hint per entry that needs one, then the totals; with -q only the rows that are not linked."""
    for n in notices:
        app.log(n)
    shared = shared or any(r.served not in ("", "global") for r in rows)
    if app.quiet:  # errors only: the entries that are not linked, nothing when all are
        rows = [r for r in rows if r.state != "linked"]
        if not rows:
            return
    table = [
        [r.repo, r.revision[:7], r.ref, state_text(r.state), str(r.files), human_size(r.size) if r.files else "-"]
        + ([r.served or "-"] if shared else [])
        for r in rows
    ]
    render_table(app.out, table, ["ID", "REVISION", "REF", "STATE", "FILES", "SIZE"] + (["SOURCE"] if shared else []))
    for r in rows:
        if r.detail and r.state != "not-in-lock":
            app.out(f"  hint: {r.repo}: {r.detail}")
    if app.quiet:
        return
    app.out(
        f"\n{totals['linked']}/{totals['entries']} linked, {totals['files']} files, "
        f"{human_size(totals['size'])} in {view} (global cache {global_cache})"
    )
