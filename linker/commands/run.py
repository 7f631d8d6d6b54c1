"""`linker run -- CMD ARGS...`: run a command against the pinned view, offline."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from types import FrameType

import click

from ..context import App, pass_app
from ..errors import EXIT_USAGE, ConfigError, fs_boundary
from .env import view_environment

#: Signals passed on to the child, so `docker stop`, `timeout` and CI cancellation reach it.
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
#: Signals a terminal already sends to the whole foreground group: the child gets them; linker waits for it.
IGNORED = (signal.SIGINT, signal.SIGQUIT)


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


def check_program(program: str, env: dict[str, str]) -> None:
    """Exit 2 before anything runs when `program` is not a command."""
    if shutil.which(program, path=env.get("PATH")) is None:
        if os.path.isdir(program):
            raise ConfigError(f"{program}: is a folder, not a command")
        if not os.path.exists(program):
            raise ConfigError(f"command not found: {program}")


def run_forwarding(argv: list[str], env: dict[str, str]) -> int:
    """Run `argv`, passing on FORWARDED signals; its exit status as a shell reports it (128+N for signal N)."""
    pending: list[int] = []
    child: subprocess.Popen[bytes] | None = None

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child is None:
            pending.append(signum)  # arrived before the child existed: delivered once it does
        else:
            _send(child, signum)

    saved = {s: signal.signal(s, forward) for s in FORWARDED}  # a handler is reset to the default by exec
    try:
        with fs_boundary(argv[0], "cannot run", exit_code=EXIT_USAGE):
            child = subprocess.Popen(argv, env=env, preexec_fn=_die_with_parent())
        saved.update({s: signal.signal(s, signal.SIG_IGN) for s in IGNORED})  # after: an ignore is inherited
        for signum in pending:
            _send(child, signum)
        status = child.wait()
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    return 128 - status if status < 0 else status


def _send(child: subprocess.Popen[bytes], signum: int) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)


def _die_with_parent() -> Callable[[], None] | None:
    """For the child before exec (Linux): SIGTERM it if linker itself dies, even by SIGKILL, which cannot be
    passed on. Loaded in the parent, so the child only makes the call; None where prctl does not exist."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return lambda: prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
