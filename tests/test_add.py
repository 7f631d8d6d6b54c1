"""`linker add` against the local Hub: how a revision is resolved and pinned, tokens, gated repos, HF_ENDPOINT.

Every command runs as a subprocess with HF_ENDPOINT pointing at the local Hub (huggingface_hub reads it at
import). The lock a command writes is judged by loading it with linker's own strict validator and by comparing
it with what the Hub store holds.
"""

from __future__ import annotations

import json
from pathlib import Path

from linker.lockfile import load_lockfile
from testing.hubhelpers import OTHER_TOKEN, TOKEN, as_files, assert_no_secret, entry, lock_entries, locked_files, push
from testing.hubserver import HubServer, HubStore

REPO = "acme/tiny"


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
