"""`linker env`: the variables that make unmodified code load the pinned view offline."""

from __future__ import annotations

import click

from ..context import App, pass_app
from ..render.env import render_env


def view_environment(app: App) -> dict[str, str]:
    """HF_HUB_CACHE=<view> and HF_HUB_OFFLINE=1 (exit 2 when `cache_dir` is not a folder inside the project)."""
    lock = app.checked_lockfile()
    return {"HF_HUB_CACHE": str(lock.view), "HF_HUB_OFFLINE": "1"}


@click.command()
@pass_app
def command(app: App) -> int:
    """Print `export` lines for HF_HUB_CACHE and HF_HUB_OFFLINE (use: eval "$(linker env)")."""
    render_env(app, view_environment(app))
    return 0
