"""linker.pins: the one fallback order every command takes for "what does this entry pin"."""

from __future__ import annotations

import shutil
from dataclasses import replace

from linker.hfcache import CacheRepo
from linker.lockfile import Entry
from linker.pins import pinned_files
from linker.sync import sync
from linker.sync.manifest import load_manifest, record_matches
from testing.cachefactory import repo_folder_name

from .conftest import REPO, REV, Setup, entry


def _repos(setup: Setup, e: Entry) -> tuple[CacheRepo, CacheRepo]:
    return CacheRepo(setup.global_cache, e.id, e.type), CacheRepo(setup.project.view, e.id, e.type)


def test_the_fallback_order_lock_manifest_tree_view_tree_snapshot_none(setup: Setup) -> None:
    info = setup.repo()
    locked = setup.lock(entry(info)).entries[0]
    g, v = _repos(setup, locked)
    pins = pinned_files(locked, g, v)
    assert pins.listing == "lock" and pins.proven
    assert {p: (f.etag, f.size) for p, f in pins.files.items()} == {
        p: (fi.etag, fi.size) for p, fi in info.files[REV].items()
    }

    lock = setup.lock(entry(info, files=False, include=["*.json"]))
    sync(lock, setup.global_cache)
    e = lock.entries[0]
    rec = load_manifest(lock.view).repos[repo_folder_name(REPO)]
    assert record_matches(e, rec, setup.global_cache)
    pins = pinned_files(e, g, v, recorded=rec.snapshot_sizes())
    assert pins.listing == "manifest" and not pins.proven
    json_files = {p for p in info.files[REV] if p.endswith(".json")}
    assert set(pins.files) == json_files

    assert pinned_files(e, g, v).listing == "tree"  # no record: the global trees/<sha>.json, patterns applied
    assert set(pinned_files(e, g, v).files) == json_files
    v.tree(REV).parent.mkdir(parents=True, exist_ok=True)
    shutil.move(info.tree_path(REV), v.tree(REV))
    assert pinned_files(e, g, v).listing == "view-tree"  # only the view has the tree listing
    assert pinned_files(e, g).listing == "snapshot"  # sync passes no view: the global snapshot folder
    assert set(pinned_files(e, g).files) == json_files
    (g.snapshot(REV) / "config.json.linker-tmp").write_text("{}")  # an interrupted run's leftover is no pin
    assert set(pinned_files(replace(e, include=()), g).files) == set(info.files[REV])
    shutil.rmtree(g.path)
    shutil.rmtree(v.path)
    assert pinned_files(e, g, v).listing == "none" and not pinned_files(e, g, v).files


def test_the_global_tree_is_read_on_request_even_when_the_lock_lists_the_files(setup: Setup) -> None:
    info = setup.repo()
    e = setup.lock(entry(info)).entries[0]
    g, _ = _repos(setup, e)
    assert pinned_files(e, g).tree is None
    pins = pinned_files(e, g, read_global_tree=True)
    assert pins.listing == "lock" and pins.tree == info.tree_path(REV) and pins.tree_paths == set(info.files[REV])
