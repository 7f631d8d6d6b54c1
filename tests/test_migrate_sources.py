"""`linker migrate` offline, one test (or a few) per kind of source. Each is judged by what a user notices: the
global cache holds the files in huggingface_hub's layout, nothing is lost, and after `linker sync` the real
huggingface_hub (offline, empty HF_HOME) loads the original bytes from the project view."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from testing.cachefactory import (
    add_no_exist,
    build_local_dir,
    build_plain_folder,
    build_repo,
    build_st_legacy,
    build_transformers_legacy,
    etag_for,
    fake_commit,
    git_blob_sha1,
    make_absolute_links,
    make_cwd_relative_links,
    sha256_hex,
    tiny_model_files,
)
from testing.hfprobe import load_file, scan
from testing.migrate_support import (
    global_snapshot,
    item_of,
    lock_items,
    migrate,
    reachable_contents,
    snapshot_links,
    sync_and_load,
    tree_digests,
)

ST_ID = "sentence-transformers/all-MiniLM-L6-v2"


def local_revision(etags: dict[str, str]) -> str:
    """The documented local revision: sha1 over sorted (path, blob) pairs, salted."""
    h = hashlib.sha1(b"linker-local-revision-v1\0")
    for p in sorted(etags):
        h.update(p.encode() + b"\0" + etags[p].encode() + b"\n")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------------
# folder


def test_folder_tree_of_org_model_folders(project, tmp_path):
    tree = tmp_path / "data" / "embedding" / "models"
    a, b = tiny_model_files("bert", seed=1), tiny_model_files("st", seed=2)
    build_plain_folder(tree / "acme" / "bert-tiny", a)
    build_plain_folder(tree / "other-org" / "st.tiny", b)
    doc = migrate(project, str(tree))
    assert doc["rc"] == 0, doc
    ia, ib = item_of(doc, "acme/bert-tiny"), item_of(doc, "other-org/st.tiny")
    assert ia["kind"] == ib["kind"] == "folder"
    assert ia["local"] and ia["reason"] == "local: offline"
    # offline rule: Hub default LFS patterns -> model.safetensors is sha256, json files git sha1
    etags = {p: etag_for(p, d) for p, d in a.items()}
    assert ia["revisions"] == [local_revision(etags)]
    blobs = {x["etag"] for x in ia["blobs"]}
    assert sha256_hex(a["model.safetensors"]) in blobs and git_blob_sha1(a["config.json"]) in blobs
    # moved by rename: the source folders are gone, the bytes are in the global cache
    assert not (tree / "acme" / "bert-tiny").exists() and not (tree / "other-org" / "st.tiny").exists()
    assert doc["bytes"]["renamed"] == sum(map(len, a.values())) + sum(map(len, b.values()))
    assert doc["bytes"]["copied"] == 0
    assert global_snapshot(project.global_cache, "acme/bert-tiny", ia["revisions"][0]) == a
    # never refs/main for a local revision; a ref of our own protects it from `hf cache prune`
    refs = scan(project.global_cache)
    assert not refs["warnings"]
    for repo in refs["repos"]:
        assert "main" not in repo["refs"]
        assert all(r.startswith("linker/migrated-") for r in repo["refs"])
    lock_items(project, doc)
    sync_and_load(project, "acme/bert-tiny", a, paths=["config.json", "model.safetensors"])
    sync_and_load(project, "other-org/st.tiny", b, paths=["modules.json", "1_Pooling/config.json"])


def test_single_folder_with_id_and_copy_leaves_source_untouched(project, tmp_path):
    files = tiny_model_files("bert", seed=3)
    src = build_plain_folder(tmp_path / "my_model", files)
    before = tree_digests(src)
    doc = migrate(project, str(src), "--id", "acme/custom", "--copy")
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/custom")
    assert it["id_reason"] == "--id"
    assert tree_digests(src) == before
    assert doc["bytes"]["copied"] == sum(map(len, files.values()))
    assert global_snapshot(project.global_cache, "acme/custom", it["revisions"][0]) == files


def test_hardlink_shares_the_inode(project, tmp_path):
    files = tiny_model_files("bert", seed=4)
    src = build_plain_folder(tmp_path / "acme" / "hl", files)
    doc = migrate(project, str(src), "--hardlink")
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/hl")
    blob = project.global_cache / "models--acme--hl" / "blobs" / sha256_hex(files["model.safetensors"])
    assert os.stat(blob).st_ino == os.stat(src / "model.safetensors").st_ino
    assert doc["bytes"]["hardlinked"] == sum(map(len, files.values()))
    assert global_snapshot(project.global_cache, "acme/hl", it["revisions"][0]) == files


def test_gitattributes_decides_lfs_offline(project, tmp_path):
    files = tiny_model_files("bert", seed=5)
    files[".gitattributes"] = b"*.txt filter=lfs diff=lfs merge=lfs -text\n"  # vocab.txt LFS, safetensors not
    src = build_plain_folder(tmp_path / "acme" / "ga", files)
    doc = migrate(project, str(src))
    assert doc["rc"] == 0, doc
    links = snapshot_links(project.global_cache, "acme/ga", item_of(doc, "acme/ga")["revisions"][0])
    assert links["vocab.txt"].endswith(sha256_hex(files["vocab.txt"]))
    assert links["model.safetensors"].endswith(git_blob_sha1(files["model.safetensors"]))


def test_dry_run_changes_nothing_and_says_what_and_why(project, tmp_path):
    files = tiny_model_files("st", seed=6)
    root = tmp_path / "torch" / "sentence_transformers"
    src = build_st_legacy(root, ST_ID, files)
    before = tree_digests(tmp_path)
    proc = project.linker("migrate", str(root), "--offline", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Would migrate 1 repo(s)" in proc.stdout and "local: offline" in proc.stdout
    assert ST_ID in proc.stdout and "rename" in proc.stdout and str(src) in proc.stdout
    assert tree_digests(tmp_path) == before
    assert not any(project.global_cache.iterdir())


# ---------------------------------------------------------------------------------------------------------------
# sentence-transformers < 2.3


def test_st_legacy_root_unambiguous_and_incomplete(project, tmp_path):
    root = tmp_path / "torch" / "sentence_transformers"
    files = tiny_model_files("st", seed=7)
    build_st_legacy(root, ST_ID, files)
    partial = {k: v for k, v in files.items() if k != "modules.json"}
    inc = build_st_legacy(root, "sentence-transformers/paraphrase-tiny", partial)
    before_inc = tree_digests(inc)
    doc = migrate(project, str(root))
    assert doc["rc"] == 1  # the incomplete one is a problem
    it = item_of(doc, ST_ID)
    assert it["kind"] == "st-legacy" and it["local"]
    [problem] = doc["problems"]
    assert problem["kind"] == "incomplete" and "modules.json" in problem["detail"]
    assert tree_digests(inc) == before_inc  # not imported
    assert not (project.global_cache / "models--sentence-transformers--paraphrase-tiny").exists()
    lock_items(project, doc)
    sync_and_load(project, ST_ID, files, paths=["modules.json", "1_Pooling/config.json", "model.safetensors"])


def test_st_legacy_ambiguous_id_offline_requires_id(project, tmp_path):
    root = tmp_path / "sentence_transformers"
    files = tiny_model_files("st", seed=8)
    folder = build_st_legacy(root, "my_org/my_model", files)  # folder my_org_my_model: 3 possible splits
    doc = migrate(project, str(folder))
    assert doc["rc"] == 1 and not doc["items"]
    [problem] = doc["problems"]
    assert problem["kind"] == "ambiguous-id"
    for cand in ("my/org_my_model", "my_org/my_model", "my_org_my/model"):
        assert cand in problem["detail"]
    assert "--id" in problem["fix"]
    assert tree_digests(folder)  # untouched
    doc = migrate(project, str(folder), "--id", "my_org/my_model")
    assert doc["rc"] == 0, doc
    assert item_of(doc, "my_org/my_model")["kind"] == "st-legacy"


def test_st_home_env_and_folder_given_directly(project, tmp_path):
    home = tmp_path / "st-home"
    files = tiny_model_files("st", seed=9)
    folder = build_st_legacy(home, "BAAI/bge-tiny", files)
    doc = migrate(project, str(home), env={"SENTENCE_TRANSFORMERS_HOME": str(home)})
    assert doc["rc"] == 0, doc
    assert item_of(doc, "BAAI/bge-tiny")["kind"] == "st-legacy"
    assert not folder.exists()
    # one folder given directly, recognised by its name and contents (a Hub download has .gitattributes)
    folder2 = build_st_legacy(tmp_path / "elsewhere", ST_ID, files)
    doc = migrate(project, str(folder2))
    assert item_of(doc, ST_ID)["kind"] == "st-legacy"
    folder3 = build_st_legacy(tmp_path / "copied-from-a-server", "BAAI/bge-small", files)
    doc = migrate(project, str(folder3))
    assert item_of(doc, "BAAI/bge-small")["kind"] == "st-legacy"
    saved = build_plain_folder(
        tmp_path / "acme" / "my_model", {k: v for k, v in files.items() if k != ".gitattributes"}
    )
    doc = migrate(project, str(saved))  # a save() output: a plain folder, id from its path
    assert item_of(doc, "acme/my_model")["kind"] == "folder"


# ---------------------------------------------------------------------------------------------------------------
# hf download --local-dir


def test_local_dir_exact_revision_from_metadata(project, tmp_path):
    files = tiny_model_files("st", seed=10)
    commit = fake_commit("local-dir", 1)
    info = build_local_dir(tmp_path / "dl" / "acme" / "st-model", files, commit)
    doc = migrate(project, str(info.local_dir))
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/st-model")
    assert it["revisions"] == [commit] and not it["local"] and it["reason"] == "local-dir metadata"
    assert {b["etag"] for b in it["blobs"]} == {f.etag for f in info.files.values()}
    repo = project.global_cache / "models--acme--st-model"
    assert (repo / "trees" / f"{commit}.json").is_file()  # complete snapshot: the tree listing is kept
    assert not (repo / "refs" / "main").exists()  # the metadata does not say which branch
    assert not any(p.is_file() for p in info.local_dir.rglob("*"))  # its bookkeeping went with it
    lock_items(project, doc)
    sync_and_load(project, "acme/st-model", files, paths=["modules.json", "model.safetensors"])


def test_local_dir_mtime_rule(project, tmp_path):
    files = tiny_model_files("bert", seed=11)
    commit = fake_commit("local-dir", 2)
    info = build_local_dir(tmp_path / "acme" / "edited", files, commit, timestamp=time.time() - 100)
    cfg = info.local_dir / "config.json"
    cfg.write_bytes(cfg.read_bytes().replace(b'"hidden_size": 8', b'"hidden_size": 9'))
    doc = migrate(project, str(info.local_dir))
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/edited")
    assert it["local"] and it["revisions"] != [commit]
    assert any("mtime rule" in n for n in it["notes"])
    edited = dict(files, **{"config.json": cfg.read_bytes() if cfg.exists() else b""})
    got = global_snapshot(project.global_cache, "acme/edited", it["revisions"][0])
    assert got["config.json"] != files["config.json"] and got["model.safetensors"] == files["model.safetensors"]
    assert set(got) == set(edited)


# ---------------------------------------------------------------------------------------------------------------
# an HF cache in the wrong place


def test_project_cache_of_real_folders_merges_and_becomes_a_view(project):
    c1, c2 = fake_commit("hf", 1), fake_commit("hf", 2)
    v1, v2 = tiny_model_files("bert", seed=12), tiny_model_files("bert", seed=13)
    old_place = project.view  # the project's own models_cache/ holding real data
    build_repo(old_place, "acme/merged", {c1: v1, c2: v2}, refs={"main": c1})
    # the global cache already has the repo, with main further ahead, and a stale "not in c1" marker
    build_repo(project.global_cache, "acme/merged", {c2: v2}, refs={"main": c2})
    marker = add_no_exist(project.global_cache / "models--acme--merged", c1, "config.json")
    before = reachable_contents(old_place / "models--acme--merged" / "blobs")
    doc = migrate(project, str(old_place))
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/merged")
    assert it["kind"] == "hf-cache" and sorted(it["revisions"]) == sorted([c1, c2])
    assert any("not moving a branch backwards" in n for n in it["notes"])
    g = project.global_cache / "models--acme--merged"
    assert (g / "refs" / "main").read_text() == c2
    assert global_snapshot(project.global_cache, "acme/merged", c1) == v1
    # every blob is deduplicated by name: v2's blobs were already there
    assert doc["bytes"]["deduplicated"] > 0
    assert before <= reachable_contents(project.global_cache)
    # the old place is now a view: blobs are links to the global blobs, snapshots still resolve
    for blob in (old_place / "models--acme--merged" / "blobs").iterdir():
        assert blob.is_symlink() and Path(os.readlink(blob)).is_relative_to(project.global_cache)
    assert not marker.exists()  # it would shadow the config.json c1 now has
    project.write_lock([{"id": "acme/merged", "revision": c1}])
    sync_and_load(project, "acme/merged", v1, paths=["config.json", "model.safetensors"])
    assert not scan(project.view)["warnings"]


def test_cache_without_symlinks_and_shared_store(project, tmp_path):
    c = fake_commit("nosym", 1)
    files = tiny_model_files("st", seed=14)
    other = tmp_path / "app-home" / "hub"
    build_repo(other, "acme/nosym", {c: files}, symlinks=False)
    cs = fake_commit("store", 1)
    sfiles = tiny_model_files("bert", seed=15)
    build_repo(other, "acme/stored", {cs: sfiles}, shared_store=True)
    doc = migrate(project, str(tmp_path / "app-home"))  # an app's private HF_HOME
    assert doc["rc"] == 0, doc
    assert global_snapshot(project.global_cache, "acme/nosym", c) == files
    assert global_snapshot(project.global_cache, "acme/stored", cs) == sfiles
    links = snapshot_links(project.global_cache, "acme/nosym", c)
    assert links["1_Pooling/config.json"] == "../../../blobs/" + git_blob_sha1(files["1_Pooling/config.json"])
    # the store payloads are never moved (other repos may share them); the old place still loads
    assert load_file(other, "acme/stored", "model.safetensors", revision=cs) == sfiles["model.safetensors"]
    assert load_file(other, "acme/nosym", "modules.json", revision=c) == files["modules.json"]


def test_hub_013_absolute_and_cwd_relative_links_rewritten_in_place(project, tmp_path):
    c = fake_commit("h013", 1)
    files = tiny_model_files("bert", seed=16)
    info = build_repo(project.global_cache, "acme/old-links", {c: files})
    make_absolute_links(info.repo_folder, c)
    c2 = fake_commit("h013", 2)
    files2 = tiny_model_files("bert", seed=17)
    info2 = build_repo(project.global_cache, "acme/cwd-links", {c2: files2})
    make_cwd_relative_links(info2.repo_folder, c2, cwd=tmp_path)
    doc = migrate(project, str(project.global_cache))
    assert doc["rc"] == 0, doc
    for repo_id, rev, data in (("acme/old-links", c, files), ("acme/cwd-links", c2, files2)):
        links = snapshot_links(project.global_cache, repo_id, rev)
        assert all(t.startswith("../../blobs/") for t in links.values()), links
        assert global_snapshot(project.global_cache, repo_id, rev) == data
    assert not scan(project.global_cache)["warnings"]


# ---------------------------------------------------------------------------------------------------------------
# transformers < 4.22


def test_transformers_legacy_flat_cache(project, tmp_path):
    flat = tmp_path / "hf" / "transformers"
    commit = fake_commit("tl", 1)
    files = tiny_model_files("bert", seed=18)
    by_sha = build_transformers_legacy(flat, "acme/flat", commit, files)
    main_files = tiny_model_files("bert", seed=19)
    build_transformers_legacy(flat, "acme/flat-main", "main", main_files)
    doc = migrate(project, str(flat))
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/flat")
    assert it["revisions"] == [commit] and it["reason"] == "transformers url names the commit"
    assert {b["etag"] for b in it["blobs"]} == {e.etag for e in by_sha.values()}
    it2 = item_of(doc, "acme/flat-main")
    assert it2["local"]  # offline, "main" names no commit
    assert not (project.global_cache / "models--acme--flat-main" / "refs" / "main").exists()
    assert not any(flat.iterdir())  # files, sidecars and locks all gone: nothing half-described is left
    lock_items(project, doc)
    sync_and_load(project, "acme/flat", files, paths=["config.json", "model.safetensors"])


def test_rerun_is_a_noop_and_second_copy_dedupes(project, tmp_path):
    files = tiny_model_files("bert", seed=20)
    build_plain_folder(tmp_path / "a" / "acme" / "dup", files)
    build_plain_folder(tmp_path / "b" / "acme" / "dup", files)
    d1 = migrate(project, str(tmp_path / "a" / "acme" / "dup"))
    d2 = migrate(project, str(tmp_path / "b" / "acme" / "dup"))
    assert d1["rc"] == d2["rc"] == 0
    assert d1["items"][0]["revisions"] == d2["items"][0]["revisions"]  # deterministic local revision
    assert d2["bytes"]["renamed"] == 0 and d2["bytes"]["deduplicated"] == sum(map(len, files.values()))
    assert not (tmp_path / "b" / "acme" / "dup").exists()


def test_kind_forces_an_incomplete_st_folder_in_as_a_plain_folder_and_no_src_resumes_only(project, tmp_path):
    files = {k: v for k, v in tiny_model_files("bert", seed=21).items()}
    folder = build_st_legacy(tmp_path / "sentence_transformers", "acme/bert-plain", files)  # no modules.json
    doc = migrate(project, str(folder))
    assert doc["rc"] == 1 and doc["problems"][0]["kind"] == "incomplete"
    doc = migrate(project, str(folder), "--kind", "folder", "--id", "acme/bert-plain")
    assert doc["rc"] == 0 and item_of(doc, "acme/bert-plain")["kind"] == "folder"
    proc = project.linker("migrate", "--offline")
    assert proc.returncode == 0 and "Nothing to migrate." in proc.stdout


def test_transformers_cache_with_non_hub_urls_leaves_them_in_place(project, tmp_path):
    flat = tmp_path / "transformers"
    entries = build_transformers_legacy(flat, "acme/flat", "main", {"config.json": b"{}"})
    e = entries["config.json"]
    e.sidecar.write_text('{"url": "https://s3.amazonaws.com/models.huggingface.co/bert/x/config.json", "etag": "1"}')
    doc = migrate(project, str(flat))
    assert doc["rc"] == 0 and doc["items"] == []
    assert any("left in place" in n for n in doc["notices"])
    assert e.file.read_bytes() == b"{}"
    proc = project.linker("migrate", str(flat), "--offline")
    assert "pre-v4 S3/CDN download" in proc.stderr and "left in place" in proc.stderr
