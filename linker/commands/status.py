"""`linker status`: one row per entry of the lock (and per view repo the lock no longer lists)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK
from ..hfcache import repo_folder_name, repo_folders
from ..lockfile import repo_label
from ..render.sync import render_status
from ..sync import compute_plan
from ..sync.plan import EntryReport


@click.command()
@json_option
@pass_app
def command(app: App) -> int:
    """Show what the view holds for each pinned entry."""
    lock, global_cache = app.project()
    tiers = app.shared_tiers(lock, global_cache)
    planned = compute_plan(lock, global_cache, offline=True, shared=tiers)
    plan, mode = planned.plan, planned.link_mode
    rows = list(plan.entries)
    known = {repo_folder_name(e.id, e.type) for e in lock.entries} | {
        repo_folder_name(r.repo.split(":", 1)[-1], r.type) for r in rows
    }
    for repo_type, repo_id, _path in repo_folders(lock.view):
        if repo_folder_name(repo_id, repo_type) not in known:
            rows.append(
                EntryReport(
                    repo_label(repo_id, repo_type), repo_type, "", "", "not-in-lock", detail="not created by linker"
                )
            )
    totals = {
        "entries": len(lock.entries),
        "linked": sum(r.state == "linked" for r in rows),
        "files": sum(r.files for r in rows),
        "size": sum(r.size for r in rows),
    }
    if app.json:
        app.emit_json(
            {
                "view": str(lock.view),
                "global_cache": str(global_cache),
                "shared_caches": [t.to_json() for t in tiers],
                "link_mode": mode,
                "entries": [r.__dict__ for r in rows],
                "totals": totals,
                "problems": [p.__dict__ for p in plan.problems],
                "notices": plan.notices,
            }
        )
        return EXIT_OK
    render_status(app, rows, totals, lock.view, global_cache, plan.notices, shared=bool(tiers))
    return EXIT_OK
