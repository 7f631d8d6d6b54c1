"""Text output of `linker gc`: the refs and their states, what prune would free, then what was done."""

from __future__ import annotations

from ..context import App
from ..gc import ORPHANED, GcPlan, GcResult
from ..hfcache import SHA40
from .text import human_size, render_table


def render_gc_plan(app: App, plan: GcPlan, *, dry_run: bool, prune: bool) -> None:
    """Every project ref with its owner and state; the orphaned ones gc removes; what `hf cache prune` frees then."""
    if not plan.refs:
        app.out(f"No project refs of linker in {plan.global_cache}")
    else:
        rows = [[r.repo, r.ref, _rev(r.revision), r.state, r.owner or "-", r.describe()] for r in plan.refs]
        render_table(app.out, rows, ["REPO", "REF", "REVISION", "STATE", "LOCKFILE", "WHY"])
    orphans = plan.orphaned
    if orphans:
        verb = "Would remove" if dry_run else "Removing"
        app.out(f"\n{verb} {len(orphans)} orphaned ref(s); refs it did not create are never touched.")
    if not plan.detached:
        app.out("Nothing for `hf cache prune` to free" + (" after that." if orphans else "."))
        return
    then = " then" if orphans else ""
    app.out(f"`hf cache prune` would{then} free {human_size(plan.freed)} ({plan.freed} bytes):")
    for d in plan.detached:
        app.out(f"  {d.repo}@{d.revision[:12]}  {human_size(d.size)} ({d.size} bytes, {d.files} file(s))")
    if prune and not dry_run:
        app.out("Deleting these revisions (--prune), through huggingface_hub's own deletion.")
    elif not prune:
        app.out("Run `linker gc --prune` (or `hf cache prune`) to delete them.")


def _rev(raw: str) -> str:
    """A ref's content: the short sha, or (not a commit) quoted, so a newline cannot break the table."""
    return raw[:12] if SHA40.fullmatch(raw) else repr(raw[:12])


def render_gc_result(app: App, result: GcResult) -> None:
    for ref, why in result.skipped:
        app.log(f"warning: kept {ref.path}: {why}")
    if result.removed:
        app.out(f"Removed {len(result.removed)} orphaned ref(s).")
    elif any(r.state == ORPHANED for r in result.plan.refs):
        app.out("Removed no ref.")
    if result.pruned:
        app.out(f"Deleted {len(result.pruned)} revision(s), freed {human_size(result.pruned_bytes)}.")
