"""`linker run --strict`: CMD against the view, offline, with every Hub lookup recorded and judged afterwards.

Not a verb: cli.py skips modules whose name starts with `_`."""

from __future__ import annotations

import shlex
import socket
import tempfile
from pathlib import Path

from ..child import run_forwarding
from ..context import App
from ..errors import EXIT_FAILED
from ..record import read_lookups, recorder_env
from ..record.report import strict_misses
from ..render.record import render_misses


def run_strict(app: App, cmd: list[str], env: dict[str, str]) -> int:
    with tempfile.TemporaryDirectory(prefix="linker-strict-") as tmp, socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never listening: a connection is refused at once
        endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
        record_file = Path(tmp) / "lookups.jsonl"
        status = run_forwarding(cmd, recorder_env({**env, "HF_ENDPOINT": endpoint}, record_file))
        lookups = read_lookups(record_file)
    misses = strict_misses(app.lockfile(), lookups)
    render_misses(misses, shlex.join(cmd))
    return EXIT_FAILED if misses else status
