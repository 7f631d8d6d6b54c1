"""Text output of `linker cache move`."""

from __future__ import annotations

import shlex
from pathlib import Path

from ..cachemove import COPY, MoveResult
from ..context import App
from .text import human_size


def render_move(app: App, result: MoveResult, new: Path) -> None:
    plan = result.plan
    if plan is None:
        app.out(f"The global cache is already at {new}.")
    else:
        files = sum(1 for i in plan.items if i.kind == "file")
        how = "copy, verify every file, then delete the old copy" if plan.mode == COPY else "rename (same filesystem)"
        verb = "Would move" if result.dry_run else "Moved"
        app.out(f"{verb} {plan.old} -> {plan.new}: {files} file(s), {human_size(plan.bytes)}, by {how}")
        if plan.fixes:
            app.out(f"  {len(plan.fixes)} link(s) that would dangle rewritten")
        if plan.skipped:
            app.out(f"  not moved (neither file, link nor folder): {', '.join(plan.skipped[:5])}")
    for w in result.warnings:
        app.log(f"warning: {w}")
    for r in result.relinked:
        state = "relinked" if r.ok else f"NOT relinked ({r.message}); run `linker sync` there"
        app.out(f"  view {r.view}: {state}")
    if result.left:
        app.out(f"  left in {plan.old if plan else ''} (written there during the move): {', '.join(result.left[:5])}")
    if result.dry_run:
        return
    app.out("Put this line in your shell profile:")
    app.out(f"export HF_HUB_CACHE={shlex.quote(str(new))}")
