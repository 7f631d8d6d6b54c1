"""`linker cache move NEW_PATH` (issue 13): the global cache moves (rename, or copy + verify + delete across
filesystems), every known project's view is relinked, and huggingface_hub still loads everything offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from testing.fsfaults import small_tmpfs
from testing.hfprobe import load_file, scan
from testing.migrate_support import tree_digests
from testing.synckit import OLD, lock_entry, two_revisions
from tests.conftest import Project

TWO = fake_commit("move", 2)


def two_projects(project: Project, tmp_path: Path) -> tuple[Project, dict[str, dict[str, bytes]]]:
    """`project` pins org/tiny; a second project pins org/two, whose LFS blobs live in the shared blob store. Both
    synced (so the record of projects knows them)."""
    g = project.global_cache
    _info, old, _new = two_revisions(g)
    two = tiny_model_files("bert", seed=5)
    build_repo(g, "org/two", {TWO: two}, shared_store=True)
    project.write_lock([lock_entry()])
    other = Project(tmp_path / "other", g)
    other.root.mkdir()
    other.write_lock([lock_entry("org/two", TWO)])
    for p in (project, other):
        r = p.linker("sync", "--offline")
        assert r.returncode == 0, r.stdout + r.stderr
    return other, {"org/tiny": old, "org/two": two}


def content(cache: Path) -> dict[str, str]:
    """Every regular file's digest, but the empty lock files (taken by the move, recreated on demand)."""
    return {k: v for k, v in tree_digests(cache).items() if not k.endswith(".lock")}


def assert_loads(views: dict[str, Path], files: dict[str, dict[str, bytes]], new: Path) -> None:
    """Offline huggingface_hub reads every pinned file through each view and from the new cache by commit."""
    revs = {"org/tiny": OLD, "org/two": TWO}
    for repo_id, view in views.items():
        for name, data in files[repo_id].items():
            assert load_file(view, repo_id, name) == data, f"{view}: {repo_id}/{name}"
            assert load_file(new, repo_id, name, revision=revs[repo_id]) == data, f"{new}: {repo_id}/{name}"
    info = scan(new)
    assert info["warnings"] == []
    assert {r["repo_id"] for r in info["repos"]} == {"org/tiny", "org/two"}


def test_move_relinks_both_projects_and_hub_loads_offline(project: Project, tmp_path: Path) -> None:
    other, files = two_projects(project, tmp_path)
    old = project.global_cache
    before = content(old)
    new = tmp_path / "bigdisk" / "hub"
    r = project.linker("cache", "move", str(new))
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"export HF_HUB_CACHE={new}" in r.stdout
    assert not old.exists()
    assert content(new) == before  # byte for byte, nothing more, nothing less
    assert_loads({"org/tiny": project.view, "org/two": other.view}, files, new)
    # the views now link into the new cache: a check finds nothing to do there
    for p in (project, other):
        assert p.linker("sync", "--check", env={"HF_HUB_CACHE": str(new)}).returncode == 0


def test_dry_run_changes_nothing(project: Project, tmp_path: Path) -> None:
    two_projects(project, tmp_path)
    before = tree_digests(project.global_cache)
    new = tmp_path / "bigdisk" / "hub"
    # global options after the subcommand too: the cache named by --cache-dir, not HF_HUB_CACHE
    args = ("cache", "move", str(new), "--dry-run", "--json", "--cache-dir", str(project.global_cache))
    r = project.linker(*args, env={"HF_HUB_CACHE": str(tmp_path / "elsewhere")})
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["old"] == str(project.global_cache)
    assert doc["dry_run"] and doc["mode"] == "rename" and doc["files"] > 0
    assert not new.exists() and tree_digests(project.global_cache) == before


def test_cross_filesystem_move_to_a_tmpfs_copies_verifies_and_deletes(project: Project, tmp_path: Path) -> None:
    other, files = two_projects(project, tmp_path)
    old = project.global_cache
    before = content(old)
    with small_tmpfs(tmp_path / "tmpfs", "64m") as mnt:
        new = mnt / "hub"
        r = project.linker("cache", "move", str(new), "--json")
        assert r.returncode == 0, r.stdout + r.stderr
        doc = json.loads(r.stdout)
        assert doc["mode"] == "copy" and doc["bytes_copied"] > 0
        assert all(v["ok"] for v in doc["relinked"]) and len(doc["relinked"]) == 2
        assert doc["export"] == f"export HF_HUB_CACHE={new}"
        assert not old.exists()
        assert content(new) == before
        payloads = [p for p in (new / "blobs").rglob("*") if p.is_file() and not p.name.endswith((".refs", ".lock"))]
        assert payloads and all(not os.access(p, os.W_OK) or os.geteuid() == 0 for p in payloads)
        assert all(p.stat().st_mode & 0o222 == 0 for p in payloads)  # the store's read-only mode is kept
        assert_loads({"org/tiny": project.view, "org/two": other.view}, files, new)


def test_not_enough_room_refuses_before_copying(project: Project, tmp_path: Path) -> None:
    two_projects(project, tmp_path)
    before = tree_digests(project.global_cache)
    with small_tmpfs(tmp_path / "tiny", "64k") as mnt:
        r = project.linker("cache", "move", str(mnt / "hub"))
        assert r.returncode == 1, r.stdout + r.stderr
        assert "not enough free space" in r.stderr
        assert not (mnt / "hub").exists()
    assert tree_digests(project.global_cache) == before


@pytest.mark.parametrize("where", ["inside", "itself", "foreign"])
def test_refusals_change_nothing(project: Project, tmp_path: Path, where: str) -> None:
    two_projects(project, tmp_path)
    g = project.global_cache
    before = tree_digests(g)
    if where == "foreign":
        target = tmp_path / "photos"
        target.mkdir()
        (target / "cat.jpg").write_bytes(b"meow")
    else:
        target = g / "sub" if where == "inside" else g
    r = project.linker("cache", "move", str(target))
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.startswith("error: ") and len(r.stderr.strip().splitlines()) <= 2
    assert tree_digests(g) == before
    if where == "foreign":
        assert sorted(p.name for p in target.iterdir()) == ["cat.jpg"]
    assert not (g / "sub").exists()


def test_absolute_link_into_the_old_cache_is_rewritten(project: Project, tmp_path: Path) -> None:
    """A link some tool wrote with an absolute path into the cache would dangle after the move."""
    _other, files = two_projects(project, tmp_path)
    g = project.global_cache
    snap = g / "models--org--tiny" / "snapshots" / OLD / "config.json"
    target = (snap.parent / os.readlink(snap)).resolve()
    os.unlink(snap)
    os.symlink(target, snap)  # absolute, into the old cache
    new = tmp_path / "bigdisk" / "hub"
    r = project.linker("cache", "move", str(new), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["links_rewritten"] == [f"models--org--tiny/snapshots/{OLD}/config.json"]
    assert load_file(new, "org/tiny", "config.json", revision=OLD) == files["org/tiny"]["config.json"]


def test_half_written_journal_of_a_killed_run_is_not_moved(project: Project, tmp_path: Path) -> None:
    """A kill during the first journal write leaves its temp file: the rerun drops it instead of moving it."""
    two_projects(project, tmp_path)
    g = project.global_cache
    (g / ".locks" / "linker").mkdir(parents=True, exist_ok=True)
    (g / ".locks" / "linker" / ".cache-move.json.0123abcd.linker-tmp").write_text('{"version": 1, "ol')
    before = {k: v for k, v in content(g).items() if not k.endswith(".linker-tmp")}
    new = tmp_path / "bigdisk" / "hub"
    r = project.linker("cache", "move", str(new))
    assert r.returncode == 0, r.stdout + r.stderr
    assert content(new) == before
