"""`linker migrate` online, against the local Hub server: the Hub says which revision a folder is (or that none
is), which repo id an ambiguous sentence-transformers folder name means, and which files are LFS. Migrated
snapshots whose revision was found pass the real `hf cache verify`."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from testing.cachefactory import (
    build_local_dir,
    build_plain_folder,
    build_st_legacy,
    build_transformers_legacy,
    git_blob_sha1,
    sha256_hex,
    tiny_model_files,
)
from testing.hfprobe import hf_cli
from testing.migrate_support import global_snapshot, item_of, migrate, snapshot_links, sync_and_load

REPO = "acme/st-model"


def _push_two_commits(hub_store, repo_id=REPO, kind="st"):
    v1 = tiny_model_files(kind, seed=1)
    v2 = dict(v1, **{"model.safetensors": tiny_model_files(kind, seed=2)["model.safetensors"]})
    hub_store.create_repo(repo_id)
    c1 = hub_store.commit(repo_id, v1, message="first")
    c2 = hub_store.commit(repo_id, v2, message="second")
    return v1, c1, v2, c2


def _verify(project, hub_env, repo_id, revision):
    env = {k: v for k, v in hub_env.items() if k.startswith(("HF_", "NO_PROXY", "no_proxy"))}
    return hf_cli(
        ["cache", "verify", repo_id, "--revision", revision, "--cache-dir", str(project.global_cache)],
        env=env,
        offline=False,
    )


def test_revision_found_on_the_hub_then_verify_and_lock(project, tmp_path, hub_store, hub_env):
    v1, c1, v2, c2 = _push_two_commits(hub_store)
    old = build_st_legacy(tmp_path / "torch" / "sentence_transformers", REPO, v1)  # folder acme_st-model
    new = build_plain_folder(tmp_path / "models" / "acme" / "st-model", v2)
    project.write_lock([])
    doc = migrate(project, str(old), "--lock", env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    it = item_of(doc, REPO)
    assert it["revisions"] == [c1] and not it["local"]
    assert it["reason"].startswith("matched a Hub commit")
    assert it["id_reason"] == "from the sentence-transformers folder name"  # acme_st-model: one split only
    g = project.global_cache / "models--acme--st-model"
    assert not (g / "refs" / "main").exists()  # c1 is not the head of any branch: no ref
    # the Hub's tree says which files are LFS (here the defaults): blob names are the Hub's etags
    assert snapshot_links(project.global_cache, REPO, c1)["model.safetensors"].endswith(
        sha256_hex(v1["model.safetensors"])
    )
    assert snapshot_links(project.global_cache, REPO, c1)["modules.json"].endswith(git_blob_sha1(v1["modules.json"]))
    lock = yaml.safe_load(project.lock_path.read_text())
    [entry] = lock["models"]
    assert entry["id"] == REPO and entry["revision"] == c1 and "local" not in entry
    # the whole commit was migrated, so the lock lists its files as `linker lock` would: `lock --check` agrees
    assert set(entry["files"]) == set(v1)
    assert entry["files"]["model.safetensors"] == {
        "size": len(v1["model.safetensors"]),
        "hash": sha256_hex(v1["model.safetensors"]),
    }
    check = project.linker("lock", "--check", env=hub_env)
    assert check.returncode == 0, check.stdout + check.stderr
    # the second folder is main's head: migrate writes refs/main, because the Hub says so
    doc = migrate(project, str(new), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    assert item_of(doc, REPO)["revisions"] == [c2]
    assert (g / "refs" / "main").read_text() == c2
    # the real `hf cache verify` against the local Hub passes for both migrated snapshots
    for rev in (c1, c2):
        proc = _verify(project, hub_env, REPO, rev)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    sync_and_load(project, REPO, v1, paths=["modules.json", "model.safetensors"])


def test_revision_not_found_reports_closest_commits_and_does_not_guess(project, tmp_path, hub_store, hub_env):
    v1, c1, _v2, _c2 = _push_two_commits(hub_store)
    edited = dict(v1, **{"config.json": v1["config.json"].replace(b'"hidden_size": 8', b'"hidden_size": 9')})
    src = build_plain_folder(tmp_path / "models" / "acme" / "st-model", edited)
    doc = migrate(project, str(src), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    it = item_of(doc, REPO)
    assert it["local"] and it["revisions"][0] not in (c1, _c2)
    assert it["reason"] == "local: no Hub commit holds these files"
    closest = [n for n in it["notes"] if n.startswith("closest Hub commit")]
    assert closest and c1[:12] in closest[0] and "config.json" in closest[0]
    assert not (project.global_cache / "models--acme--st-model" / "refs" / "main").exists()
    assert global_snapshot(project.global_cache, REPO, it["revisions"][0]) == edited


def test_ambiguous_st_name_the_hub_decides(project, tmp_path, hub_store, hub_env):
    files = tiny_model_files("st", seed=5)
    hub_store.create_repo("my_org/tiny_model")
    hub_store.commit("my_org/tiny_model", files)
    root = tmp_path / "sentence_transformers"
    folder = build_st_legacy(root, "my_org/tiny_model", files)  # my_org_tiny_model: three possible splits
    doc = migrate(project, str(folder), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    it = item_of(doc, "my_org/tiny_model")
    assert "the Hub has my_org/tiny_model" in it["id_reason"] and not it["local"]
    # two splits on the Hub: the one whose commits hold these files wins
    hub_store.create_repo("my_org_tiny/model")
    hub_store.commit("my_org_tiny/model", tiny_model_files("st", seed=6))
    folder = build_st_legacy(tmp_path / "second" / "sentence_transformers", "my_org/tiny_model", files)
    doc = migrate(project, str(folder), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    assert item_of(doc, "my_org/tiny_model")["id_reason"].startswith("the only one of")
    # none of the splits on the Hub: like offline, --id is required and the candidates are listed
    other = build_st_legacy(root, "nobody_has/this_one", files)
    doc = migrate(project, str(other), env=hub_env, offline=False)
    assert doc["rc"] == 1 and doc["problems"][0]["kind"] == "ambiguous-id"
    assert "nobody_has/this_one" in doc["problems"][0]["detail"]


def test_repo_not_on_the_hub_gets_a_local_revision(project, tmp_path, hub_store, hub_env):
    files = tiny_model_files("bert", seed=6)
    src = build_plain_folder(tmp_path / "acme" / "private-finetune", files)
    doc = migrate(project, str(src), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/private-finetune")
    assert it["local"] and it["reason"] == "local: acme/private-finetune is not on the Hub"


def test_transformers_url_naming_main_gets_the_matched_commit_and_ref(project, tmp_path, hub_store, hub_env):
    _v1, _c1, v2, c2 = _push_two_commits(hub_store, "acme/flat", kind="bert")
    build_transformers_legacy(tmp_path / "transformers", "acme/flat", "main", v2)
    doc = migrate(project, str(tmp_path / "transformers"), env=hub_env, offline=False)
    assert doc["rc"] == 0, doc
    it = item_of(doc, "acme/flat")
    assert it["revisions"] == [c2]
    assert (project.global_cache / "models--acme--flat" / "refs" / "main").read_text() == c2


def test_wrong_revision_flag_is_refused_online(project, tmp_path, hub_store, hub_env):
    v1, c1, _v2, c2 = _push_two_commits(hub_store)
    src = build_plain_folder(tmp_path / "acme" / "st-model", v1)
    doc = migrate(project, str(src), "--revision", c2, env=hub_env, offline=False)
    assert doc["rc"] == 1 and doc["problems"][0]["kind"] == "revision-mismatch"
    assert "model.safetensors" in doc["problems"][0]["detail"]
    assert (src / "model.safetensors").is_file()  # nothing moved
    doc = migrate(project, str(src), "--revision", c1, env=hub_env, offline=False)
    assert doc["rc"] == 0 and item_of(doc, REPO)["reason"] == "--revision"


def test_concurrent_hf_download_of_the_same_repo(project, tmp_path, hub_store, hub, hub_env):
    """A real `hf download` of the same commit into the same global cache while migrate moves a local-dir: both
    take huggingface_hub's blob locks; afterwards every blob verifies and both copies of the bytes agree."""
    files = tiny_model_files("bert", seed=7, big=3 * 1024 * 1024)
    hub_store.create_repo("acme/race")
    commit = hub_store.commit("acme/race", files)
    hub.latency = 0.02
    info = build_local_dir(tmp_path / "acme" / "race", files, commit)
    env = {k: v for k, v in hub_env.items() if k.startswith(("HF_", "NO_PROXY", "no_proxy"))}
    hf = os.path.join(os.path.dirname(sys.executable), "hf")
    download = subprocess.Popen(
        [hf, "download", "acme/race", "--revision", commit, "--cache-dir", str(project.global_cache)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    doc = migrate(project, str(info.local_dir), env=hub_env, offline=False)
    _out, err = download.communicate(timeout=120)
    assert download.returncode == 0, err
    assert doc["rc"] == 0, doc
    assert global_snapshot(project.global_cache, "acme/race", commit) == files
    proc = _verify(project, hub_env, "acme/race", commit)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    leftovers = [p.name for p in (project.global_cache / "models--acme--race" / "blobs").iterdir() if "." in p.name]
    assert not leftovers


def test_hf_hub_offline_makes_no_request_and_lock_marks_local(project, tmp_path, hub_store, hub, hub_env):
    v1, c1, _v2, _c2 = _push_two_commits(hub_store)
    src = build_plain_folder(tmp_path / "acme" / "st-model", v1)
    project.write_lock([{"id": "other/model", "revision": c1}])
    hub.clear_log()
    doc = migrate(project, str(src), "--lock", env={**hub_env, "HF_HUB_OFFLINE": "1"}, offline=False)
    assert doc["rc"] == 0, doc
    assert hub.requests == []
    it = item_of(doc, REPO)
    assert it["local"] and it["reason"] == "local: offline"
    lock = yaml.safe_load(project.lock_path.read_text())
    assert lock["models"][0] == {"id": "other/model", "revision": c1}
    local = lock["models"][1]
    assert (local["id"], local["revision"], local["local"]) == (REPO, it["revisions"][0], True)
    assert local["files"]["modules.json"] == {
        "size": len(v1["modules.json"]),
        "hash": git_blob_sha1(v1["modules.json"]),
    }


def test_unreachable_hub_exits_3_and_touches_nothing(project, tmp_path, hub_env):
    from testing.hubhelpers import closed_endpoint, nosleep_env

    files = tiny_model_files("bert", seed=8)
    src = build_plain_folder(tmp_path / "acme" / "offline-please", files)
    env = nosleep_env(tmp_path, {**hub_env, "HF_ENDPOINT": closed_endpoint()})
    proc = project.linker("migrate", str(src), env=env, timeout=60)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "--offline" in proc.stderr and "Traceback" not in proc.stderr
    assert (src / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert not any(project.global_cache.glob("models--*"))
