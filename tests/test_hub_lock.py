"""`linker add`, `linker remove` and `linker lock` against the local Hub, plus the lockfile rewriter.

Every command runs as a subprocess with HF_ENDPOINT pointing at the local Hub (huggingface_hub reads it at
import). The lock a command writes is judged by loading it with linker's own strict validator and by comparing
it with what the Hub store holds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from linker.lockedit import edit_text, remove_entry, set_revision_and_files, upsert_entry
from linker.lockfile import LockedFile, load_lockfile
from testing.hubhelpers import (
    OTHER_TOKEN,
    TOKEN,
    assert_no_secret,
    closed_endpoint,
    entry,
    locked_files,
    nosleep_env,
    push,
    sleeps,
)
from testing.hubserver import HubServer, HubStore

REPO = "acme/tiny"


def lock_entries(project) -> dict[str, object]:
    return {e.label: e for e in load_lockfile(project.lock_path).entries}


def as_files(d: dict[str, dict]) -> dict[str, LockedFile]:
    return {p: LockedFile(v["size"], v["hash"]) for p, v in d.items()}


# ---------------------------------------------------------------------------------------------------------------
# linker add: resolution


def test_add_branch_resolves_head_and_writes_files(project, hub_store, hub, hub_env):
    push(hub_store, REPO, seed=1)
    head = push(hub_store, REPO, files={"extra.txt": b"more"})
    r = project.linker("add", REPO, env=hub_env)
    assert r.returncode == 0, r.stderr
    e = lock_entries(project)[REPO]
    assert e.revision == head and e.ref == "main"
    assert e.files == as_files(locked_files(hub_store, REPO, head))
    # LFS files are locked by sha256, the rest by git blob sha1, as the Hub names them
    assert len(e.files["model.safetensors"].hash) == 64 and len(e.files["config.json"].hash) == 40
    assert f"+ {REPO}@{head[:7]} (main)" in r.stdout


def test_add_tag_pins_its_commit_and_ref(project, hub_store, hub, hub_env):
    old = push(hub_store, REPO)
    hub_store.tag(REPO, "v1.0", old)
    push(hub_store, REPO, files={"extra.txt": b"newer"})
    r = project.linker("add", f"{REPO}@v1.0", env=hub_env)
    assert r.returncode == 0, r.stderr
    e = lock_entries(project)[REPO]
    assert (e.revision, e.ref) == (old, "v1.0")


def test_add_full_sha_keeps_ref_main(project, hub_store, hub, hub_env):
    old = push(hub_store, REPO)
    push(hub_store, REPO, files={"extra.txt": b"newer"})
    r = project.linker("add", f"{REPO}@{old}", env=hub_env)
    assert r.returncode == 0, r.stderr
    e = lock_entries(project)[REPO]
    assert (e.revision, e.ref) == (old, "main")


def test_add_short_sha_is_a_usage_error_with_hint(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    r = project.linker("add", f"{REPO}@{sha[:8]}", env=hub_env)
    assert r.returncode == 2
    assert "pin the full 40-character commit" in r.stderr
    assert "Traceback" not in r.stderr
    assert not project.lock_path.exists()
    assert hub.requests == []  # refused before asking the Hub


def test_add_unknown_revision_and_repo_exit_1(project, hub_store, hub, hub_env):
    push(hub_store, REPO)
    r = project.linker("add", f"{REPO}@no-such-branch", env=hub_env)
    assert r.returncode == 1 and "revision not found" in r.stderr, r.stderr
    r = project.linker("add", "acme/does-not-exist", env=hub_env)
    assert r.returncode == 1 and "repository not found" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 3  # one-line error (+ the resolving notice)
    assert not project.lock_path.exists()


def test_add_existing_id_names_the_entry(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha)])
    before = project.lock_path.read_text()
    r = project.linker("add", REPO, env=hub_env)
    assert r.returncode == 2
    assert f"{REPO} is already in" in r.stderr and "entry 1" in r.stderr and sha[:12] in r.stderr
    assert project.lock_path.read_text() == before


def test_add_include_exclude_type_and_ref(project, hub_store, hub, hub_env):
    sha = push(hub_store, "acme/data", repo_type="dataset", files={"a.json": b"{}", "b.txt": b"b", "c/d.json": b"1"})
    r = project.linker(
        "add", "acme/data", "--type", "dataset", "--include", "*.json", "--exclude", "c/*", "--ref", "stable",
        env=hub_env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    e = lock_entries(project)["dataset:acme/data"]
    assert e.revision == sha and e.ref == "stable" and e.type == "dataset"
    assert e.include == ("*.json",) and e.exclude == ("c/*",)
    assert set(e.files) == {"a.json"}


def test_add_private_repo_needs_a_token(project, hub_store, hub, hub_env):
    sha = push(hub_store, "acme/secret", private=True)
    hub_store.add_token(TOKEN, ["acme/secret"])
    hub_store.add_token(OTHER_TOKEN, [])
    anonymous = project.linker("add", "acme/secret", env=hub_env)
    assert anonymous.returncode == 1
    assert "repository not found" in anonymous.stderr and "set HF_TOKEN" in anonymous.stderr
    bad = project.linker("add", "acme/secret", env={**hub_env, "HF_TOKEN": "hf_ThisTokenIsNotKnownAtAll99"})
    assert bad.returncode == 3 and "rejected the token" in bad.stderr
    assert "hf_ThisTokenIsNotKnownAtAll99" not in bad.stdout + bad.stderr
    no_grant = project.linker("add", "acme/secret", env={**hub_env, "HF_TOKEN": OTHER_TOKEN})
    assert no_grant.returncode == 1 and "repository not found" in no_grant.stderr
    good = project.linker("-v", "add", "acme/secret", env={**hub_env, "HF_TOKEN": TOKEN})
    assert good.returncode == 0, good.stderr
    assert lock_entries(project)["acme/secret"].revision == sha
    assert_no_secret(anonymous.stdout, anonymous.stderr, no_grant.stderr, good.stdout, good.stderr)
    assert any(r["has_auth"] for r in hub.requests)


def test_token_file_in_hf_home_is_used(project, hub_store, hub, hub_env):
    """HF_TOKEN unset: huggingface_hub reads $HF_HOME/token, and so does linker."""
    push(hub_store, "acme/secret", private=True)
    hub_store.add_token(TOKEN, ["acme/secret"])
    Path(hub_env["HF_HOME"], "token").write_text(TOKEN)
    r = project.linker("add", "acme/secret", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert_no_secret(r.stdout, r.stderr)


def test_add_gated_repo_warns_without_access(project, hub_store, hub, hub_env):
    sha = push(hub_store, "acme/gated", gated=True)
    hub_store.add_token(TOKEN, ["acme/gated"])
    hub_store.add_token(OTHER_TOKEN, [])
    r = project.linker("add", "acme/gated", env={**hub_env, "HF_TOKEN": OTHER_TOKEN})
    assert r.returncode == 0, r.stderr  # the file list of a gated repo is public: the pin is valid
    assert "gated repo" in r.stderr and "no access" in r.stderr and "linker sync" in r.stderr
    assert lock_entries(project)["acme/gated"].revision == sha
    project.linker("remove", "acme/gated")
    r = project.linker("add", "acme/gated", env={**hub_env, "HF_TOKEN": TOKEN})
    assert r.returncode == 0 and "no access" not in r.stderr, r.stderr
    assert_no_secret(r.stdout, r.stderr)


def test_add_creates_lockfile_in_cwd_and_json(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    r = project.linker("add", REPO, "--json", env=hub_env)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["created"] is True and doc["revision"] == sha and doc["files"] == 7
    assert load_lockfile(project.lock_path).entries[0].id == REPO


def test_hf_endpoint_selects_the_hub(project, hub_store, hub, hub_env, tmp_path):
    """HF_ENDPOINT (a mirror, a company proxy) decides which Hub answers; the other one sees no request."""
    push(hub_store, REPO)
    mirror_store_root = tmp_path / "mirror-store"

    mirror_store = HubStore(mirror_store_root)
    mirror_sha = push(mirror_store, REPO, seed=7)
    with HubServer(mirror_store) as mirror:
        r = project.linker("add", REPO, env={**hub_env, "HF_ENDPOINT": mirror.endpoint + "/"})
        assert r.returncode == 0, r.stderr
        assert mirror.requests and not hub.requests
    assert lock_entries(project)[REPO].revision == mirror_sha


# ---------------------------------------------------------------------------------------------------------------
# linker remove


def test_remove_keeps_the_rest_and_sync_drops_the_view(project, hub_store, hub, hub_env):
    a, b = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=2)
    text = (
        "# team models\nversion: 1\nmodels:\n"
        f"  # first\n  - id: acme/a\n    revision: {a}  # keep me\n"
        f"  # second, to be removed\n  - id: acme/b\n    revision: {b}\n"
    )
    project.lock_path.write_text(text)
    assert project.linker("sync", env=hub_env).returncode == 0
    assert (project.view / "models--acme--b").exists()
    r = project.linker("remove", "acme/b")
    assert r.returncode == 0, r.stderr
    assert project.lock_path.read_text() == (
        f"# team models\nversion: 1\nmodels:\n  # first\n  - id: acme/a\n    revision: {a}  # keep me\n"
    )
    hub.clear_log()
    assert project.linker("sync", env=hub_env).returncode == 0
    assert not (project.view / "models--acme--b").exists() and (project.view / "models--acme--a").exists()
    assert hub.requests == []
    missing = project.linker("remove", "acme/b")
    assert missing.returncode == 1 and "not in" in missing.stderr


# ---------------------------------------------------------------------------------------------------------------
# linker lock


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


# ---------------------------------------------------------------------------------------------------------------
# The rewriter (library level)


def test_lockedit_crlf_mode_symlink_and_quoting(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_bytes(b"version: 1\r\nmodels:\r\n  - id: a/b\r\n    revision: " + b"a" * 40 + b"  # c\r\n")
    os.chmod(real, 0o640)
    link = tmp_path / "project_cache.yaml"
    link.symlink_to(real.name)
    files = {
        "true": LockedFile(1, "b" * 40),
        "dir/a b.txt": LockedFile(2, "c" * 64),
        ".gitattributes": LockedFile(3, "d" * 40),
    }
    set_revision_and_files(link, "a/b", "model", "1" * 40, files)
    assert link.is_symlink() and (real.stat().st_mode & 0o777) == 0o640
    raw = real.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    assert b"  # c\r\n" in raw
    e = load_lockfile(link).entries[0]
    assert e.revision == "1" * 40 and e.files == files
    upsert_entry(link, {"id": "c/d", "revision": "e" * 40, "include": ["*.json"], "local": True})
    assert remove_entry(link, "a/b") and not remove_entry(link, "a/b")
    (only,) = load_lockfile(link).entries
    assert (only.id, only.include, only.local) == ("c/d", ("*.json",), True)


def test_lockedit_flow_style_is_rewritten_in_block_style():
    text = "version: 1\nmodels: [{id: a/b, revision: " + "a" * 40 + "}]\n"
    new = edit_text(text, upserts=[{"id": "a/b", "revision": "b" * 40}, {"id": "c/d", "revision": "c" * 40}],
                    removals=[])  # fmt: skip
    assert yaml.safe_load(new)["models"] == [{"id": "a/b", "revision": "b" * 40}, {"id": "c/d", "revision": "c" * 40}]
    assert "  - id: a/b\n    revision: " in new


def test_lockedit_new_file_and_emptying(tmp_path):
    p = tmp_path / "project_cache.yaml"
    p.write_text("version: 1\nmodels:\n")
    upsert_entry(p, {"id": "a/b", "revision": "a" * 40, "type": "dataset", "ref": "main"})
    assert p.read_text() == "version: 1\nmodels:\n  - id: a/b\n    type: dataset\n    revision: " + "a" * 40 + "\n"
    assert remove_entry(p, "a/b", "dataset")
    assert p.read_text() == "version: 1\nmodels: []\n"
    assert load_lockfile(p).entries == []
