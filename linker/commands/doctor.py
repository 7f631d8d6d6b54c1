"""`linker doctor`: the environment in effect, and what is wrong with it (each finding with its fix)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app

_SIGN = {"ok": "ok  ", "info": "    ", "warn": "WARN", "fail": "FAIL"}


@click.command()
@json_option
@pass_app
def command(app: App) -> int:
    """Report the global cache in use (and which variable chose it), offline mode and token (never its value),
    whether symlinks and hardlinks work between the view and the global cache, free space, variables that send
    libraries elsewhere, folders that shadow pinned ids, and permissions. Exit 0 when nothing is wrong, else 1.
    Works without a lockfile (project checks are then skipped)."""
    from ..doctor import diagnose

    report = diagnose(app.cache_dir, app.lockfile)
    if app.json:
        app.emit_json(report.to_json())
        return report.exit_code
    for c in report.checks:
        app.out(f"{_SIGN.get(c.status, c.status)}  {c.name}: {c.summary}")
        if c.fix:
            app.out(f"        fix: {c.fix}")
    n = len(report.problems)
    app.out("\nNo problems found." if not n else f"\n{n} problem(s) found.")
    return report.exit_code
