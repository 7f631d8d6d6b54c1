"""Filesystem faults for tests, made with the tools root has: a tiny tmpfs (ENOSPC), and `chattr +i`.

Each is undone in a `finally`, so a failing test never leaves a mount or an immutable file behind."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(where: Path, size: str = "2m") -> Iterator[Path]:
    """Mount a tmpfs of `size` at `where` (created if needed); skip the test where mounting is not allowed."""
    where.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """`chattr +i` on files or folders (root ignores mode bits); skip where the filesystem cannot."""
    if subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True)


@contextlib.contextmanager
def read_only_mount(where: Path) -> Iterator[Path]:
    """Bind-mount `where` onto itself read-only (EROFS for every write, as a read-only shared cache gives, even
    for root); skip the test where mounting is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root")
    done = subprocess.run(["mount", "--bind", str(where), str(where)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        ro = subprocess.run(["mount", "-o", "remount,ro,bind", str(where)], capture_output=True)
        if ro.returncode != 0:
            pytest.skip(f"cannot remount read-only here: {ro.stderr.decode().strip()}")
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


# os.rename fails as across filesystems: the command copies, verifies and deletes instead (the path a kill hurts most)
_EXDEV_WRAPPER = """
import errno, os, sys
def _exdev(*a, **k):
    raise OSError(errno.EXDEV, "Invalid cross-device link")
os.rename = _exdev
from linker.cli import main
main(sys.argv[1:])
"""


def linker_cmd(tmp_path: Path, cross_device: bool = False) -> list[str]:
    """How to run `linker` in a subprocess; with `cross_device`, every rename fails with EXDEV."""
    if not cross_device:
        return [sys.executable, "-m", "linker"]
    wrapper = tmp_path / "exdev.py"
    wrapper.write_text(_EXDEV_WRAPPER)
    return [sys.executable, str(wrapper)]
