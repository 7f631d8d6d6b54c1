"""The no-op fast path of an unproven entry (no `files` in the lock, no trees/<rev>.json): recorded directory
stamps prove nothing changed, so the global snapshot folder is not listed again; any change is still planned."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from linker.hfcache import CacheRepo, tree_json
from linker.hfcache.layout import TreeFile
from linker.lockfile import load_lockfile
from linker.policy import PolicyRefused
from linker.sync import compute_plan, sync
from linker.sync.plan import LINK, REMOVE, SyncPlan
from testing.cachefactory import RepoInfo, build_repo, etag_for, tiny_model_files

from .conftest import REPO, REV, Setup, entry

EXTRA = {"onnx/model.onnx": b"onnx weights"}  # a subfolder holding only files the include leaves out
INCLUDE = ["*.json", "*.safetensors", "*.txt", "*.md", ".gitattributes"]


def unproven_repo(setup: Setup) -> RepoInfo:
    files = {**tiny_model_files("st", seed=1), **EXTRA}
    return build_repo(setup.global_cache, REPO, {REV: files}, refs={}, trees=False)


def settled(setup: Setup, info: RepoInfo, **extra: Any) -> SyncPlan:
    """Sync twice (the second run records stamps older than the manifest: not racy), then plan again."""
    lock = setup.lock(entry(info, files=False, include=INCLUDE, **extra))
    sync(lock, setup.global_cache)
    time.sleep(0.03)
    sync(lock, setup.global_cache)
    time.sleep(0.03)  # a change made now gets another mtime than the one recorded
    return compute_plan(lock, setup.global_cache, offline=True)


def replan(setup: Setup, info: RepoInfo, **extra: Any) -> SyncPlan:
    lock = setup.lock(entry(info, files=False, include=INCLUDE, **extra))
    return compute_plan(lock, setup.global_cache, offline=True)


def add_global_file(info: RepoInfo, path: str, data: bytes) -> None:
    """Put a file into the global snapshot as huggingface_hub does: the blob, then the snapshot link."""
    etag = etag_for(path, data)
    (info.repo_folder / "blobs" / etag).write_bytes(data)
    link = info.snapshot(REV) / path
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(os.path.relpath(info.repo_folder / "blobs" / etag, link.parent))


def view_snapshot(setup: Setup) -> Path:
    return setup.project.view / f"models--{REPO.replace('/', '--')}" / "snapshots" / REV


def fast(planned: SyncPlan) -> bool:
    return planned.entry_plans[0].want is None


def test_an_unchanged_unproven_entry_is_proven_in_sync_without_listing_the_global_snapshot(setup: Setup) -> None:
    info = unproven_repo(setup)
    planned = settled(setup, info)
    assert fast(planned) and planned.plan.empty and not planned.plan.problems
    assert [e.state for e in planned.plan.entries] == ["linked"]
    rec = planned.entry_plans[0].record
    assert not rec.proven  # still unproven: verify keeps warning `completeness-unproven`
    assert str(info.snapshot(REV) / "onnx") in rec.dirs  # every global snapshot folder is stamped


def test_a_file_added_to_the_global_snapshot_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    add_global_file(info, "added.json", b'{"new": 1}')
    planned = replan(setup, info)
    assert not fast(planned)
    assert any(a.kind == LINK and a.path.endswith("/added.json") for a in planned.plan.actions)


def test_a_file_added_to_a_subfolder_of_left_out_files_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    same = tiny_model_files("st", seed=1)["config.json"]  # a blob already there: only onnx/ gets a new entry
    add_global_file(info, "onnx/config.json", same)
    planned = replan(setup, info)
    assert not fast(planned)
    assert any(a.kind == LINK and a.path.endswith("/onnx/config.json") for a in planned.plan.actions)


def test_a_file_removed_from_the_global_snapshot_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    info.pointer(REV, "1_Pooling/config.json").unlink()
    planned = replan(setup, info)
    assert not fast(planned)
    assert any(a.kind == REMOVE and a.path.endswith("1_Pooling/config.json") for a in planned.plan.actions)


def test_a_deleted_view_link_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    (view_snapshot(setup) / "vocab.txt").unlink()
    planned = replan(setup, info)
    assert not fast(planned)
    assert any(a.kind == LINK and a.path.endswith("/vocab.txt") for a in planned.plan.actions)


def test_a_retargeted_view_link_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    link = view_snapshot(setup) / "vocab.txt"
    link.unlink()
    link.symlink_to("../../blobs/" + "0" * 40)
    planned = replan(setup, info)
    assert not fast(planned)
    assert any(a.kind == LINK and a.path.endswith("/vocab.txt") for a in planned.plan.actions)


def test_a_changed_lock_entry_is_planned(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    planned = replan(setup, info, exclude=["*.txt"])
    assert not fast(planned)
    assert any(a.kind == REMOVE and a.path.endswith("/vocab.txt") for a in planned.plan.actions)


def test_a_tree_listing_appearing_makes_the_entry_proven(setup: Setup) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))
    files = info.files[REV]
    tree = {p: TreeFile(size=f.size, etag=f.etag, lfs=p.endswith(".safetensors")) for p, f in files.items()}
    info.tree_path(REV).parent.mkdir(exist_ok=True)
    info.tree_path(REV).write_text(tree_json(tree))
    planned = replan(setup, info)
    assert not fast(planned) and planned.entry_plans[0].record.proven


def test_the_policy_of_an_unchanged_unproven_entry_lists_no_snapshot_folder(
    setup: Setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = unproven_repo(setup)
    assert fast(settled(setup, info))

    def refuse(*_: object) -> None:
        raise AssertionError("listed a snapshot folder")

    monkeypatch.setattr(CacheRepo, "snapshot_files", refuse)
    lock = setup.lock(entry(info, files=False, include=INCLUDE))
    assert sync(lock, setup.global_cache, dry_run=True).in_sync


def test_a_file_added_to_an_unproven_snapshot_is_judged_by_the_policy(setup: Setup) -> None:
    info = unproven_repo(setup)
    e = entry(info, files=False)
    setup.project.write_lock([e], policy={"remote_code": "deny"})
    lock = load_lockfile(setup.project.lock_path)
    sync(lock, setup.global_cache)
    time.sleep(0.03)
    sync(lock, setup.global_cache)
    time.sleep(0.03)
    add_global_file(info, "modeling_tiny.py", b"import os\n")
    with pytest.raises(PolicyRefused, match=r"modeling_tiny\.py"):
        sync(lock, setup.global_cache, dry_run=True)
