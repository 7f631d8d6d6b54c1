"""Sync never loses a byte: a view that is the global cache, the user's own files in the view, and a lockfile
whose `cache_dir` points anywhere are refused; `-q` means errors only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from testing.cachefactory import RepoInfo, add_incomplete, build_repo, fake_commit, tiny_model_files
from testing.fsfaults import immutable
from testing.hfprobe import load_file
from testing.repairkit import REV, run_json, synced, view_repo

REPO = "org/tiny"


def global_files(g: Path) -> dict[str, bytes]:
    """Every regular file of the global cache, with its bytes (links are not listed)."""
    out = {}
    for p in sorted(g.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(g))] = p.read_bytes()
    return out


def global_blobs_intact(g: Path, before: dict[str, bytes]) -> None:
    after = global_files(g)
    for rel, data in before.items():
        assert rel in after, f"{rel} is no longer a regular file"
        assert after[rel] == data
    blobs = [p for p in g.rglob("blobs/*") if not p.name.endswith(".lock")]
    assert blobs and all(p.is_file() and not p.is_symlink() for p in blobs)


# ---------------------------------------------------------------------------------------------------------------
# 1. a view that is (or is inside, or contains) the global cache


@pytest.mark.parametrize("how", ["cache_dir", "symlink", "inside"])
def test_a_view_that_is_the_global_cache_is_refused_and_every_blob_stays(project, how: str) -> None:
    files = tiny_model_files("st", seed=1)
    build_repo(project.global_cache, REPO, {REV: files}, refs={})
    entry = {"id": REPO, "revision": REV}
    if how == "cache_dir":
        project.write_lock([entry], cache_dir=str(project.global_cache))
    elif how == "symlink":
        project.view.symlink_to(project.global_cache, target_is_directory=True)
        project.write_lock([entry])
    else:
        project.write_lock([entry], cache_dir=str(project.global_cache / "sub"))
    before = global_files(project.global_cache)
    for args in (["sync"], ["sync", "--force"], ["status"], ["verify"], ["repair"]):
        r = project.linker(*args, env={"LINKER_ALLOW_OUTSIDE": "1"})  # confirmed: only the cache check is left
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "global cache" in r.stderr and "Traceback" not in r.stderr
    global_blobs_intact(project.global_cache, before)
    assert global_files(project.global_cache) == before  # not even a CACHEDIR.TAG, manifest or lock was written


def test_a_shell_that_evaluated_linker_env_is_told_why(project) -> None:
    """Issue 10 §2: the view is never taken for the global cache; sync uses the one the view was synced from and
    says so in one line (before: refused, exit 2)."""
    synced(project)
    before = global_files(project.global_cache)
    r = project.linker("sync", env={"HF_HUB_CACHE": str(project.view)})  # HF_HUB_CACHE from `linker env`
    assert r.returncode == 0, r.stdout + r.stderr
    (line,) = [n for n in r.stderr.splitlines() if "linker env" in n]
    assert "is a linker view" in line and str(project.global_cache) in line
    assert global_files(project.global_cache) == before


def test_the_executor_never_replaces_a_file_by_a_link_to_itself(tmp_path: Path) -> None:
    from linker.errors import ConfigError
    from linker.viewguard import refuse_self_link

    blob = tmp_path / "blobs" / "abc"
    blob.parent.mkdir()
    blob.write_bytes(b"data")
    for target in (str(blob), "../blobs/abc", "./abc"):
        with pytest.raises(ConfigError):
            refuse_self_link(str(blob), target)
    refuse_self_link(str(blob), str(tmp_path / "other"))  # another file: fine
    assert blob.read_bytes() == b"data"


# ---------------------------------------------------------------------------------------------------------------
# 2. the user's own files in the view


def _quarantined(repo: Path) -> list[Path]:
    return sorted((repo / "blobs").glob("*.linker-quarantine"))


def test_a_hand_edited_file_in_place_of_a_snapshot_link_is_never_replaced(project) -> None:
    info, files = synced(project)
    link = view_repo(project) / "snapshots" / REV / "config.json"
    link.unlink()
    link.write_bytes(b'{"edited": true}')  # an editor's save replaced the link by a real file
    r = project.linker("sync")
    assert r.returncode == 1, r.stdout + r.stderr
    assert str(link) in r.stdout and "linker did not create" in r.stdout
    assert r.stdout.count(str(link)) == 1  # named once
    assert link.read_bytes() == b'{"edited": true}' and not link.is_symlink()
    assert project.linker("sync", "--check").returncode == 1

    r = project.linker("sync", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    moved = _quarantined(view_repo(project))
    assert len(moved) == 1 and moved[0].read_bytes() == b'{"edited": true}'
    assert str(moved[0]) in r.stderr  # the output says where it went
    assert moved[0].name.startswith(info.etag(REV, "config.json"))
    assert load_file(project.view, REPO, "config.json") == files["config.json"]
    assert project.linker("sync").returncode == 0
    assert moved[0].read_bytes() == b'{"edited": true}'  # a later sync leaves the quarantined file alone


def test_a_hand_copy_in_place_of_a_view_blob_link_is_never_replaced(project) -> None:
    info, files = synced(project)
    blob = view_repo(project) / "blobs" / info.etag(REV, "modules.json")
    blob.unlink()
    blob.write_bytes(b"[]")  # different bytes than the blob's
    r = project.linker("sync")
    assert r.returncode == 1 and str(blob) in r.stdout
    assert blob.read_bytes() == b"[]"
    r = project.linker("sync", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    moved = _quarantined(view_repo(project))
    assert [m.read_bytes() for m in moved] == [b"[]"]
    assert load_file(project.view, REPO, "modules.json") == files["modules.json"]


def test_a_copy_with_the_blobs_bytes_is_replaced_without_asking(project) -> None:
    _info, files = synced(project)
    link = view_repo(project) / "snapshots" / REV / "modules.json"
    link.unlink()
    link.write_bytes(files["modules.json"])  # `cp -L`: the same bytes, nothing to lose
    r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert link.is_symlink() and not _quarantined(view_repo(project))


def test_copy_mode_tells_its_own_copies_from_an_edited_one(project) -> None:
    info, _files = synced(project, link_mode="copy")
    assert project.linker("sync", "--link-mode", "copy").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(REV, "config.json")
    assert blob.is_file() and not blob.is_symlink()
    blob.unlink()
    blob.write_bytes(b'{"mine": 1}')  # a new file (new inode) with other bytes
    r = project.linker("sync", "--link-mode", "copy")
    assert r.returncode == 1 and str(blob) in r.stdout
    assert blob.read_bytes() == b'{"mine": 1}'
    # switching to symlinks replaces sync's own copies (their bytes match) but not the edited one
    r = project.linker("sync", "--link-mode", "symlink")
    assert r.returncode == 1 and blob.read_bytes() == b'{"mine": 1}'
    assert (view_repo(project) / "blobs" / info.etag(REV, "modules.json")).is_symlink()


def test_a_user_file_at_a_path_linker_would_remove_is_kept(project) -> None:
    _info, files = synced(project)
    new = fake_commit("repairkit", 2)
    build_repo(project.global_cache, REPO, {new: files}, refs={})
    old_link = view_repo(project) / "snapshots" / REV / "config.json"
    old_link.unlink()
    old_link.write_bytes(b"my notes")
    project.write_lock([{"id": REPO, "revision": new}])
    r = project.linker("sync")
    assert r.returncode == 1 and str(old_link) in r.stdout
    assert old_link.read_bytes() == b"my notes"
    r = project.linker("sync", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    assert [m.read_bytes() for m in _quarantined(view_repo(project))] == [b"my notes"]


# ---------------------------------------------------------------------------------------------------------------
# 6. cache_dir from an untrusted lockfile


@pytest.mark.parametrize("cache_dir", ["/", "/etc", "/usr/share", "/home"])
def test_cache_dir_in_a_system_folder_is_refused_even_when_confirmed(project, cache_dir: str) -> None:
    project.write_lock([], cache_dir=cache_dir)
    # read-only commands only: even with the check missing they could not write there
    for args in (["sync", "--dry-run"], ["sync", "--check"], ["status"], ["--allow-outside-project", "status"]):
        r = project.linker(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "system folder" in r.stderr and "project_cache.yaml:2:" in r.stderr


def test_cache_dir_home_is_refused_and_nothing_is_written_there(project) -> None:
    home = Path(os.environ["HOME"])
    before = sorted(os.listdir(home))
    project.write_lock([], cache_dir="~")
    for args in (["sync"], ["--allow-outside-project", "sync"]):
        r = project.linker(*args)
        assert r.returncode == 2 and "home folder" in r.stderr, r.stderr
    assert sorted(os.listdir(home)) == before


def test_cache_dir_outside_the_project_needs_confirmation(project, tmp_path: Path) -> None:
    files = tiny_model_files("bert", seed=2)
    build_repo(project.global_cache, REPO, {REV: files}, refs={})
    outside = tmp_path / "outside"
    project.write_lock([{"id": REPO, "revision": REV}], cache_dir="../outside")
    r = project.linker("sync")
    assert r.returncode == 2 and str(outside) in r.stderr and "--allow-outside-project" in r.stderr
    assert "LINKER_ALLOW_OUTSIDE=1" in r.stderr and not outside.exists()
    assert project.linker("sync", "--dry-run").returncode == 2

    r = project.linker("sync", env={"LINKER_ALLOW_OUTSIDE": "1"})
    assert r.returncode == 0, r.stderr
    assert load_file(outside, REPO, "config.json") == files["config.json"]
    assert project.linker("--allow-outside-project", "sync", "--check").returncode == 0


def test_cache_dir_the_project_folder_itself_is_refused(project) -> None:
    project.write_lock([], cache_dir=".")
    r = project.linker("sync")
    assert r.returncode == 2 and "project folder itself" in r.stderr
    assert not (project.root / "CACHEDIR.TAG").exists() and not (project.root / ".locks").exists()


def test_cache_dir_expands_variables_like_home(project) -> None:
    build_repo(project.global_cache, REPO, {REV: tiny_model_files("bert")}, refs={})
    project.write_lock([{"id": REPO, "revision": REV}], cache_dir="$VIEW_NAME/cache")
    r = project.linker("sync", env={"VIEW_NAME": "views"})
    assert r.returncode == 0, r.stderr
    assert (project.root / "views" / "cache" / "models--org--tiny").is_dir()
    assert not (project.root / "$VIEW_NAME").exists()


def test_a_symlinked_cache_dir_is_judged_by_where_it_leads(project, tmp_path: Path) -> None:
    elsewhere = tmp_path / "bigdisk"
    elsewhere.mkdir()
    project.view.symlink_to(elsewhere, target_is_directory=True)
    project.write_lock([])
    with immutable(elsewhere):  # should the check be missing, sync still cannot write there
        r = project.linker("sync")
    assert r.returncode == 2 and str(elsewhere) in r.stderr
    assert project.linker("--allow-outside-project", "sync").returncode == 0


# ---------------------------------------------------------------------------------------------------------------
# Also: -q means errors only; a case-only difference gets a hint


def test_quiet_prints_nothing_on_success(project) -> None:
    synced(project)
    for args in (["-q", "sync", "--check"], ["-q", "sync"], ["-q", "status"]):
        r = project.linker(*args)
        assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (args, r.stdout, r.stderr)
    (view_repo(project) / "refs" / "main").write_text("0" * 40)
    r = project.linker("-q", "sync")
    assert r.returncode == 0 and r.stdout == "" and r.stderr == ""
    (view_repo(project) / "snapshots" / REV / "config.json").unlink()
    r = project.linker("-q", "sync", "--check")
    assert r.returncode == 1  # drift is reported in the exit code; a missing file is an error and is named
    project.write_lock([{"id": "org/absent", "revision": "f" * 40}])
    r = project.linker("-q", "sync", "--offline")
    assert r.returncode == 1 and "org/absent" in r.stdout


def test_an_id_that_differs_only_in_case_gets_a_hint(project) -> None:
    build_repo(project.global_cache, "acme/tiny", {REV: tiny_model_files("bert")}, refs={})
    project.write_lock([{"id": "ACME/Tiny", "revision": REV}])
    r = project.linker("sync", "--offline")
    assert r.returncode == 1
    assert "models--acme--tiny" in r.stdout and "acme/tiny" in r.stdout
    r = project.linker("status")
    assert "models--acme--tiny" in r.stdout
    doc = json.loads(project.linker("status", "--json").stdout)
    assert "models--acme--tiny" in doc["entries"][0]["detail"]


# ---------------------------------------------------------------------------------------------------------------
# 7. a half-written global snapshot (no `files` in the lock, no trees/ listing)


def _half_written(project) -> tuple[RepoInfo, dict[str, bytes], Path]:
    """A global snapshot another process is still writing: config.json is not there yet, its download is."""
    files = tiny_model_files("st", seed=4)
    rest = sorted(p for p in files if p != "config.json")
    info = build_repo(project.global_cache, REPO, {REV: files}, refs={}, trees=False, partial={REV: rest})
    incomplete = add_incomplete(info.repo_folder, info.etag(REV, "config.json"), b"{")
    project.write_lock([{"id": REPO, "revision": REV}])
    return info, files, incomplete


def _finish(project, info: RepoInfo, files: dict[str, bytes], incomplete: Path) -> None:
    """The writer finishes: the blob and its snapshot link appear, the `.incomplete` goes (as hub does it)."""
    incomplete.unlink(missing_ok=True)
    build_repo(project.global_cache, REPO, {REV: files}, refs={}, trees=False)


def test_sync_waits_for_the_writer_of_a_global_snapshot(project) -> None:
    from filelock import FileLock

    info, files, incomplete = _half_written(project)
    lock = FileLock(str(info.lock_path(info.etag(REV, "config.json"))))
    lock.acquire()  # a download in progress holds huggingface_hub's blob lock
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "linker", "sync"],
            cwd=project.root,
            env={**os.environ, "HF_HUB_CACHE": str(project.global_cache)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2)  # give sync the time to start (not asserted: a slow start only makes the test weaker)
        _finish(project, info, files, incomplete)
    finally:
        lock.release()
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert load_file(project.view, REPO, "config.json") == files["config.json"]


def test_a_view_linked_from_a_half_written_snapshot_is_not_recorded_complete(project) -> None:
    info, files, incomplete = _half_written(project)
    r = project.linker("sync")  # the writer died: nothing to wait for, sync links what is there
    assert r.returncode == 0, r.stdout + r.stderr
    assert not (view_repo(project) / "snapshots" / REV / "config.json").exists()
    _finish(project, info, files, incomplete)
    assert project.linker("sync", "--check").returncode == 1  # the view lacks config.json: not "in sync"
    r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert load_file(project.view, REPO, "config.json") == files["config.json"]
    assert project.linker("sync", "--check").returncode == 0
    code, doc = run_json(project, "verify", "--full")
    assert code == 0
    warned = [p for p in doc["problems"] if p["kind"] == "completeness-unproven"]
    assert warned and "linker lock" in warned[0]["fix"]
    r = project.linker("verify")
    assert r.returncode == 0 and "unproven" in r.stdout and "linker lock" in r.stdout


def test_an_interrupted_migrate_of_the_repo_is_named(project) -> None:
    info, files, incomplete = _half_written(project)
    incomplete.unlink()
    journal = project.global_cache / ".locks" / "linker-migrate" / "20260101T000000-1.journal.json"
    journal.parent.mkdir(parents=True)
    plan = {"global_cache": str(project.global_cache), "mode": "move", "items": [
        {"kind": "hf-cache", "source": "/nowhere", "repo_id": REPO, "repo_type": "model", "revisions": [REV],
         "reason": "test"}]}  # fmt: skip
    journal.write_text(json.dumps(plan))
    r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "interrupted `linker migrate`" in r.stderr and "linker repair" in r.stderr
    assert project.linker("sync", "--check").returncode == 0  # no file is missing from what the cache lists...
    _finish(project, info, files, incomplete)  # ...until the migrate is finished
    assert project.linker("sync", "--check").returncode == 1
