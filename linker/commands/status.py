"""`linker status`: one row per entry of the lock (and per view repo the lock no longer lists)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app
from ..errors import EXIT_OK
from ..hfcache import repo_folder_name, repo_folders
from ..plan import human_size
from ..render import render_table, state_text
from ..sync import compute_plan
from ..sync.plan import EntryReport


@click.command()
@json_option
@pass_app
def command(app: App) -> int:
    """Show what the view holds for each pinned entry."""
    lock, global_cache = app.project()
    planned = compute_plan(lock, global_cache, offline=True)
    plan, mode = planned.plan, planned.link_mode
    rows = list(plan.entries)
    known = {repo_folder_name(e.id, e.type) for e in lock.entries} | {
        repo_folder_name(r.repo.split(":", 1)[-1], r.type) for r in rows
    }
    for repo_type, repo_id, _path in repo_folders(lock.view):
        if repo_folder_name(repo_id, repo_type) not in known:
            label = repo_id if repo_type == "model" else f"{repo_type}:{repo_id}"
            rows.append(EntryReport(label, repo_type, "", "", "not-in-lock", detail="not created by linker"))
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
                "link_mode": mode,
                "entries": [r.__dict__ for r in rows],
                "totals": totals,
                "problems": [p.__dict__ for p in plan.problems],
            }
        )
        return EXIT_OK
    if app.quiet:  # errors only: the entries that are not linked, nothing when all are
        rows = [r for r in rows if r.state != "linked"]
        if not rows:
            return EXIT_OK
    table = [
        [r.repo, r.revision[:7], r.ref, state_text(r.state), str(r.files), human_size(r.size) if r.files else "-"]
        for r in rows
    ]
    render_table(app, table, ["ID", "REVISION", "REF", "STATE", "FILES", "SIZE"])
    for r in rows:
        if r.detail and r.state != "not-in-lock":
            app.out(f"  hint: {r.repo}: {r.detail}")
    if app.quiet:
        return EXIT_OK
    app.out(
        f"\n{totals['linked']}/{totals['entries']} linked, {totals['files']} files, "
        f"{human_size(totals['size'])} in {lock.view} (global cache {global_cache})"
    )
    return EXIT_OK
