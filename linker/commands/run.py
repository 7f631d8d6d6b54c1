"""`linker run -- CMD ARGS...`: run a command against the pinned view, offline."""

from __future__ import annotations

import os
import shutil
import subprocess

import click

from ..context import App, pass_app
from ..errors import ConfigError
from .env import view_environment


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
def command(app: App, cmd: tuple[str, ...]) -> int:
    """Run CMD with HF_HUB_CACHE=<view> and HF_HUB_OFFLINE=1; exit with its exit code."""
    env = {**os.environ, **view_environment(app)}
    if shutil.which(cmd[0], path=env.get("PATH")) is None and not os.path.exists(cmd[0]):
        raise ConfigError(f"command not found: {cmd[0]}")
    try:
        return subprocess.call(list(cmd), env=env)
    except KeyboardInterrupt:
        return 130
