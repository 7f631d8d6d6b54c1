"""`linker verify`: what it reports after users break a synced project, checked against what the real
huggingface_hub then does with the view."""

from __future__ import annotations

import os
import shutil

from testing.cachefactory import add_incomplete, add_no_exist, add_ref_newline, make_absolute_links
from testing.hfprobe import load_file, scan, try_load
from testing.readonly import read_only
from testing.repairkit import REPO, REV, flip_byte, kinds, run_json, synced, truncate, view_repo


def test_a_synced_view_verifies_fast_and_full(project) -> None:
    _info, files = synced(project)
    r = project.linker("verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("OK: 1 repo(s), 11 file(s)")
    code, doc = run_json(project, "verify", "--full")
    assert code == 0 and doc["ok"] and doc["full"]
    assert doc["hashed"] == {"files": len(files), "bytes": sum(len(b) for b in files.values())}
    assert doc["problems"] == [] and doc["entries"][0]["listing"] == "lock"


def test_not_synced(project) -> None:
    _info, _ = synced(project)
    shutil.rmtree(project.view)
    code, doc = run_json(project, "verify")
    assert code == 1 and kinds(doc) == {("not-synced", "")}
    assert doc["problems"][0]["fix"] == "linker sync"


def test_deleted_global_blob_is_a_dangling_link_named_by_repo_and_path(project) -> None:
    info, _ = synced(project)
    os.remove(info.blob_path(REV, "modules.json"))
    assert load_file(project.view, REPO, "modules.json", REV) == "LocalEntryNotFoundError"  # what users hit
    code, doc = run_json(project, "verify")
    assert code == 1
    assert kinds(doc) == {("dangling-link", "modules.json")}
    p = doc["problems"][0]
    assert p["repo"] == REPO and p["etag"] == info.etag(REV, "modules.json")
    assert "hf download org/tiny --revision " + REV in p["fix"]  # no copy left: the fix names the download
    r = project.linker("verify")
    assert "org/tiny: modules.json: dangles" in r.stdout and r.returncode == 1


def test_ref_with_a_newline(project) -> None:
    synced(project)
    add_ref_newline(view_repo(project), "main")
    assert load_file(project.view, REPO, "config.json") == "LocalEntryNotFoundError"
    code, doc = run_json(project, "verify")
    assert code == 1 and kinds(doc) == {("bad-ref", "refs/main")}
    assert "trailing newline" in doc["problems"][0]["detail"]


def test_ref_with_the_wrong_sha_and_a_missing_ref(project) -> None:
    synced(project)
    ref = view_repo(project) / "refs" / "main"
    ref.write_text("0" * 40)
    code, doc = run_json(project, "verify")
    assert kinds(doc) == {("bad-ref", "refs/main")} and f"the pin is {REV}" in doc["problems"][0]["detail"]
    ref.unlink()
    code, doc = run_json(project, "verify")
    assert code == 1 and doc["problems"][0]["detail"] == "missing"


def test_truncated_blob_fails_fast_verify_on_size_and_full_on_hash(project) -> None:
    info, _files = synced(project)
    truncate(info.blob_path(REV, "model.safetensors"))
    code, doc = run_json(project, "verify")
    assert code == 1 and kinds(doc) == {("size-mismatch", "model.safetensors")}
    code, doc = run_json(project, "verify", "--full")
    assert ("corrupt-blob", "model.safetensors") in kinds(doc)


def test_flipped_byte_passes_fast_verify_and_full_verify_names_it(project) -> None:
    info, files = synced(project)
    flip_byte(info.blob_path(REV, "model.safetensors"), 100)
    got = load_file(project.view, REPO, "model.safetensors", REV)
    assert isinstance(got, bytes) and got != files["model.safetensors"]  # huggingface_hub serves the bad bytes
    assert project.linker("verify").returncode == 0  # fast verify does not hash
    code, doc = run_json(project, "verify", "--full")
    assert code == 1 and kinds(doc) == {("corrupt-blob", "model.safetensors")}
    p = doc["problems"][0]
    assert p["repo"] == REPO and p["scope"] == "global"
    assert p["where"] == os.path.realpath(info.blob_path(REV, "model.safetensors"))
    r = project.linker("verify", "--full")
    assert "org/tiny: model.safetensors: corrupt blob" in r.stdout


def test_git_sha1_blobs_are_hashed_as_git_blobs(project) -> None:
    info, _ = synced(project)
    etag = info.etag(REV, "config.json")
    assert len(etag) == 40  # a regular (non-LFS) file: named by its git blob id
    flip_byte(info.blob_path(REV, "config.json"), 3)
    code, doc = run_json(project, "verify", "--full")
    assert code == 1 and kinds(doc) == {("corrupt-blob", "config.json")}


def test_stale_no_exist_marker_in_the_view_and_in_the_global_cache(project) -> None:
    info, _files = synced(project)
    add_no_exist(view_repo(project), REV, "modules.json")
    add_no_exist(info.repo_folder, REV, "config.json")
    assert try_load(project.view, REPO, "modules.json", REV) == "NO_EXIST"  # the shadowing users hit
    code, doc = run_json(project, "verify")
    assert code == 1
    assert {(p["kind"], p["path"], p["scope"]) for p in doc["problems"]} == {
        ("stale-no-exist", "modules.json", "view"),
        ("stale-no-exist", "config.json", "global"),
    }


def test_a_marker_for_a_file_that_really_is_absent_is_fine(project) -> None:
    synced(project)
    add_no_exist(view_repo(project), REV, "tokenizer.json")
    assert project.linker("verify").returncode == 0


def test_missing_project_ref_in_the_global_cache(project) -> None:
    info, _ = synced(project)
    refs = list((info.repo_folder / "refs").rglob("*"))
    ref = next(p for p in refs if p.is_file())
    ref.unlink()
    code, doc = run_json(project, "verify")
    assert code == 1 and doc["problems"][0]["kind"] == "project-ref" and doc["problems"][0]["scope"] == "global"
    assert "prune" in doc["problems"][0]["detail"]


def test_read_only_global_cache_without_project_ref_is_a_warning(project) -> None:
    info, _ = synced(project)
    ref = next(p for p in (info.repo_folder / "refs").rglob("*") if p.is_file())
    ref.unlink()
    with read_only(ref.parent, info.repo_folder / "refs"):
        code, doc = run_json(project, "verify")
    assert code == 0 and kinds(doc, severity="warning") == {("project-ref", doc["problems"][0]["path"])}


def test_leftovers_are_warnings(project) -> None:
    info, _ = synced(project)
    add_incomplete(info.repo_folder, info.etag(REV, "model.safetensors"))
    (view_repo(project) / "blobs" / ".abc.0123abcd.linker-tmp").write_text("x")
    code, doc = run_json(project, "verify")
    assert code == 0 and doc["problems"] == []  # the fast path does not list them
    code, doc = run_json(project, "verify", "--full")
    assert code == 0
    assert {(p["kind"], p["scope"]) for p in doc["problems"]} == {("leftover", "global"), ("leftover", "view")}


def test_hub_013_absolute_links_in_the_global_cache_are_reported_by_full_verify(project) -> None:
    info, _ = synced(project)
    make_absolute_links(info.repo_folder, REV)
    code, doc = run_json(project, "verify")
    assert code == 0  # the view still resolves
    code, doc = run_json(project, "verify", "--full")
    assert code == 1
    assert {(p["kind"], p["scope"]) for p in doc["problems"]} == {("link-form", "global")}
    assert len(doc["problems"]) == len(info.present[REV])


def test_absolute_snapshot_link_in_the_view(project) -> None:
    _info, _ = synced(project)
    link = view_repo(project) / "snapshots" / REV / "config.json"
    target = os.path.realpath(link)
    os.remove(link)
    os.symlink(target, link)
    code, doc = run_json(project, "verify")
    assert code == 1 and kinds(doc) == {("link-form", "config.json")}


def test_id_filter(project) -> None:
    from testing.cachefactory import build_repo, fake_commit, tiny_model_files
    from testing.repairkit import lock_entry

    other = build_repo(project.global_cache, "org/other", {fake_commit("o"): tiny_model_files("bert", 5)}, refs={})
    info, _ = synced(project, extra_entries=[lock_entry(other, fake_commit("o"))])
    os.remove(info.blob_path(REV, "config.json"))
    assert project.linker("verify", "org/other").returncode == 0
    assert project.linker("verify", "org/tiny").returncode == 1
    r = project.linker("verify", "org/nope")
    assert r.returncode == 2 and "org/nope is not in" in r.stderr


def test_lock_without_files_uses_the_tree_listing(project) -> None:
    _info, files = synced(project, lock_files=False)
    code, doc = run_json(project, "verify", "--full")
    # the last sync's record of this very entry gives the list; without it, the global trees/<sha>.json
    assert code == 0 and doc["entries"][0]["listing"] == "manifest" and doc["entries"][0]["files"] == len(files)
    manifest = project.view / ".locks" / "linker-manifest.json"
    saved = manifest.read_bytes()
    manifest.unlink()
    code, doc = run_json(project, "verify", "--full")
    assert code == 0 and doc["entries"][0]["listing"] == "tree" and doc["entries"][0]["files"] == len(files)
    manifest.write_bytes(saved)
    os.remove(view_repo(project) / "snapshots" / REV / "1_Pooling" / "config.json")
    code, doc = run_json(project, "verify")
    assert kinds(doc) == {("missing-file", "1_Pooling/config.json")}


def test_shared_blob_store_blobs_are_hashed_through_both_hops(project) -> None:
    info, _files = synced(project, shared_store=True)
    assert info.store_blobs  # the LFS file lives in <cache>/blobs/xx/<xethash>
    code, doc = run_json(project, "verify", "--full")
    assert code == 0, doc
    payload = next(iter(info.store_blobs.values()))
    flip_byte(payload, 50)
    code, doc = run_json(project, "verify", "--full")
    assert kinds(doc) == {("corrupt-blob", "model.safetensors")}
    assert doc["problems"][0]["where"] == str(payload)


def test_hardlink_and_copy_views_verify(project) -> None:
    info, files = synced(project, link_mode="copy")
    assert project.linker("verify", "--full").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(REV, "vocab.txt")
    flip_byte(blob, 0)
    code, doc = run_json(project, "verify", "--full")
    assert code == 1 and kinds(doc) == {("corrupt-blob", "vocab.txt")} and doc["problems"][0]["scope"] == "view"
    assert load_file(project.global_cache, REPO, "vocab.txt", REV) == files["vocab.txt"]  # only the copy is bad


def test_verify_output_is_one_json_document_and_scan_agrees(project) -> None:
    info, _ = synced(project)
    code, doc = run_json(project, "verify")
    assert code == 0 and doc["ok"]
    assert scan(project.view)["warnings"] == []
    os.remove(info.blob_path(REV, "config.json"))
    code, doc = run_json(project, "verify")
    assert not doc["ok"]
    # huggingface_hub agrees the view is broken: scan_cache_dir drops the repo with a broken-symlink warning
    assert any("Blob missing" in w for w in scan(project.view)["warnings"])
