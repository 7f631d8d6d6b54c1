"""`linker sync` and the global cache: which one it uses, and what it does when a revision or blob is missing there,
written without symlinks, shared, or read-only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cachefactory import build_repo, tiny_model_files
from testing.fsfaults import read_only_mount
from testing.hfprobe import load_file, scan
from testing.hubhelpers import entry, push
from testing.readonly import read_only
from testing.repairkit import view_repo
from testing.synckit import OLD, lock_entry, two_revisions


def test_missing_revision_is_reported_with_the_fetch_command_and_the_rest_is_linked(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock(
        [lock_entry(), lock_entry("org/absent", "f" * 40, include=["*.json"]), lock_entry("org/tiny2", "e" * 40)]
    )
    r = project.linker("sync", "--offline")
    assert r.returncode == 1
    assert f"hf download org/absent --revision {'f' * 40} --include '*.json'" in r.stdout
    assert f"hf download org/tiny2 --revision {'e' * 40}" in r.stdout
    assert view_repo(project).is_dir()
    assert not view_repo(project, "org/absent").exists()


def test_partial_global_snapshot_links_what_exists_and_reports_the_rest(project) -> None:
    files = tiny_model_files("bert")
    build_repo(project.global_cache, "org/p", {OLD: files}, partial={OLD: ["config.json"]})
    project.write_lock([lock_entry("org/p")])
    r = project.linker("sync", "--offline")
    assert r.returncode == 1 and "not in the global cache" in r.stdout
    st = json.loads(project.linker("status", "--json").stdout)
    assert st["entries"][0]["state"] == "partial"
    assert load_file(project.view, "org/p", "config.json") == files["config.json"]


def test_shared_blob_store_is_resolved_to_the_payload(project) -> None:
    info, old, _ = two_revisions(project.global_cache, shared_store=True)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(OLD, "model.safetensors")
    target = os.readlink(blob)
    assert f"{os.sep}blobs{os.sep}" in target and "models--org--tiny" not in target  # the store payload itself
    assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    assert scan(project.view)["warnings"] == []


def test_global_cache_written_without_symlinks(project) -> None:
    files = tiny_model_files("bert", seed=3)
    build_repo(project.global_cache, "org/win", {OLD: files}, symlinks=False)
    project.write_lock([lock_entry("org/win")])
    assert project.linker("sync").returncode == 0
    assert load_file(project.view, "org/win", "model.safetensors") == files["model.safetensors"]
    assert scan(project.view)["warnings"] == []


def test_global_cache_choice_follows_huggingface_hub(project, tmp_path: Path) -> None:
    """HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME, compared with the real constant."""
    from linker.hfcache import global_cache_dir

    cases = [
        {"HF_HUB_CACHE": str(tmp_path / "a"), "HUGGINGFACE_HUB_CACHE": str(tmp_path / "b")},
        {"HUGGINGFACE_HUB_CACHE": "~/legacy", "HF_HOME": str(tmp_path / "h")},
        {"HF_HOME": str(tmp_path / "h")},
        {"XDG_CACHE_HOME": str(tmp_path / "x")},
        {},
    ]
    for case in cases:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME")
        }
        env.update(case)
        real = subprocess.run(
            [sys.executable, "-c", "from huggingface_hub import constants; print(constants.HF_HUB_CACHE)"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        ours = subprocess.run(
            [sys.executable, "-c", "from linker.hfcache import global_cache_dir; print(global_cache_dir()[0])"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert os.path.abspath(real) == ours, case
    assert global_cache_dir("/x/y")[1] == "--cache-dir"


def test_cache_dir_option_overrides_the_environment(project, tmp_path: Path) -> None:
    other = tmp_path / "other-hub"
    _info, old, _ = two_revisions(other)
    project.write_lock([lock_entry()])
    assert project.linker("sync", "--offline").returncode == 1  # not in $HF_HUB_CACHE
    assert project.linker("--cache-dir", str(other), "sync").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_read_only_global_cache_still_syncs_in_symlink_mode(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    dirs = [project.global_cache, *[p for p in project.global_cache.rglob("*") if p.is_dir() and not p.is_symlink()]]
    with read_only(*dirs):
        r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "read-only" in r.stderr
    assert not (project.global_cache / "models--org--tiny" / "refs" / "linker").exists()
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_a_blob_gone_from_the_global_cache_keeps_its_view_link_until_it_is_back(project) -> None:
    """Sync must not forget which blob a file had: repair relinks or re-fetches it by that name."""
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    link = view_repo(project) / "snapshots" / OLD / "config.json"
    target = os.readlink(link)
    blob = info.blob_path(OLD, "config.json")
    saved = blob.read_bytes()
    blob.unlink()
    r = project.linker("sync", "--offline")
    assert r.returncode == 1 and "not in the global cache" in r.stdout
    assert os.readlink(link) == target and not link.exists()  # dangling, but kept
    assert json.loads(project.linker("status", "--json").stdout)["entries"][0]["state"] == "broken"
    blob.write_bytes(saved)
    assert project.linker("sync", "--offline").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


@pytest.mark.parametrize("how", ["bind-mount", "chattr"])
def test_read_only_global_cache_with_a_missing_pin_online_links_the_rest_and_names_the_fetch(
    project, hub_store, hub_env, how: str
) -> None:
    """Online, a pin the read-only global cache lacks cannot be downloaded there: everything present is linked,
    the missing pin is named with the `hf download` that fetches it into the cache actually used, exit 1."""
    _info, old, _ = two_revisions(project.global_cache)
    sha = push(hub_store, "acme/absent")
    project.write_lock([lock_entry(), entry(hub_store, "acme/absent", sha)])
    dirs = [project.global_cache, *[p for p in project.global_cache.rglob("*") if p.is_dir() and not p.is_symlink()]]
    with read_only_mount(project.global_cache) if how == "bind-mount" else read_only(*dirs):
        r = project.linker("sync", env=hub_env)
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert "internal error" not in out and "Traceback" not in out
    assert f"hf download acme/absent --revision {sha} --cache-dir {project.global_cache}" in r.stdout, out
    assert "Synced 1 of 2 repo(s)" in r.stdout and r.stdout.count("acme/absent") == 2  # the problem and its fix
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]
    assert not view_repo(project, "acme/absent").exists()
