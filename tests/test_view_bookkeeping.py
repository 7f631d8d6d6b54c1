"""The view's own bookkeeping under hostile edits: a FIFO put where linker keeps its manifest never hangs a command,
and the next sync replaces it with a real manifest."""

from __future__ import annotations

import os

from linker.hfcache import manifest_path
from testing.repairkit import synced


def test_a_fifo_in_place_of_the_manifest_is_not_a_hang(project) -> None:
    synced(project)
    manifest = manifest_path(project.view)
    manifest.unlink()
    os.mkfifo(manifest)
    for args in (["status"], ["sync", "--check"], ["verify"], ["sync"]):
        r = project.linker(*args, timeout=30)  # a blocking open of the FIFO would time out here
        assert "internal error" not in r.stderr, (args, r.stderr)
    assert manifest.is_file() and not manifest.is_symlink()  # the sync wrote a real one in its place
    assert project.linker("sync", "--check").returncode == 0
