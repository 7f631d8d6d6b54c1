"""A no-op `sync --check` and a fast `verify` of entries without `files` take each file list from the manifest
record that matches the entry (as verify's pins do), not from every trees/<sha>.json: at 1,000 models those reads
were most of a no-op. A record that no longer matches its entry is not used."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from linker.cli import main
from linker.lockfile import load_lockfile
from linker.policy import PolicyRefused
from linker.sync import sync
from testing.cachefactory import build_repo, tiny_model_files

from .conftest import REPO, REV, Setup, entry


def no_tree_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: Path) -> None:
        raise AssertionError(f"read {path}")

    monkeypatch.setattr("linker.pins.read_tree", refuse)


def run_cli(setup: Setup, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    monkeypatch.chdir(setup.project.root)
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    return int(done.value.code or 0)


def test_a_noop_check_and_verify_read_no_tree_listing(setup: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    info = setup.repo()
    lock = setup.lock(entry(info, files=False))
    sync(lock, setup.global_cache)
    no_tree_reads(monkeypatch)
    assert sync(lock, setup.global_cache, dry_run=True).in_sync
    assert run_cli(setup, monkeypatch, "sync", "--check") == 0
    assert run_cli(setup, monkeypatch, "verify") == 0


def test_a_changed_entry_has_its_new_files_judged_by_the_policy(setup: Setup) -> None:
    files: dict[str, Any] = {**tiny_model_files("st", seed=1), "modeling_tiny.py": b"import os\n"}
    info = build_repo(setup.global_cache, REPO, {REV: files}, refs={})
    e = entry(info, files=False, exclude=["*.py"])
    setup.project.write_lock([e], policy={"remote_code": "deny"})
    sync(load_lockfile(setup.project.lock_path), setup.global_cache)
    setup.project.write_lock([{**e, "exclude": []}], policy={"remote_code": "deny"})
    with pytest.raises(PolicyRefused, match=r"modeling_tiny\.py"):
        sync(load_lockfile(setup.project.lock_path), setup.global_cache, dry_run=True)
