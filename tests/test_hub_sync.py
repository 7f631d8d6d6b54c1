"""`linker sync` downloads pinned revisions from the local Hub, then links them; judged by the real
huggingface_hub loading offline from the view, and by the server's request log."""

from __future__ import annotations

import json
import os

import pytest

from testing.hfprobe import load_file, scan, snapshot_files
from testing.hubhelpers import TOKEN, assert_no_secret, closed_endpoint, entry, nosleep_env, push, sleeps

REPO = "acme/tiny"


def blob_names(cache, repo_id: str, repo_type: str = "model") -> set[str]:
    folder = cache / f"{repo_type}s--{repo_id.replace('/', '--')}" / "blobs"
    return set(os.listdir(folder)) if folder.is_dir() else set()


def test_sync_downloads_links_and_loads_offline(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO, kind="st")
    hub_store.tag(REPO, "v1", sha)
    push(hub_store, REPO, files={"config.json": b'{"moved": "on"}'})  # main moves past the pin
    project.write_lock([entry(hub_store, REPO, sha, ref="v1")])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    files = hub_store.files_at(REPO, sha)
    # the global cache holds the blobs under the Hub's etags (sha256 for LFS, git sha1 otherwise)
    assert blob_names(project.global_cache, REPO) == {f.etag for f in files.values()}
    assert blob_names(project.view, REPO) == {f.etag for f in files.values()}
    # the real huggingface_hub, offline, with the view as its cache: the pinned bytes by sha, by ref, and by default
    for revision in (sha, "v1"):
        for path in ("config.json", "model.safetensors", "1_Pooling/config.json"):
            assert load_file(project.view, REPO, path, revision=revision) == files[path].read_bytes()
    got = snapshot_files(project.view, REPO, revision="v1")
    assert isinstance(got, dict) and set(got) == set(files)
    assert scan(project.view)["warnings"] == []
    # downloads went through the LFS "CDN" without the Authorization header, as with the real Hub
    assert any(r["origin"] == "cdn" for r in hub.requests)


def test_sync_include_exclude_fetch_only_those(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha, files=False, include=["*.json"], exclude=["special*"])])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    files = hub_store.files_at(REPO, sha)
    want = {"config.json", "tokenizer_config.json"}
    assert blob_names(project.global_cache, REPO) == {files[p].etag for p in want}
    assert {r["path"].rsplit("/", 1)[-1] for r in hub.requests if "/resolve/" in r["path"]} == want


def test_warm_sync_makes_zero_requests(project, hub_store, hub, hub_env, tmp_path):
    a, b = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=5)
    project.write_lock([entry(hub_store, "acme/a", a), entry(hub_store, "acme/b", b, files=False)])
    assert project.linker("sync", env=hub_env).returncode == 0
    hub.clear_log()
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0 and "Already in sync" in r.stdout
    # a second project on the same (now warm) global cache: links, and asks the Hub nothing either
    other = tmp_path / "other"
    other.mkdir()
    (other / "project_cache.yaml").write_text(project.lock_path.read_text())
    r = project.linker("sync", env=hub_env, cwd=other)
    assert r.returncode == 0, r.stderr
    assert (
        load_file(other / "models_cache", "acme/b", "config.json")
        == hub_store.files_at("acme/b", b)["config.json"].read_bytes()
    )
    assert hub.requests == []


@pytest.mark.parametrize("how", ["--offline", "HF_HUB_OFFLINE", "unreachable"])
def test_missing_while_offline_lists_the_fetch_command(project, hub_store, hub, hub_env, tmp_path, how):
    a, b = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=6)
    project.write_lock([entry(hub_store, "acme/a", a), entry(hub_store, "acme/b", b, include=["*.json"])])
    # acme/a is already in the global cache; acme/b is not
    project.write_lock([entry(hub_store, "acme/a", a)])
    assert project.linker("sync", env=hub_env).returncode == 0
    project.write_lock([entry(hub_store, "acme/a", a), entry(hub_store, "acme/b", b, files=False, include=["*.json"])])
    hub.clear_log()
    args, env = ["sync"], dict(hub_env)
    if how == "--offline":
        args.append("--offline")
    elif how == "HF_HUB_OFFLINE":
        env["HF_HUB_OFFLINE"] = "1"
    else:
        env = nosleep_env(tmp_path, {**hub_env, "HF_ENDPOINT": closed_endpoint()})
    r = project.linker(*args, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"hf download acme/b --revision {b} --include '*.json'" in r.stdout
    if how == "unreachable":
        assert "cannot reach" in r.stderr
        assert sleeps(tmp_path) == []  # failed fast, without the client's retry backoff
    assert hub.requests == []
    # everything else was linked
    assert (
        load_file(project.view, "acme/a", "config.json", revision=a)
        == hub_store.files_at("acme/a", a)["config.json"].read_bytes()
    )
    status = json.loads(project.linker("status", "--json").stdout)
    assert {e["repo"]: e["state"] for e in status["entries"]} == {"acme/a": "linked", "acme/b": "missing"}


def test_refused_entry_exits_3_after_linking_the_rest(project, hub_store, hub, hub_env):
    a = push(hub_store, "acme/a")
    g = push(hub_store, "acme/gated", seed=8, gated=True)
    hub_store.add_token(TOKEN, ["acme/gated"])
    project.write_lock([entry(hub_store, "acme/gated", g), entry(hub_store, "acme/a", a)])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "acme/gated" in r.stderr and "gated repo" in r.stderr and "no access" in r.stderr
    assert load_file(project.view, "acme/a", "vocab.txt") == hub_store.files_at("acme/a", a)["vocab.txt"].read_bytes()
    r = project.linker("-v", "sync", env={**hub_env, "HF_TOKEN": TOKEN})
    assert r.returncode == 0, r.stdout + r.stderr
    assert_no_secret(r.stdout, r.stderr)
    assert (
        load_file(project.view, "acme/gated", "config.json")
        == hub_store.files_at("acme/gated", g)["config.json"].read_bytes()
    )


def test_pin_unknown_to_the_hub_is_missing_exit_1(project, hub_store, hub, hub_env):
    push(hub_store, REPO)
    project.write_lock([{"id": REPO, "revision": "3" * 40}, {"id": "acme/gone", "revision": "4" * 40}])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "revision not found" in r.stderr and "repository not found" in r.stderr
    assert f"hf download {REPO} --revision {'3' * 40}" in r.stdout


@pytest.mark.parametrize("status", [500, 429])
def test_failing_hub_exits_3_in_bounded_time(project, hub_store, hub, hub_env, tmp_path, status):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha)])
    hub.fail_with(status)
    r = project.linker("sync", env=nosleep_env(tmp_path, hub_env), timeout=30)
    assert r.returncode == 3, r.stdout + r.stderr
    assert ("rate limited" if status == 429 else f"HTTP {status}") in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 4  # fetching, the retry count, the problem count, the error


def test_downloaded_blob_not_matching_the_lock_is_reported(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    bad_size = entry(hub_store, REPO, sha)
    bad_size["files"]["config.json"]["size"] += 1
    project.write_lock([bad_size])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "config.json" in r.stdout and "bytes, the lock says" in r.stdout
    assert not (project.view / "models--acme--tiny" / "snapshots" / sha / "config.json").exists()
    bad_hash = entry(hub_store, REPO, sha)
    bad_hash["files"]["vocab.txt"]["hash"] = "5" * 40
    project.write_lock([bad_hash])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1 and "vocab.txt" in r.stdout and "lock says 555555555555" in r.stdout


def test_partial_global_snapshot_fetches_only_the_rest(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha, files=False, include=["*.json"])])
    assert project.linker("sync", env=hub_env).returncode == 0
    project.write_lock([entry(hub_store, REPO, sha)])
    hub.clear_log()
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    fetched = {r["path"].rsplit("/", 1)[-1] for r in hub.requests if "/resolve/" in r["path"]}
    assert fetched == {"model.safetensors", "vocab.txt", "README.md", ".gitattributes"}
    got = snapshot_files(project.view, REPO, revision=sha)
    assert isinstance(got, dict) and set(got) == set(hub_store.files_at(REPO, sha))
