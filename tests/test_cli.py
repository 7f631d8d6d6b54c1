"""The `linker` command itself: --version, --help and usage errors."""

from __future__ import annotations

import subprocess
import sys


def test_version_help_and_usage_errors() -> None:
    run = lambda *a: subprocess.run([sys.executable, "-m", "linker", *a], capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout.startswith("linker, version")
    r = run("--help")
    assert r.returncode == 0 and "sync" in r.stdout and "status" in r.stdout
    assert run("sync", "--bogus").returncode == 2
    assert run("nosuchcommand").returncode == 2
