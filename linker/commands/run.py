"""`linker run -- CMD ARGS...`: run a command against the pinned view, offline."""

from __future__ import annotations

import os

import click

from ..child import check_program, run_forwarding
from ..context import App, pass_app
from .env import view_environment


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.option("--strict", is_flag=True, help="Record every Hub lookup; exit 1 if the view could not serve one.")
@click.argument("cmd", nargs=-1, required=True, type=click.UNPROCESSED)
@pass_app
def command(app: App, strict: bool, cmd: tuple[str, ...]) -> int:
    """Run CMD with HF_HUB_CACHE=<view> and HF_HUB_OFFLINE=1; exit with its exit code (128+N if signal N
    killed it). SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to linker are passed on to CMD.

    --strict also points HF_ENDPOINT at a 127.0.0.1 port that answers nothing and records every huggingface_hub
    lookup (as `linker record` does); after CMD ends it prints each file the view could not serve and exits 1 if
    there was one, else CMD's exit code. Probes for files the entry lists as `absent` are not misses."""
    env = {**os.environ, **view_environment(app)}
    check_program(cmd[0], env)
    if strict:
        from ._strict import run_strict

        return run_strict(app, list(cmd), env)
    return run_forwarding(list(cmd), env)
