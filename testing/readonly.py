"""Make directories read-only for the test process, even as root (which ignores permission bits)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _chattr(flag: str, paths: list[Path]) -> bool:
    return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True).returncode == 0


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """chmod 0555 for a normal user; `chattr +i` for root (skips the test where the filesystem cannot)."""
    dirs = list(paths)
    if os.geteuid() != 0:
        modes = {d: d.stat().st_mode for d in dirs}
        for d in dirs:
            d.chmod(0o555)
        try:
            yield
        finally:
            for d, mode in modes.items():
                d.chmod(mode)
        return
    if not _chattr("+i", dirs):
        pytest.skip("cannot make a directory read-only for root here (chattr +i failed)")
    try:
        yield
    finally:
        _chattr("-i", dirs)
