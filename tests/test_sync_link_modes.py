"""`linker sync` link modes: symlink, hardlink and copy, chosen by flag or environment; switching relinks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.hfprobe import load_file
from testing.repairkit import view_repo
from testing.synckit import OLD, lock_entry, two_revisions


@pytest.mark.parametrize("mode", ["symlink", "hardlink", "copy"])
def test_link_modes(project, mode: str) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()], link_mode=mode)
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    blob = view_repo(project) / "blobs" / info.etag(OLD, "model.safetensors")
    source = Path(os.path.realpath(info.blob_path(OLD, "model.safetensors")))
    assert blob.is_symlink() == (mode == "symlink")
    if mode != "symlink":
        assert os.path.samefile(blob, source) == (mode == "hardlink")
        # The view survives deletion from the global cache.
        for p in info.blobs.values():
            p.unlink()
        assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    else:
        assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    # Still in sync: a hardlink or copy view does not depend on the global blobs it was made from.
    assert project.linker("sync", "--check").returncode == 0


def test_cli_flag_and_env_choose_the_link_mode_and_switching_relinks(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(OLD, "config.json")
    assert blob.is_symlink()
    assert project.linker("sync", "--check", "--link-mode", "copy").returncode == 1
    assert project.linker("sync", env={"LINKER_LINK_MODE": "copy"}).returncode == 0
    assert not blob.is_symlink() and blob.read_bytes() == old["config.json"]
    assert project.linker("sync", "--link-mode", "auto").returncode == 0
    assert blob.is_symlink()
