"""Issue 10 §6: the link mode a view was synced with is kept until changed explicitly, plan lines are never empty,
and a copy-mode view is self-contained (moved, with no global cache: status, verify and sync --check pass)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from testing.hfprobe import load_file
from testing.repairkit import REPO, run_json, synced, view_repo
from tests.test_views import _env_of

# ---------------------------------------------------------------------------------------------------------------
# §6: the link mode a view was synced with, and self-contained copy views


def _blobs(project) -> list[Path]:
    return sorted(p for p in (view_repo(project) / "blobs").iterdir())


def test_the_link_mode_is_kept_until_changed_explicitly(project) -> None:
    synced(project, link_mode="copy")
    assert all(not b.is_symlink() for b in _blobs(project))
    _code, doc = run_json(project, "status")
    assert [e["state"] for e in doc["entries"]] == ["linked"] and doc["link_mode"] == "copy", doc
    assert project.linker("sync", "--check").returncode == 0
    r = project.linker("sync")
    assert r.returncode == 0 and "Already in sync" in r.stdout, r.stdout + r.stderr
    assert all(not b.is_symlink() for b in _blobs(project))
    r = project.linker("sync", "--link-mode", "symlink")  # the explicit change
    assert r.returncode == 0, r.stderr
    assert all(b.is_symlink() for b in _blobs(project))
    assert project.linker("sync", "--check").returncode == 0


def test_plan_lines_are_never_empty(project) -> None:
    synced(project)
    r = project.linker("sync", "--dry-run", "--link-mode", "copy")
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stdout.splitlines() if line.startswith("  + ")]
    assert lines and all(not line.rstrip().endswith(":") for line in lines), r.stdout
    assert "copy" in lines[0]


def test_a_copy_view_is_self_contained_after_a_move_and_without_a_global_cache(project, tmp_path: Path) -> None:
    _info, files = synced(project, link_mode="copy")
    moved = tmp_path / "elsewhere" / "app"
    shutil.copytree(project.root, moved, symlinks=True)  # as `COPY` into an image: new paths, new inodes
    shutil.rmtree(project.root)
    shutil.rmtree(project.global_cache)
    project.root = moved
    for env in ({}, {"HF_HUB_CACHE": None}, _env_of(project)):
        for args in (["status"], ["verify"], ["verify", "--full"], ["sync", "--check"]):
            r = project.linker(*args, env=env)
            assert r.returncode == 0, (args, env, r.stdout, r.stderr)
            assert "project-ref" not in r.stdout + r.stderr and "missing" not in r.stdout, (args, r.stdout)
    r = project.linker("sync")  # nothing to download, and the copies stay copies
    assert r.returncode == 0 and "Already in sync" in r.stdout, r.stdout + r.stderr
    assert all(not b.is_symlink() and b.is_file() for b in _blobs(project))
    assert not project.global_cache.exists()
    assert load_file(project.view, REPO, "config.json") == files["config.json"]
    assert load_file(project.view, REPO, "model.safetensors") == files["model.safetensors"]


def test_a_copy_view_synced_before_the_mode_was_recorded_stays_a_copy(project) -> None:
    synced(project, link_mode="copy")
    manifest = project.view / ".locks" / "linker-manifest.json"
    doc = json.loads(manifest.read_text())
    for key in ("link_mode", "lock_link_mode", "global_cache"):
        doc.pop(key, None)  # as an older linker wrote it
    manifest.write_text(json.dumps(doc))
    shutil.rmtree(project.global_cache)
    r = project.linker("sync")
    assert r.returncode == 0 and "Already in sync" in r.stdout, r.stdout + r.stderr
    assert all(not b.is_symlink() and b.is_file() for b in _blobs(project))
    assert json.loads(manifest.read_text())["link_mode"] == "copy"  # recorded from now on


def test_status_says_why_an_entry_is_stale(project) -> None:
    synced(project)
    text = project.lock_path.read_text()
    project.lock_path.write_text(text.replace("version: 1\n", "version: 1\nlink_mode: copy\n"))  # explicit change
    _code, doc = run_json(project, "status")
    (row,) = doc["entries"]
    assert row["state"] == "stale" and "link mode" in row["detail"] and "copy" in row["detail"], doc
    r = project.linker("status")
    assert "hint: org/tiny:" in r.stdout and "linker sync" in r.stdout, r.stdout
    assert project.linker("sync").returncode == 0
    assert all(not b.is_symlink() for b in _blobs(project))
    assert run_json(project, "status")[1]["entries"][0]["state"] == "linked"


def test_a_kept_hardlink_mode_that_cannot_reach_the_global_cache_keeps_copies(project, tmp_path: Path) -> None:
    from testing.fsfaults import small_tmpfs

    _info, files = synced(project, link_mode="hardlink")
    with small_tmpfs(tmp_path / "other-fs", "20m") as mount:
        other = mount / "hub"
        shutil.copytree(project.global_cache, other, symlinks=True)  # the global cache, now on another filesystem
        env = {"HF_HUB_CACHE": str(other)}
        r = project.linker("status", env=env)
        assert r.returncode == 0, r.stdout + r.stderr  # before: exit 2, "needs one filesystem"
        r = project.linker("sync", env=env)
        assert r.returncode == 0 and "kept as copies" in r.stderr, r.stdout + r.stderr
        assert all(not b.is_symlink() and b.is_file() for b in _blobs(project))
        assert project.linker("sync", "--check", env=env).returncode == 0
        r = project.linker("sync", "--link-mode", "hardlink", env=env)  # asked for explicitly: refused, exit 2
        assert r.returncode == 2 and "one filesystem" in r.stderr, r.stderr
    assert load_file(project.view, REPO, "config.json") == files["config.json"]
