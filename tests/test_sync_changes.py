"""`linker sync` keeps the view equal to the lock: no-ops, --check and --dry-run, JSON, pin changes, subsets,
stale entries, files it did not create, and the directory stamps of the no-op fast path.
"""

from __future__ import annotations

import json
import os

from testing.cachefactory import build_repo, fake_commit
from testing.hfprobe import load_file, run_hf
from testing.repairkit import view_repo
from testing.synckit import NEW, OLD, lock_entry, two_revisions


def test_second_sync_changes_nothing_and_says_so(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    snapshot = {p: (p.lstat().st_mtime_ns, p.lstat().st_ino) for p in project.view.rglob("*")}
    r = project.linker("sync")
    assert r.returncode == 0
    assert "Already in sync" in r.stdout
    assert {p: (p.lstat().st_mtime_ns, p.lstat().st_ino) for p in project.view.rglob("*")} == snapshot


def test_check_and_dry_run_change_nothing(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync", "--check")
    assert r.returncode == 1 and not project.view.exists()
    r = project.linker("sync", "--dry-run")
    assert r.returncode == 0 and "Would change" in r.stdout and not project.view.exists()
    assert project.linker("sync").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    # Drift: a snapshot link removed by hand, a ref rewritten.
    (view_repo(project) / "snapshots" / OLD / "config.json").unlink()
    assert project.linker("sync", "--check").returncode == 1
    assert not (view_repo(project) / "snapshots" / OLD / "config.json").exists()
    assert project.linker("sync").returncode == 0
    (view_repo(project) / "refs" / "main").write_text(NEW)
    assert project.linker("sync", "--check").returncode == 1
    assert project.linker("sync").returncode == 0
    assert (view_repo(project) / "refs" / "main").read_text() == OLD


def test_json_output_is_one_document_on_stdout(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["applied"] is True and doc["problems"] == []
    assert {a["kind"] for a in doc["actions"]} >= {"blob", "link", "ref", "global-ref"}
    assert doc["entries"][0]["state"] in ("stale", "linked")
    doc = json.loads(project.linker("sync", "--json", "--check").stdout)
    assert doc["in_sync"] is True and doc["actions"] == []


def test_pin_change_relinks_and_removes_the_old_revision(project) -> None:
    _info, _old, new = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    project.write_lock([lock_entry(revision=NEW)])
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    repo = view_repo(project)
    assert sorted(os.listdir(repo / "snapshots")) == [NEW]
    assert (repo / "refs" / "main").read_text() == NEW
    assert not (repo / "trees" / f"{OLD}.json").exists()
    linked_blobs = set(os.listdir(repo / "blobs"))
    assert linked_blobs == {
        os.readlink(p).rsplit("/", 1)[1] for p in (repo / "snapshots" / NEW).rglob("*") if p.is_symlink()
    }
    (gref,) = (project.global_cache / "models--org--tiny" / "refs" / "linker").iterdir()
    assert gref.read_text() == NEW
    assert load_file(project.view, "org/tiny", "config.json") == new["config.json"]


def test_custom_ref_is_written_and_loads_by_that_name(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry(ref="v1.0")])
    assert project.linker("sync").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json", revision="v1.0") == old["config.json"]
    project.write_lock([lock_entry(ref="stable")])
    assert project.linker("sync").returncode == 0
    assert sorted(os.listdir(view_repo(project) / "refs")) == ["main", "stable"]  # v1.0 dropped; main always
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_include_exclude_link_a_subset_without_a_trees_file(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry(include=["*.json"], exclude=["1_Pooling/*"])])
    assert project.linker("sync").returncode == 0
    files = sorted(p.relative_to(view_repo(project) / "snapshots" / OLD).as_posix()
                   for p in (view_repo(project) / "snapshots" / OLD).rglob("*") if p.is_symlink())  # fmt: skip
    assert files and all(f.endswith(".json") and not f.startswith("1_Pooling") for f in files)
    # A partial view must not carry trees/<sha>.json, or offline snapshot_download would raise.
    assert not (view_repo(project) / "trees").exists()
    result = run_hf(
        "from huggingface_hub import snapshot_download\nresult = bool(snapshot_download('org/tiny'))",
        hub_cache=project.view,
    )
    assert result is True


def test_stale_entries_are_removed_but_foreign_files_are_refused(project) -> None:
    two_revisions(project.global_cache)
    build_repo(project.global_cache, "org/other", {fake_commit("o"): {"a.json": b"{}"}})
    project.write_lock([lock_entry(), lock_entry("org/other", fake_commit("o"))])
    assert project.linker("sync").returncode == 0
    # A file the user put inside a linker-made repo folder, and a repo folder linker never made.
    foreign = view_repo(project, "org/other") / "notes.txt"
    foreign.write_text("mine")
    own_repo = project.view / "models--me--own"
    (own_repo / "snapshots").mkdir(parents=True)
    project.write_lock([lock_entry()])
    r = project.linker("sync")
    assert r.returncode == 1
    assert "notes.txt" in r.stdout and "linker did not create" in r.stdout
    assert foreign.read_text() == "mine"
    assert not (view_repo(project, "org/other") / "snapshots").exists()
    assert own_repo.exists()
    r = project.linker("sync", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not foreign.exists() and own_repo.exists()
    moved = list((view_repo(project, "org/other") / "blobs").glob("notes.txt.*.linker-quarantine"))
    assert [m.read_text() for m in moved] == ["mine"] and str(moved[0]) in r.stderr  # moved aside, not deleted
    assert project.linker("sync").returncode == 0


def test_sync_refuses_to_replace_real_files_it_did_not_create(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    blob = view_repo(project) / "blobs" / info.etag(OLD, "config.json")
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"someone's real data")
    r = project.linker("sync")
    assert r.returncode == 1 and "linker did not create" in r.stdout and "linker migrate" in r.stdout
    assert blob.read_bytes() == b"someone's real data"
    assert project.linker("sync", "--force").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_directory_stamps_prove_a_noop_yet_catch_any_change(project) -> None:
    """The no-op fast path trusts directory mtimes (like git's index); each kind of change must still show."""
    from linker.sync.fastpath import fast_in_sync
    from linker.sync.manifest import load_manifest

    info, _old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    assert project.linker("sync").returncode == 0  # refreshes stamps that were racy
    manifest = load_manifest(project.view)
    (rec,) = manifest.repos.values()
    assert rec.dirs and all(m < manifest.stamp_ns for m in rec.dirs.values())
    assert any(d.startswith(str(project.global_cache)) for d in rec.dirs)
    assert fast_in_sync(rec, rec.spec, view_repo(project), manifest.stamp_ns) == "dirs"

    info.blob_path(OLD, "modules.json").unlink()  # a global blob disappears
    assert project.linker("sync", "--check").returncode == 1
    info.blob_path(OLD, "modules.json").write_bytes(_old["modules.json"])
    assert project.linker("sync").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    link = view_repo(project) / "snapshots" / OLD / "1_Pooling" / "config.json"
    link.unlink()  # a view link in a nested folder disappears
    link.symlink_to("../../../blobs/" + "0" * 40)
    assert project.linker("sync", "--check").returncode == 1
