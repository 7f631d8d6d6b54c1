"""`linker verify` and `linker repair` never move, rename, delete or open for hashing anything but regular files
inside the view and the global cache: a link pointing at the user's own file, at a device or at a FIFO is
reported and relinked, and what it points at is left alone."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cachefactory import build_repo, etag_for
from testing.repairkit import REV, global_blob, kinds, online_synced, run_json, synced, view_repo

SHORT = 30.0  # seconds: these commands used to hang forever


def notes_file() -> tuple[Path, bytes, int]:
    """A file of the user's outside both caches, with an old mtime (to see that nothing touched it)."""
    notes = Path(os.environ["HOME"]) / "notes.txt"
    data = b"my own notes, not a model file\n"
    notes.write_bytes(data)
    os.utime(notes, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return notes, data, notes.stat().st_mtime_ns


def assert_untouched(notes: Path, data: bytes, mtime: int) -> None:
    assert notes.is_file() and not notes.is_symlink(), f"{notes} was moved"
    assert notes.read_bytes() == data and notes.stat().st_mtime_ns == mtime


def problems_of(doc: dict, kind: str) -> list[dict]:
    return [p for p in doc["problems"] if p["kind"] == kind]


@pytest.mark.parametrize("link", ["view-blob", "view-snapshot"])
def test_a_view_link_to_a_file_outside_the_caches_is_relinked_and_the_file_left_alone(project, link) -> None:
    info, files = synced(project)
    notes, data, mtime = notes_file()
    etag = info.etag(REV, "config.json")
    where = view_repo(project) / ("blobs/" + etag if link == "view-blob" else f"snapshots/{REV}/config.json")
    where.unlink()
    where.symlink_to(notes)

    code, doc = run_json(project, "verify", "--full")
    assert code == 1
    outside = problems_of(doc, "outside-caches")
    assert [p["path"] for p in outside] == ["config.json"] and str(notes) in outside[0]["detail"]
    assert_untouched(notes, data, mtime)

    code, doc = run_json(project, "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert ("outside-caches", "config.json") in kinds(doc, "found")
    assert not [f for f in doc["fixes"] if f["kind"] in ("quarantine", "drop-name")]
    assert_untouched(notes, data, mtime)
    assert (view_repo(project) / f"snapshots/{REV}/config.json").read_bytes() == files["config.json"]
    assert run_json(project, "verify", "--full")[0] == 0


def test_a_global_blob_link_to_a_file_outside_is_reported_then_replaced_by_a_good_copy(project) -> None:
    info, files = synced(project)
    notes, data, mtime = notes_file()
    blob = info.blob_path(REV, "model.safetensors")
    blob.unlink()
    blob.symlink_to(notes)

    r = project.linker("verify", "--full")
    assert r.returncode == 1 and "outside-caches" in r.stdout and str(notes) in r.stdout
    # no good copy on this machine, offline: reported, nothing moved
    code, doc = run_json(project, "repair", "--offline")
    assert code == 1 and doc["unfixable"]
    assert [p["path"] for p in doc["found"] if p["kind"] == "outside-caches"] == ["model.safetensors"]  # once
    assert not [f for f in doc["fixes"] if f["kind"] in ("quarantine", "drop-name")]
    assert_untouched(notes, data, mtime)
    assert blob.is_symlink() and os.readlink(blob) == str(notes)

    fork = build_repo(project.global_cache, "someone/fork", {REV: files}, refs={"main": REV})
    code, doc = run_json(project, "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert_untouched(notes, data, mtime)
    assert not blob.is_symlink() and os.path.samefile(blob, fork.blob_path(REV, "model.safetensors"))
    assert run_json(project, "verify", "--full")[0] == 0


def test_copy_view_a_global_blob_link_to_a_file_outside_is_restored_from_the_view(project) -> None:
    info, files = synced(project, link_mode="copy")
    notes, data, mtime = notes_file()
    blob = info.blob_path(REV, "vocab.txt")
    blob.unlink()
    blob.symlink_to(notes)
    code, doc = run_json(project, "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert [p["scope"] for p in doc["found"] if p["kind"] == "outside-caches"] == ["global"]
    assert [f["kind"] for f in doc["fixes"] if f["kind"] in ("quarantine", "restore-blob")] == ["restore-blob"]
    assert_untouched(notes, data, mtime)
    assert not blob.is_symlink() and blob.read_bytes() == files["vocab.txt"]


def test_online_the_link_to_a_file_outside_is_dropped_then_the_blob_fetched(project, hub_store, hub_env) -> None:
    _sha, files = online_synced(project, hub_store, hub_env)
    notes, data, mtime = notes_file()
    blob = global_blob(project, etag_for("modules.json", files["modules.json"]))
    blob.unlink()
    blob.symlink_to(notes)
    code, doc = run_json(project, "repair", env=hub_env)
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert [f["kind"] for f in doc["fixes"] if f["kind"] in ("drop-link", "fetch")] == ["drop-link", "fetch"]
    assert_untouched(notes, data, mtime)
    assert not blob.is_symlink() and blob.read_bytes() == files["modules.json"]


@pytest.fixture(params=["dev-zero", "fifo"])
def special(request, tmp_path) -> Path:
    if request.param == "dev-zero":
        return Path("/dev/zero")
    fifo = tmp_path / "a.fifo"
    os.mkfifo(fifo)
    return fifo


def test_a_view_link_to_a_device_or_fifo_is_reported_and_relinked_without_hanging(project, special) -> None:
    info, files = synced(project)
    link = view_repo(project) / "blobs" / info.etag(REV, "config.json")
    link.unlink()
    link.symlink_to(special)

    for args in (["verify"], ["verify", "--full"]):
        code, doc = run_json(project, *args, timeout=SHORT)
        assert code == 1 and [p["path"] for p in problems_of(doc, "not-regular-file")] == ["config.json"], doc
    r = project.linker("verify", "--full", timeout=SHORT)
    assert r.returncode == 1 and "not-regular-file" in r.stdout and str(special) in r.stdout
    r = project.linker("doctor", timeout=SHORT)
    assert "internal error" not in r.stdout + r.stderr

    code, doc = run_json(project, "repair", "--offline", timeout=SHORT)
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert ("not-regular-file", "config.json") in kinds(doc, "found")
    assert special.exists() and (special.is_fifo() or special.is_char_device())
    assert (view_repo(project) / f"snapshots/{REV}/config.json").read_bytes() == files["config.json"]


def test_a_global_blob_link_to_a_device_or_fifo_without_a_copy_is_reported_exit_1(project, special) -> None:
    info, _files = synced(project)
    blob = info.blob_path(REV, "modules.json")
    blob.unlink()
    blob.symlink_to(special)
    code, doc = run_json(project, "verify", "--full", timeout=SHORT)
    assert code == 1 and ("not-regular-file", "modules.json") in kinds(doc)
    code, doc = run_json(project, "repair", "--offline", timeout=SHORT)
    assert code == 1 and doc["unfixable"]
    assert not [f for f in doc["fixes"] if f["kind"] in ("quarantine", "drop-name")]
    assert ("not-regular-file", "modules.json") in kinds(doc["after"])
    assert special.exists() and (special.is_fifo() or special.is_char_device())
    assert blob.is_symlink()


def test_a_ref_or_tree_listing_that_is_a_fifo_is_not_a_hang(project, tmp_path) -> None:
    synced(project, lock_files=False)
    ref = view_repo(project) / "refs" / "main"
    ref.unlink()
    os.mkfifo(ref)
    for repo in (view_repo(project), project.global_cache / view_repo(project).name):
        tree = repo / "trees" / f"{REV}.json"  # read when the lock lists no files
        tree.parent.mkdir(exist_ok=True)
        tree.unlink(missing_ok=True)
        os.mkfifo(tree)
    code, doc = run_json(project, "verify", timeout=SHORT)
    assert code == 1 and ("bad-ref", "refs/main") in kinds(doc)
    code, doc = run_json(project, "repair", "--offline", timeout=SHORT)
    assert code == 0, json.dumps(doc, indent=1)[-4000:]
    assert ref.read_text() == REV


def test_hash_file_refuses_a_fifo_instead_of_blocking(tmp_path) -> None:
    """The one hashing function sync, migrate, verify and repair share never opens a FIFO for a blocking read."""
    fifo = tmp_path / "blob.fifo"
    os.mkfifo(fifo)
    code = (
        "import sys\nfrom linker.hashpool import NotRegularFile, hash_file\n"
        "try:\n    hash_file(sys.argv[1])\nexcept NotRegularFile as e:\n    print('refused', e.filename)\n"
    )
    for path in (fifo, "/dev/zero"):
        r = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=SHORT)
        assert r.stdout.strip() == f"refused {path}", r.stdout + r.stderr


def test_ensure_inside_refuses_paths_that_resolve_outside_the_roots(tmp_path) -> None:
    from linker.errors import LinkerError
    from linker.roots import ensure_inside

    root, out = tmp_path / "cache", tmp_path / "home"
    (root / "blobs").mkdir(parents=True)
    out.mkdir()
    (root / "escape").symlink_to(out)
    (root / "blobs" / "link").symlink_to(out / "notes.txt")
    ensure_inside(root / "blobs" / "x", [root])
    ensure_inside(root / "blobs" / "link", [root])  # the link itself lives inside: it may be replaced
    for bad in (out / "notes.txt", root / "escape" / "notes.txt", root / ".." / "home" / "x"):
        with pytest.raises(LinkerError, match="outside"):
            ensure_inside(bad, [root])


# -------------------------------------------------------------------------------------------------------------
# Filesystem faults are one line naming the path, never an internal error


def test_a_file_where_the_view_needs_a_folder_is_reported_not_an_internal_error(project) -> None:
    synced(project)
    blobs = view_repo(project) / "blobs"
    shutil.rmtree(blobs)
    blobs.write_text("not a folder")
    r = project.linker("repair", "--offline")
    assert r.returncode == 1 and "internal error" not in r.stdout + r.stderr, r.stdout + r.stderr
    assert f"{blobs}: File exists" in r.stdout and "verify --full: still" in r.stdout
    assert blobs.read_text() == "not a folder"  # not ours to remove

    shutil.rmtree(project.view)
    project.view.write_text("not a folder either")
    r = project.linker("repair", "--offline")  # `cache_dir` names a file: a configuration error (exit 2)
    assert r.returncode == 2 and r.stdout == "", r.stdout + r.stderr
    assert r.stderr.startswith(f"error: the view {project.view}: not a folder"), r.stderr


def test_a_global_cache_path_that_cannot_be_looked_at_is_one_line_exit_2(project, tmp_path) -> None:
    synced(project)
    project.global_cache = tmp_path / ("x" * 300) / "hub"  # ENAMETOOLONG: every stat of it fails
    for args in (["verify"], ["verify", "--full"], ["repair"], ["repair", "--dry-run"]):
        r = project.linker(*args)
        assert r.returncode == 2 and "internal error" not in r.stderr, (args, r.stdout + r.stderr)
        assert r.stderr.startswith(f"error: the global cache {project.global_cache}: File name too long"), r.stderr
    code, doc = run_json(project, "doctor")
    check = next(c for c in doc["checks"] if c["name"] == "global-cache")
    assert code == 1 and check["status"] == "fail" and "File name too long" in check["summary"]


def test_the_executor_refuses_to_replace_a_blob_whose_folder_leads_out_of_the_caches(project) -> None:
    """`blobs/` moved to another disk by hand: real paths are outside the caches, so repair changes nothing there
    and says why, even with a good copy at hand."""
    info, files = synced(project)
    build_repo(project.global_cache, "someone/fork", {REV: files}, refs={"main": REV})
    elsewhere = Path(os.environ["HOME"]) / "bigdisk-blobs"
    shutil.move(info.repo_folder / "blobs", elsewhere)
    (info.repo_folder / "blobs").symlink_to(elsewhere)
    victim = elsewhere / info.etag(REV, "config.json")
    victim.write_bytes(b"rotten")
    before = sorted((p.name, p.read_bytes()) for p in elsewhere.iterdir())
    code, doc = run_json(project, "repair", "--offline")
    assert code == 1
    refused = [o for o in doc["fixes"] if o["status"] == "failed" and "refused to replace" in o["detail"]]
    assert [o["kind"] for o in refused] == ["restore-blob"] and str(victim) in refused[0]["detail"]
    assert sorted((p.name, p.read_bytes()) for p in elsewhere.iterdir()) == before
