"""`linker doctor`: the environment in effect, and what is wrong with it (each finding with its fix)."""

from __future__ import annotations

import click

from ..context import App, json_option, pass_app


@click.command()
@json_option
@pass_app
def command(app: App) -> int:
    """Report the global cache in use (and which variable chose it), offline mode and token (never its value),
    whether symlinks and hardlinks work between the view and the global cache, free space, variables that send
    libraries elsewhere, folders that shadow pinned ids, permissions, and the shared read-only tiers
    (readable, read-only, filesystem type). Exit 0 when nothing is wrong, else 1.
    Works without a lockfile (project checks are then skipped)."""
    from ..doctor import diagnose
    from ..render.doctor import render_doctor

    report = diagnose(app.cache_dir, app.lockfile, shared=app.shared_cache)
    if app.json:
        app.emit_json(report.to_json())
        return report.exit_code
    render_doctor(app, report)
    return report.exit_code
