"""`linker migrate` as text: the plan (what moves where, which revision and why), then what was done."""

from __future__ import annotations

from ..context import App
from ..migrate.plandata import COPY, HARDLINK, MOVE, OP_DEDUPE, MigratePlan
from ..migrate.run import Result
from .text import human_size


def mode_text(plan: MigratePlan) -> str:
    if plan.mode == COPY:
        return "copy (sources left untouched)"
    if plan.mode == HARDLINK:
        return "hard-link (sources left in place)"
    cross = any(b.cross_device for it in plan.items for b in it.blobs)
    return "move" + (" (another filesystem: copy, verify, then delete)" if cross else " (rename: no bytes copied)")


def render_migrate(app: App, result: Result, dry_run: bool, elapsed: float) -> None:
    """Each repo: where from, which revision and why, bytes by operation; then problems and the outcome."""
    plan = result.plan
    for line in result.recovered:
        app.log(line)
    for n in plan.notices:
        app.log(n)
    if plan.items:
        verb = "Would migrate" if dry_run else "Migrating"
        app.out(f"{verb} {len(plan.items)} repo(s) into {plan.global_cache}: {mode_text(plan)}")
    for it in result.plan.items:
        rev = ", ".join(r[:12] for r in it.revisions[:3]) + ("…" if len(it.revisions) > 3 else "")
        local = " (local revision)" if it.local else ""
        app.out(f"  + {it.label}@{rev}{local}  [{it.kind}]")
        app.out(f"      from {it.source}")
        app.out(f"      id: {it.id_reason}; revision: {it.reason}")
        by_op = it.bytes_by_op()
        parts = [f"{it.files} file(s), {human_size(it.size)}"]
        for op_kind, size in sorted(by_op.items()):
            word = {MOVE: "rename", OP_DEDUPE: "already there"}.get(op_kind, op_kind)
            parts.append(f"{word} {human_size(size)}")
        if it.refs:
            parts.append("refs: " + ", ".join(r.path.split("/refs/", 1)[-1] for r in it.refs))
        app.out("      " + "; ".join(parts))
        for note in it.notes:
            app.out(f"      note: {note}")
        if app.verbose:
            for b in it.blobs:
                app.out(f"      {b.op:8} {b.src} -> {b.dst} ({human_size(b.size)})")
            for link in it.links + it.relinks:
                app.out(f"      link     {link.path} -> {link.target}")
    problems = plan.problems + (result.outcome.problems if result.outcome else [])
    for p in problems:
        app.out(f"  ! {p.describe()}")
    if not plan.items and not problems:
        app.out("Nothing to migrate." if not result.recovered else "Nothing else to migrate.")
        for entry in result.locked:
            app.out(f"  locked {entry} in {plan.lock_path}")
        return
    if result.applied and result.outcome is not None:
        out = result.outcome
        app.out(
            f"Migrated {len(plan.items) - len(out.failed_items)} repo(s) in {elapsed:.2f}s: "
            f"{human_size(out.renamed)} renamed, {human_size(out.copied)} copied, "
            f"{human_size(out.linked)} hard-linked, {human_size(out.deduped)} already there"
        )
        for entry in result.locked:
            app.out(f"  locked {entry} in {plan.lock_path}")
        if plan.items and not plan.lock_path:
            app.log("next: `linker migrate ... --lock` or `linker add`, then `linker sync`")
    elif dry_run:
        app.out("Dry run: nothing was changed.")
    if problems:
        app.log(f"{len(problems)} problem(s)")
