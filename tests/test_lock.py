"""`linker lock` against the local Hub: files maps, `--check`, upgrades, layout kept, and a failing Hub.

Every command runs as a subprocess with HF_ENDPOINT pointing at the local Hub (huggingface_hub reads it at
import). The lock a command writes is judged by loading it with linker's own strict validator and by comparing
it with what the Hub store holds.
"""

from __future__ import annotations

import json

import pytest

from testing.hubhelpers import as_files, closed_endpoint, entry, lock_entries, locked_files, nosleep_env, push, sleeps

REPO = "acme/tiny"


def test_lock_writes_missing_files_and_check_tracks_it(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha, files=False)])
    r = project.linker("lock", "--check", env=hub_env)
    assert r.returncode == 1 and "out of date" in r.stdout, r.stdout + r.stderr
    assert lock_entries(project)[REPO].files is None  # --check changes nothing
    r = project.linker("lock", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert lock_entries(project)[REPO].files == as_files(locked_files(hub_store, REPO, sha))
    r = project.linker("lock", "--check", env=hub_env)
    assert r.returncode == 0 and "up to date" in r.stdout


def test_lock_check_fails_on_stale_files(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    e = entry(hub_store, REPO, sha)
    e["files"]["config.json"]["hash"] = "0" * 40
    del e["files"]["vocab.txt"]
    project.write_lock([e])
    r = project.linker("lock", "--check", "--json", env=hub_env)
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["written"] is False
    assert doc["changes"][0]["added"] == 1 and doc["changes"][0]["changed"] == 1
    assert project.linker("lock", env=hub_env).returncode == 0
    assert lock_entries(project)[REPO].files == as_files(locked_files(hub_store, REPO, sha))


def test_upgrade_after_a_push(project, hub_store, hub, hub_env):
    a1, b1 = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=3)
    project.write_lock([entry(hub_store, "acme/a", a1), entry(hub_store, "acme/b", b1)])
    assert project.linker("lock", "--upgrade", "--check", env=hub_env).returncode == 0
    a2 = push(hub_store, "acme/a", files={"config.json": b'{"new": true}'})
    b2 = push(hub_store, "acme/b", files={"extra.txt": b"x"})
    # plain --check only looks at files of the current pins: still fine
    assert project.linker("lock", "--check", env=hub_env).returncode == 0
    r = project.linker("lock", "--upgrade", "--check", env=hub_env)
    assert r.returncode == 1 and f"{a1[:7]} -> {a2[:7]}" in r.stdout
    assert lock_entries(project)["acme/a"].revision == a1
    # --upgrade ID moves only that pin
    r = project.linker("lock", "--upgrade", "acme/b", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert f"acme/b: {b1[:7]} -> {b2[:7]} (main)" in r.stdout
    entries = lock_entries(project)
    assert entries["acme/b"].revision == b2 and entries["acme/a"].revision == a1
    assert entries["acme/b"].files == as_files(locked_files(hub_store, "acme/b", b2))
    r = project.linker("lock", "--upgrade", env=hub_env)
    assert r.returncode == 0 and f"acme/a: {a1[:7]} -> {a2[:7]}" in r.stdout
    assert lock_entries(project)["acme/a"].files["config.json"].size == len(b'{"new": true}')
    assert project.linker("lock", "--upgrade", "--check", env=hub_env).returncode == 0


def test_upgrade_follows_the_entry_ref(project, hub_store, hub, hub_env):
    v1 = push(hub_store, REPO)
    hub_store.tag(REPO, "stable", v1)
    push(hub_store, REPO, files={"extra.txt": b"main moved"})
    project.write_lock([entry(hub_store, REPO, v1, ref="stable")])
    assert project.linker("lock", "--upgrade", "--check", env=hub_env).returncode == 0
    v2 = push(hub_store, REPO, files={"extra.txt": b"again"})
    hub_store.tag(REPO, "stable", v2)
    r = project.linker("lock", "--upgrade", env=hub_env)
    assert r.returncode == 0 and "(stable)" in r.stdout
    assert lock_entries(project)[REPO].revision == v2


def test_lock_preserves_order_comments_and_unknown_layout(project, hub_store, hub, hub_env):
    a1, b1 = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=4)
    text = (
        "# Our models. Keep sorted by importance, not by name!\n"
        "version: 1\n"
        "cache_dir: models_cache   # checked in .gitignore\n"
        "\n"
        "models:\n"
        "  # the reranker first\n"
        f"  - revision: '{b1}'   # pinned 2026-01\n"
        "    id: acme/b\n"
        "    include: ['*.json', model.safetensors]\n"
        "\n"
        "  # then the embedder\n"
        "  - id: acme/a\n"
        f"    revision: {a1}\n"
        "    # files are written by linker lock\n"
    )
    project.lock_path.write_text(text)
    a2 = push(hub_store, "acme/a", files={"config.json": b"{}"})
    assert project.linker("lock", "--upgrade", env=hub_env).returncode == 0
    new = project.lock_path.read_text()
    b_files = "".join(
        f"      {p}: {{size: {v['size']}, hash: {v['hash']}}}\n"
        for p, v in sorted(locked_files(hub_store, "acme/b", b1).items())
        if p.endswith(".json") or p == "model.safetensors"
    )
    a_files = "".join(
        f"      {p}: {{size: {v['size']}, hash: {v['hash']}}}\n"
        for p, v in sorted(locked_files(hub_store, "acme/a", a2).items())
    )
    assert new == (
        "# Our models. Keep sorted by importance, not by name!\n"
        "version: 1\n"
        "cache_dir: models_cache   # checked in .gitignore\n"
        "\n"
        "models:\n"
        "  # the reranker first\n"
        f"  - revision: '{b1}'   # pinned 2026-01\n"
        "    id: acme/b\n"
        "    include: ['*.json', model.safetensors]\n"
        f"    files:\n{b_files}"
        "\n"
        "  # then the embedder\n"
        "  - id: acme/a\n"
        f"    revision: {a2}\n"
        f"    files:\n{a_files}"
        "    # files are written by linker lock\n"
    )


def test_lock_error_writes_nothing(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    push(hub_store, "acme/other")
    project.write_lock([entry(hub_store, REPO, sha, files=False), {"id": "acme/other", "revision": "1" * 40}])
    before = project.lock_path.read_text()
    r = project.linker("lock", env=hub_env)
    assert r.returncode == 1
    assert "revision not found" in r.stdout and "was not changed" in r.stderr
    assert project.lock_path.read_text() == before


def test_lock_skips_local_entries_and_unknown_id_is_usage_error(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha), {"id": "acme/migrated", "revision": "2" * 40, "local": True}])
    r = project.linker("lock", "--check", env=hub_env)
    assert r.returncode == 0 and "acme/migrated: skipped" in r.stderr, r.stderr
    r = project.linker("lock", "acme/nope", env=hub_env)
    assert r.returncode == 2 and "not in" in r.stderr


@pytest.mark.parametrize("status", [500, 429])
def test_lock_against_a_failing_hub_exits_3_quickly(project, hub_store, hub, hub_env, tmp_path, status):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha, files=False)])
    hub.fail_with(status)
    r = project.linker("lock", env=nosleep_env(tmp_path, hub_env), timeout=30)
    assert r.returncode == 3, r.stdout + r.stderr
    word = "rate limited" if status == 429 else f"HTTP {status}"
    assert word in r.stdout + r.stderr
    assert "after 5 retries" in r.stdout + r.stderr  # retried 5 times (Retry-After: 0), then gave up
    assert sleeps(tmp_path) == []  # huggingface_hub's own backoff never ran: linker's client retried
    hub.fail_with(status, times=2)  # a Hub that recovers within the retry budget
    r = project.linker("lock", env=nosleep_env(tmp_path, hub_env), timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


def test_lock_with_unreachable_hub_or_offline_mode_exit_3(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha)])
    endpoint = closed_endpoint()
    r = project.linker("lock", "--check", env=nosleep_env(tmp_path, {**hub_env, "HF_ENDPOINT": endpoint}))
    assert r.returncode == 3 and f"cannot reach {endpoint}" in r.stdout + r.stderr
    r = project.linker("lock", "--check", env={**hub_env, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 3 and "offline mode" in r.stdout + r.stderr
    assert hub.requests == []
