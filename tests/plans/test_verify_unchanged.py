"""Fast verify's shortcut (linker/verify/unchanged.py): an entry whose folder stamps prove its view links unchanged
has its blobs stat()ed instead of every link followed; whatever changed is still reported, file by file."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from linker.lockfile import Lockfile
from linker.sync import sync
from linker.verify import local
from linker.verify.local import VerifyReport, verify
from testing.cachefactory import RepoInfo

from .conftest import REPO, REV, Setup, entry

FOLDER = f"models--{REPO.replace('/', '--')}"


def settled(setup: Setup, files: bool) -> tuple[RepoInfo, Lockfile]:
    """A synced view whose recorded stamps are older than its manifest (two syncs), and a pause: a change made
    now gets another mtime than the one recorded."""
    info = setup.repo()
    lock = setup.lock(entry(info, files=files))
    sync(lock, setup.global_cache)
    time.sleep(0.03)
    sync(lock, setup.global_cache)
    time.sleep(0.03)
    return info, lock


def view_snapshot(setup: Setup) -> Path:
    return setup.project.view / FOLDER / "snapshots" / REV


def global_blob(setup: Setup, path: str) -> Path:
    return Path(os.path.realpath(view_snapshot(setup) / path))


def flagged(report: VerifyReport, path: str) -> list[str]:
    return [f.kind for f in report.errors if f.path == path]


@pytest.mark.parametrize("files", [True, False], ids=["files-map", "no-files-map"])
def test_an_unchanged_entry_is_verified_without_following_every_link(
    setup: Setup, files: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    _info, lock = settled(setup, files)

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("every link followed although the stamps prove the entry unchanged")

    monkeypatch.setattr(local, "check_files", refuse)
    report = verify(lock, setup.global_cache)
    assert report.ok, report.findings
    assert report.entries[0].size > 0 and report.entries[0].files > 0


@pytest.mark.parametrize("files", [True, False], ids=["files-map", "no-files-map"])
def test_a_truncated_global_blob_is_reported(setup: Setup, files: bool) -> None:
    """Truncating a blob in place leaves every folder's mtime alone: only a stat of the blob tells."""
    _info, lock = settled(setup, files)
    blob = global_blob(setup, "config.json")
    with open(blob, "r+b") as f:
        f.truncate(1)
    report = verify(lock, setup.global_cache)
    assert not report.ok
    assert flagged(report, "config.json")


@pytest.mark.parametrize("files", [True, False], ids=["files-map", "no-files-map"])
def test_a_deleted_global_blob_is_reported(setup: Setup, files: bool) -> None:
    _info, lock = settled(setup, files)
    global_blob(setup, "vocab.txt").unlink()
    report = verify(lock, setup.global_cache)
    assert not report.ok
    assert flagged(report, "vocab.txt")


@pytest.mark.parametrize("files", [True, False], ids=["files-map", "no-files-map"])
def test_a_retargeted_view_link_is_reported(setup: Setup, files: bool) -> None:
    _info, lock = settled(setup, files)
    link = view_snapshot(setup) / "vocab.txt"
    other = os.readlink(view_snapshot(setup) / "config.json")
    link.unlink()
    link.symlink_to(other)  # another blob of the repo, of another size
    report = verify(lock, setup.global_cache)
    assert not report.ok
    assert flagged(report, "vocab.txt")
