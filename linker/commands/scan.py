"""`linker scan [PATH]...`: the Hub repos the project's code names (found with `ast`, never run), against the lock."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..context import App, json_option, pass_app
from ..errors import ConfigError, HubError, LinkerError
from ..lockfile import Lockfile, find_lockfile, load_lockfile, repo_label
from ..render.scan import render_scan
from ..scan import ScanReport, scan


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), metavar="[PATH]...")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB", help="Leave out matching files and folders.")
@click.option("--add", "add", is_flag=True, help="Add the unpinned repos to the lock, as `linker add` does.")
@json_option
@pass_app
def command(app: App, paths: tuple[Path, ...], excludes: tuple[str, ...], add: bool) -> int:
    """Find the Hub repos the code names (Python files and notebooks; default PATH: the lockfile's folder) and
    say which the lock pins. Skips the view, virtualenvs, .git, node_modules, site-packages and --exclude GLOB.

    Exit codes: 0 every literal reference is pinned; 1 a reference is unpinned or asks for another revision;
    2 bad arguments or lockfile; 3 (--add) Hub unreachable, token refused, or rate limited.
    """
    lock = _lockfile(app)
    root = lock.root if lock is not None else Path.cwd()
    if lock is None:
        app.log("note: no project_cache.yaml here or in a parent folder: every reference is unpinned")
    report = scan(list(paths), root=root, lock=lock, excludes=excludes)
    if add and report.unpinned_repos():
        report = _add(app, report, lock)
    if app.json:
        app.emit_json(report.to_json())
    else:
        render_scan(app, report)
    return report.exit_code


def _lockfile(app: App) -> Lockfile | None:
    """The lockfile (hand-written intent allowed), or None when there is none and none was named."""
    try:
        path = find_lockfile(app.config)
    except ConfigError:
        if app.config or os.environ.get("LINKER_CONFIG"):
            raise
        return None
    return app.lockfile(unresolved_ok=True) if path else None


def _add(app: App, report: ScanReport, lock: Lockfile | None) -> ScanReport:
    """Pin each unpinned repo (at the revision the code asks for, else main) and judge the code again."""
    from ..adding import add_repo
    from ..lockedit import lockfile_to_edit
    from ._gitignore import ignore_new_view

    lock_path = lock.path if lock is not None else lockfile_to_edit(app.config)
    created = False
    for repo_id, repo_type, revision in report.unpinned_repos():
        try:
            added = add_repo(lock_path, repo_id, revision or "main", repo_type, log=app.log)
        except HubError:
            if report.added:
                app.log(f"{len(report.added)} repo(s) were added to {lock_path} before this error")
            raise
        except LinkerError as exc:
            report.not_added.append((repo_label(repo_id, repo_type), exc.message))
            continue
        created = created or added.created
        report.added.append(added)
        if added.warning:
            app.log(added.warning)
    if created:
        ignore_new_view(app, lock_path)
    return report.rejudge(load_lockfile(lock_path)) if lock_path.exists() else report
