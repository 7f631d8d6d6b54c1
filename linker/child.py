"""Running a child command as a shell would: signals passed on, its exit status as the shell reports it.

Shared by `linker run`, `linker run --strict` and `linker record`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Callable
from types import FrameType

from .errors import EXIT_USAGE, ConfigError, fs_boundary

#: Signals passed on to the child, so `docker stop`, `timeout` and CI cancellation reach it.
FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
#: Signals a terminal already sends to the whole foreground group: the child gets them; linker waits for it.
IGNORED = (signal.SIGINT, signal.SIGQUIT)


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
