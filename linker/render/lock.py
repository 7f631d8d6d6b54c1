"""The commands that edit the lockfile as text: `linker lock` (each change, then the verdict), `add`, `remove`."""

from __future__ import annotations

from pathlib import Path

from ..context import App
from ..lockplan import LockPlan
from .text import human_size, n_entries


def render_lock(app: App, plan: LockPlan, *, check: bool, written: bool, lock_path: str) -> None:
    for c in plan.changes:
        app.out(f"  {'↑' if c.moved else '~'} {c.describe()}")
    if app.verbose:
        for label in plan.unchanged:
            app.out(f"  = {label}: up to date")
    for label, why in plan.skipped.items():
        app.log(f"  - {label}: skipped, {why}")
    for label in plan.unresolved:
        app.out(f"  ? {label}: not locked to a commit yet (not selected)")
    for _label, err in plan.errors.items():
        app.out(f"  ! {err.message}")
    n = len(plan.changes)
    if plan.errors:
        app.log(f"{n_entries(len(plan.errors))} could not be resolved; {lock_path} was not changed")
    elif check and plan.out_of_date:
        again = "linker lock --upgrade" if plan.upgrade else "linker lock"
        app.out(f"{lock_path} is out of date: {n_entries(n + len(plan.unresolved))} would change; run `{again}`")
    elif written:
        app.out(f"Wrote {lock_path}: {n_entries(n)} changed, {len(plan.unchanged)} up to date")
    else:
        app.out(f"{lock_path} is up to date ({n_entries(len(plan.unchanged))})")


def render_added(
    app: App, label: str, sha: str, ref: str, files: int, size: int, lock_path: Path, created: bool
) -> None:
    where = f"new {lock_path}" if created else str(lock_path)
    app.out(f"+ {label}@{sha[:7]} ({ref}): {files} file(s), {human_size(size)} -> {where}")
    app.out("  next: `linker sync` downloads and links it")


def render_removed(app: App, label: str, revision: str, lock_path: Path) -> None:
    app.out(f"- {label}@{revision[:7]} removed from {lock_path}")
    app.out("  next: `linker sync` removes it from the view")
