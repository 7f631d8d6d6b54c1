"""`linker repair`: break a project the way users do, repair it, and prove with the real huggingface_hub
(offline, empty HF_HOME) that the view serves the pinned bytes again. Online cases use the local Hub server."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

from testing.cachefactory import (
    add_incomplete,
    add_no_exist,
    add_ref_newline,
    build_repo,
    etag_for,
    make_absolute_links,
    make_cwd_relative_links,
    tiny_model_files,
)
from testing.hfprobe import hf_cli, load_file, scan, snapshot_files, try_load
from testing.repairkit import (
    REPO,
    REV,
    flip_byte,
    global_blob,
    kinds,
    move_cache,
    online_synced,
    run_json,
    synced,
    tree_state,
    truncate,
    view_repo,
)


def assert_pinned(cache: Path, files: dict[str, bytes], revision: str, paths: tuple[str, ...] = ()) -> None:
    """The real huggingface_hub, offline with an empty HF_HOME, returns the pinned bytes from `cache`."""
    for path in paths or ("config.json", "model.safetensors", "modules.json"):
        assert load_file(cache, REPO, path, revision) == files[path], path
    got = snapshot_files(cache, REPO, revision)
    assert isinstance(got, dict), got
    assert set(got) == set(files)


def repaired(project, *args: str, env: dict[str, str] | None = None) -> dict:
    code, doc = run_json(project, "repair", *args, env=env)
    assert code == 0, json.dumps(doc, indent=1)[-6000:]
    assert doc["ok"] and doc["after"]["ok"] and doc["after"]["full"]
    code, after = run_json(project, "verify", "--full")
    assert code == 0, after
    return doc


# -------------------------------------------------------------------------------------------------------------
# Dangling links


def test_global_cache_moved_and_hf_hub_cache_changed(project, tmp_path) -> None:
    _info, files = synced(project)
    move_cache(project, tmp_path / "elsewhere" / "hub")
    code, doc = run_json(project, "verify")
    assert code == 1 and {k for k, _ in kinds(doc)} == {"dangling-link"}
    doc = repaired(project, "--offline")
    assert {f["kind"] for f in doc["fixes"]} == {"relink-view"}
    assert_pinned(project.view, files, REV)
    assert all(
        os.path.realpath(p).startswith(str(project.global_cache)) for p in (view_repo(project) / "blobs").iterdir()
    )


def test_deleted_blob_is_restored_offline_from_another_repo_holding_the_same_etag(project) -> None:
    info, files = synced(project)
    fork = build_repo(project.global_cache, "someone/fork", {REV: files}, refs={"main": REV})
    victim = info.blob_path(REV, "model.safetensors")
    os.remove(victim)
    doc = repaired(project, "--offline")
    restore = [f for f in doc["fixes"] if f["kind"] == "restore-blob"]
    assert len(restore) == 1 and restore[0]["target"] == str(fork.blob_path(REV, "model.safetensors"))
    assert os.path.samefile(victim, fork.blob_path(REV, "model.safetensors"))  # a hardlink: no bytes copied
    assert_pinned(project.view, files, REV)
    assert_pinned(project.global_cache, files, REV)


def test_a_copy_that_does_not_hash_to_the_etag_is_never_trusted(project) -> None:
    info, files = synced(project)
    fork = build_repo(project.global_cache, "someone/fork", {REV: files}, refs={"main": REV})
    flip_byte(fork.blob_path(REV, "model.safetensors"), 40)
    os.remove(info.blob_path(REV, "model.safetensors"))
    code, doc = run_json(project, "repair", "--offline")
    assert code == 1
    assert not any(f["kind"] == "restore-blob" for f in doc["fixes"])
    assert "hf download org/tiny --revision " + REV in doc["unfixable"][0]["fix"]


def test_deleted_blob_without_a_copy_offline_names_the_command(project) -> None:
    info, files = synced(project)
    os.remove(info.blob_path(REV, "modules.json"))
    r = project.linker("repair", "--offline")
    assert r.returncode == 1
    assert "Cannot fix 1:" in r.stdout and f"hf download org/tiny --revision {REV} --include modules.json" in r.stdout
    assert "verify --full: still" in r.stdout and "modules.json" in r.stdout.rsplit("verify --full", 1)[1]
    # everything else still loads
    assert load_file(project.view, REPO, "config.json", REV) == files["config.json"]


def test_deleted_blob_is_fetched_online(project, hub, hub_store, hub_env) -> None:
    sha, files = online_synced(project, hub_store, hub_env)
    os.remove(global_blob(project, etag_for("modules.json", files["modules.json"])))
    hub.clear_log()
    doc = repaired(project, env=hub_env)
    assert [f["kind"] for f in doc["fixes"] if f["kind"] == "fetch"] == ["fetch"]
    downloads = [r for r in hub.requests if "/resolve/" in r.get("path", "")]
    assert downloads and all("modules.json" in r["path"] for r in downloads), downloads
    assert_pinned(project.view, files, sha)


def test_hf_cache_rm_of_the_pinned_revision_then_repair_online(project, hub_store, hub_env) -> None:
    sha, files = online_synced(project, hub_store, hub_env)
    r = hf_cli(["cache", "rm", sha, "--cache-dir", str(project.global_cache), "-y"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (project.global_cache / "models--org--tiny" / "snapshots" / sha).exists()
    assert load_file(project.view, REPO, "config.json", sha) == "LocalEntryNotFoundError"
    code, doc = run_json(project, "repair", "--offline")
    assert code == 1 and doc["unfixable"]
    doc = repaired(project, env=hub_env)
    assert_pinned(project.view, files, sha)
    assert (project.global_cache / "models--org--tiny" / "snapshots" / sha).is_dir()


def test_hf_cache_rm_with_a_hardlink_view_repairs_offline_from_the_view(project) -> None:
    info, files = synced(project, link_mode="hardlink")
    r = hf_cli(["cache", "rm", REV, "--cache-dir", str(project.global_cache), "-y"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert not info.repo_folder.exists()
    assert_pinned(project.view, files, REV)  # hardlinks survive: the view still loads
    code, doc = run_json(project, "verify")
    assert code == 1 and ("project-ref", doc["problems"][0]["path"]) in kinds(doc)
    doc = repaired(project, "--offline")
    assert {f["kind"] for f in doc["fixes"]} >= {"restore-blob", "global-link"}
    assert_pinned(project.global_cache, files, REV)  # the global cache holds the pin again
    # ...and protects it: prune selects nothing
    r = hf_cli(["cache", "prune", "--cache-dir", str(project.global_cache), "--dry-run", "--json"])
    out = r.stdout.strip()  # hf prints nothing when there is nothing to prune
    assert r.returncode == 0 and (not out or json.loads(out)["revisions"] == 0), r.stdout + r.stderr


def test_hf_cache_prune_after_the_project_ref_was_removed(project, hub_store, hub_env) -> None:
    sha, files = online_synced(project, hub_store, hub_env)
    refs = project.global_cache / "models--org--tiny" / "refs"
    shutil.rmtree(refs)  # an older linker, or a user's `rm`: nothing protects the detached pin any more
    r = hf_cli(["cache", "prune", "--cache-dir", str(project.global_cache), "-y"])
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (project.global_cache / "models--org--tiny" / "snapshots" / sha).exists()
    doc = repaired(project, env=hub_env)
    assert any(f["kind"] == "fetch" for f in doc["fixes"])
    assert_pinned(project.view, files, sha)
    ref = next(p for p in refs.rglob("*") if p.is_file())
    assert ref.read_bytes() == sha.encode()


def test_a_hub_that_fails_gives_exit_3_and_an_unreachable_one_exit_1(project, hub, hub_store, hub_env, tmp_path):
    from testing.hubhelpers import closed_endpoint, nosleep_env

    sha, files = online_synced(project, hub_store, hub_env)
    os.remove(global_blob(project, etag_for("modules.json", files["modules.json"])))
    hub.fail_with(500)
    r = project.linker("repair", env=nosleep_env(tmp_path, hub_env), timeout=60)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "Cannot fix 1:" in r.stdout and "HTTP 500" in r.stdout
    hub.fail_with(None)
    down = nosleep_env(tmp_path, {**hub_env, "HF_ENDPOINT": closed_endpoint()})
    r = project.linker("repair", env=down, timeout=60)
    assert r.returncode == 1, r.stdout + r.stderr  # no answer at all: like offline, with the command
    assert f"hf download org/tiny --revision {sha} --include modules.json" in r.stdout
    repaired(project, env=hub_env)  # the Hub is back
    assert_pinned(project.view, files, sha)


# -------------------------------------------------------------------------------------------------------------
# Corrupt blobs


def test_flipped_byte_is_quarantined_and_refetched_online(project, hub_store, hub_env) -> None:
    sha, files = online_synced(project, hub_store, hub_env)
    blob = global_blob(project, etag_for("model.safetensors", files["model.safetensors"]))
    flip_byte(blob, 64)
    bad = blob.read_bytes()
    doc = repaired(project, env=hub_env)
    quarantined = [f for f in doc["fixes"] if f["kind"] == "quarantine"]
    assert len(quarantined) == 1
    assert Path(quarantined[0]["target"]).read_bytes() == bad  # moved aside, not deleted
    assert blob.read_bytes() == files["model.safetensors"]
    assert_pinned(project.view, files, sha)
    assert scan(project.global_cache)["warnings"] == []  # the quarantine is invisible to scan_cache_dir


def test_truncated_blob_is_relinked_from_a_good_copy_offline(project) -> None:
    info, files = synced(project)
    build_repo(project.global_cache, "someone/fork", {REV: files}, refs={"main": REV})
    truncate(info.blob_path(REV, "model.safetensors"))
    repaired(project, "--offline")
    assert_pinned(project.view, files, REV)


def test_corrupt_blob_without_a_good_copy_is_quarantined_and_reported(project) -> None:
    info, files = synced(project)
    flip_byte(info.blob_path(REV, "vocab.txt"))
    code, doc = run_json(project, "repair", "--offline")
    assert code == 1
    assert [f["kind"] for f in doc["fixes"] if f["kind"] == "quarantine"] == ["quarantine"]
    assert doc["unfixable"][0]["path"] == "vocab.txt"
    assert load_file(project.view, REPO, "vocab.txt", REV) == "LocalEntryNotFoundError"  # no silent bad bytes
    assert load_file(project.view, REPO, "config.json", REV) == files["config.json"]


def test_corrupt_copy_in_a_copy_mode_view_is_recopied(project) -> None:
    info, files = synced(project, link_mode="copy")
    view_blob = view_repo(project) / "blobs" / info.etag(REV, "model.safetensors")
    flip_byte(view_blob, 80)
    doc = repaired(project, "--offline")
    q = [f for f in doc["fixes"] if f["kind"] == "quarantine"]
    assert q and q[0]["path"] == str(view_blob)
    assert not view_blob.is_symlink() and view_blob.read_bytes() == files["model.safetensors"]
    assert_pinned(project.view, files, REV)


def test_corrupt_payload_in_the_shared_store_is_replaced_by_a_verified_copy(project) -> None:
    info, files = synced(project, shared_store=True)
    build_repo(project.global_cache, "someone/plain", {REV: files}, refs={"main": REV})  # the same blob, no store
    payload = next(iter(info.store_blobs.values()))
    flip_byte(payload, 30)
    doc = repaired(project, "--offline")
    q = next(f for f in doc["fixes"] if f["kind"] == "quarantine")
    assert q["path"] == str(payload) and Path(q["target"]).parent == info.repo_folder / "blobs"
    assert_pinned(project.view, files, REV)
    assert scan(project.global_cache)["warnings"] == []


# -------------------------------------------------------------------------------------------------------------
# Bookkeeping


def test_refs_with_newlines_wrong_sha_and_missing_project_ref(project) -> None:
    info, files = synced(project)
    add_ref_newline(view_repo(project), "main")
    gref = next(p for p in (info.repo_folder / "refs").rglob("*") if p.is_file())
    gref.write_text("f" * 40)
    assert load_file(project.view, REPO, "config.json") == "LocalEntryNotFoundError"
    repaired(project, "--offline")
    assert (view_repo(project) / "refs" / "main").read_bytes() == REV.encode()
    assert gref.read_bytes() == REV.encode()
    assert load_file(project.view, REPO, "config.json") == files["config.json"]  # no revision: the pin
    assert scan(project.view)["warnings"] == []


def test_stale_no_exist_markers_are_removed(project) -> None:
    info, _ = synced(project)
    add_no_exist(view_repo(project), REV, "modules.json")
    add_no_exist(info.repo_folder, REV, "config.json")
    keep = add_no_exist(view_repo(project), REV, "tokenizer.json")  # true: that file is not in the commit
    assert try_load(project.view, REPO, "modules.json", REV) == "NO_EXIST"
    repaired(project, "--offline")
    assert try_load(project.view, REPO, "modules.json", REV) is not None
    assert try_load(project.view, REPO, "modules.json", REV) != "NO_EXIST"
    assert try_load(project.global_cache, REPO, "config.json", REV) not in (None, "NO_EXIST")
    assert keep.exists()


def test_leftovers_are_removed_unless_a_download_holds_their_lock(project) -> None:
    info, _ = synced(project)
    free = add_incomplete(info.repo_folder, info.etag(REV, "model.safetensors"))
    busy_etag = info.etag(REV, "vocab.txt")
    busy = add_incomplete(info.repo_folder, busy_etag, b"downloading")
    tmp = view_repo(project) / "blobs" / f".{info.etag(REV, 'config.json')}.0123abcd.linker-tmp"
    tmp.write_text("half")
    with FileLock(str(info.lock_path(busy_etag))):
        code, doc = run_json(project, "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-6000:]
    assert not free.exists() and not tmp.exists()
    assert busy.exists()  # a running download's partial file is never touched
    skipped = [f for f in doc["fixes"] if f["status"] == "skipped"]
    assert len(skipped) == 1 and "lock" in skipped[0]["detail"]


def test_hub_013_absolute_links_then_the_cache_moves(project, tmp_path) -> None:
    info, files = synced(project)
    make_absolute_links(info.repo_folder, REV)
    move_cache(project, tmp_path / "moved" / "hub")
    assert load_file(project.global_cache, REPO, "config.json", REV) == "LocalEntryNotFoundError"
    doc = repaired(project, "--offline")
    assert sum(f["kind"] == "global-link" for f in doc["fixes"]) == len(files)
    link = project.global_cache / "models--org--tiny" / "snapshots" / REV / "1_Pooling" / "config.json"
    assert os.readlink(link) == "../../../blobs/" + info.etag(REV, "1_Pooling/config.json")
    assert_pinned(project.view, files, REV)
    assert_pinned(project.global_cache, files, REV)


def test_hub_013_cwd_relative_links(project, tmp_path) -> None:
    files = tiny_model_files("st", seed=3)
    info = build_repo(project.global_cache, REPO, {REV: files}, refs={})
    elsewhere = tmp_path / "old-cwd"
    elsewhere.mkdir()
    make_cwd_relative_links(info.repo_folder, REV, elsewhere)
    from testing.repairkit import lock_entry

    project.write_lock([lock_entry(info)])
    assert project.linker("sync").returncode == 1  # the global links dangle: sync cannot link them
    repaired(project, "--offline")
    assert_pinned(project.view, files, REV)


# -------------------------------------------------------------------------------------------------------------
# The command


def test_dry_run_lists_every_fix_and_changes_nothing(project, tmp_path) -> None:
    info, _ = synced(project)
    build_repo(project.global_cache, "someone/fork", {REV: tiny_model_files("st", seed=1)}, refs={"main": REV})
    os.remove(info.blob_path(REV, "modules.json"))
    add_ref_newline(view_repo(project), "main")
    flip_byte(info.blob_path(REV, "vocab.txt"))
    add_no_exist(view_repo(project), REV, "config.json")
    before = tree_state(project.root), tree_state(project.global_cache)
    r = project.linker("repair", "--dry-run")
    assert r.returncode == 1
    assert (tree_state(project.root), tree_state(project.global_cache)) == before
    for text in ("Would apply", "quarantine the corrupt blob", "restore ", "remove the stale marker", "relink"):
        assert text in r.stdout, text
    code, doc = run_json(project, "repair", "--dry-run")
    assert code == 1 and doc["dry_run"] and not doc["applied"] and {f["status"] for f in doc["fixes"]} == {"planned"}
    assert (tree_state(project.root), tree_state(project.global_cache)) == before
    repaired(project, "--offline")


def test_nothing_to_repair(project) -> None:
    synced(project)
    r = project.linker("repair")
    assert r.returncode == 0 and r.stdout.startswith("Nothing to repair")


def test_a_migrate_killed_midway_is_finished_by_repair(project, tmp_path, monkeypatch) -> None:
    """The crash is injected in-process (the migrate tests kill -9 at random points); repair must find the
    journal, and finish the run through linker.migrate.journal.recover."""
    from linker.migrate.planner import Options
    from linker.migrate.run import migrate
    from testing.cachefactory import build_plain_folder
    from testing.migrate_support import crash_migrate_after

    synced(project)
    files = tiny_model_files("st", seed=8)
    src = build_plain_folder(tmp_path / "legacy" / "acme" / "crash", files)
    crash_migrate_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        migrate([src], Options(global_cache=project.global_cache), offline=True)
    monkeypatch.undo()
    code, doc = run_json(project, "verify")
    assert code == 1 and {p["kind"] for p in doc["problems"]} == {"migrate-journal"}
    code, doc = run_json(project, "repair", "--offline")
    assert code == 0, doc
    assert doc["recovered"], doc
    snaps = list((project.global_cache / "models--acme--crash" / "snapshots").iterdir())
    assert len(snaps) == 1
    for path, data in files.items():
        assert (snaps[0] / path).read_bytes() == data
    assert not src.exists()
    assert project.linker("verify").returncode == 0
