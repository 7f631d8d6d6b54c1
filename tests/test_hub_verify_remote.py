"""`linker verify --remote` against the local Hub: one test per failure class, the exit-code rule (1 = the lock is
wrong, 3 = the Hub could not tell), bounded time against a failing Hub, and no token in any output."""

from __future__ import annotations

import json
import time

import pytest

from testing.hubhelpers import OTHER_TOKEN, TOKEN, assert_no_secret, closed_endpoint, entry, nosleep_env, push

REPO = "acme/tiny"


def verify(project, env, *extra: str) -> tuple[int, dict]:
    r = project.linker("verify", "--remote", "--json", *extra, env=env)
    assert r.stdout.count("\n{") == 0 and r.stdout.lstrip().startswith("{"), r.stdout  # one JSON document
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == r.returncode, r.stderr
    assert_no_secret(r.stdout, r.stderr)
    return r.returncode, doc


def statuses(doc: dict) -> dict[str, str]:
    return {e["repo"]: e["status"] for e in doc["entries"]}


def test_all_ok(project, hub_store, hub, hub_env):
    a, b = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=2)
    d = push(hub_store, "acme/d", repo_type="dataset", files={"x.parquet": b"PAR1"})
    push(hub_store, "acme/a", files={"extra.txt": b"later"})  # a newer commit does not matter
    project.write_lock(
        [entry(hub_store, "acme/a", a), entry(hub_store, "acme/b", b, files=False),
         entry(hub_store, "acme/d", d, type="dataset")]
    )  # fmt: skip
    code, doc = verify(project, hub_env)
    assert code == 0
    assert statuses(doc) == {"acme/a": "ok", "acme/b": "ok", "dataset:acme/d": "ok"}
    assert doc["entries"][0]["files_checked"] == 7
    assert "only the pin was checked" in doc["entries"][1]["message"]  # acme/b has no `files`
    r = project.linker("verify", "--remote", env=hub_env)
    assert r.returncode == 0 and "3/3 ok" in r.stdout


def test_wrong_pins_exit_1_with_distinct_messages(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    missing = entry(hub_store, "acme/m", push(hub_store, "acme/m"))
    missing["files"]["tokenizer.json"] = {"size": 10, "hash": "6" * 40}
    hashed = entry(hub_store, "acme/h", push(hub_store, "acme/h"))
    hashed["files"]["model.safetensors"]["hash"] = "7" * 64
    sized = entry(hub_store, "acme/s", push(hub_store, "acme/s"))
    sized["files"]["vocab.txt"]["size"] += 3
    project.write_lock(
        [
            entry(hub_store, REPO, sha),
            {"id": "acme/nowhere", "revision": sha},
            {"id": REPO.replace("tiny", "tiny"), "revision": "8" * 40, "type": "dataset"},
            {"id": "acme/m2", "revision": "9" * 40},
            missing,
            hashed,
            sized,
        ]
    )
    push(hub_store, "acme/m2")
    code, doc = verify(project, hub_env)
    assert code == 1
    assert statuses(doc) == {
        REPO: "ok",
        "acme/nowhere": "repo-not-found",
        f"dataset:{REPO}": "repo-not-found",
        "acme/m2": "revision-not-found",
        "acme/m": "file-missing",
        "acme/h": "hash-changed",
        "acme/s": "size-changed",
    }
    by = {e["repo"]: e for e in doc["entries"]}
    assert by["acme/m"]["file_problems"] == [
        {"path": "tokenizer.json", "status": "file-missing", "locked": "", "remote": ""}
    ]
    assert by["acme/h"]["file_problems"][0]["path"] == "model.safetensors"
    r = project.linker("verify", "--remote", env=hub_env)
    out = r.stdout
    for text in ("repo not found", "revision not found", "file missing", "hash changed", "size changed"):
        assert text in out
    assert "tokenizer.json: not at this revision" in out and "size 72 on the Hub, 75 in the lock" in out
    assert "fix the lock" in out


def test_access_classes_exit_3(project, hub_store, hub, hub_env):
    g = push(hub_store, "acme/gated", gated=True)
    p = push(hub_store, "acme/private", private=True, seed=3)
    hub_store.add_token(TOKEN, ["acme/gated", "acme/private"])
    hub_store.add_token(OTHER_TOKEN, [])
    project.write_lock([entry(hub_store, "acme/gated", g)])
    code, doc = verify(project, hub_env)
    assert (code, statuses(doc)) == (3, {"acme/gated": "gated"})
    assert doc["entries"][0]["text"] == "gated (no access)"
    code, doc = verify(project, {**hub_env, "HF_TOKEN": OTHER_TOKEN})
    assert (code, statuses(doc)) == (3, {"acme/gated": "gated"})
    code, doc = verify(project, {**hub_env, "HF_TOKEN": TOKEN})
    assert (code, statuses(doc)) == (0, {"acme/gated": "ok"})
    # a token the Hub rejects: unauthorized (3), not "your lock is wrong"
    project.write_lock([entry(hub_store, "acme/private", p)])
    code, doc = verify(project, {**hub_env, "HF_TOKEN": "hf_RevokedTokenRevokedToken0000"})
    assert (code, statuses(doc)) == (3, {"acme/private": "unauthorized"})
    assert "hf_RevokedTokenRevokedToken0000" not in json.dumps(doc)
    code, doc = verify(project, {**hub_env, "HF_TOKEN": TOKEN})
    assert (code, statuses(doc)) == (0, {"acme/private": "ok"})
    # anonymous: the Hub does not say whether a private repo exists
    code, doc = verify(project, hub_env)
    assert statuses(doc) == {"acme/private": "repo-not-found"} and "set HF_TOKEN" in doc["entries"][0]["message"]


def test_network_error_exit_3_fast(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha), entry(hub_store, REPO, sha, files=False, type="dataset")])
    start = time.monotonic()
    code, doc = verify(project, {**hub_env, "HF_ENDPOINT": closed_endpoint()})
    assert time.monotonic() - start < 20  # no retry backoff (and no shim here)
    assert (code, set(statuses(doc).values())) == (3, {"network-error"})
    assert "cannot reach" in doc["entries"][0]["message"]
    code, doc = verify(project, {**hub_env, "HF_HUB_OFFLINE": "1"})
    assert code == 3 and "offline mode" in doc["entries"][0]["message"]
    assert hub.requests == []


@pytest.mark.parametrize(("status", "kind"), [(500, "hub-error"), (503, "hub-error"), (429, "rate-limited")])
def test_failing_hub_exit_3_in_bounded_time(project, hub_store, hub, hub_env, tmp_path, status, kind):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha), entry(hub_store, REPO, sha, files=False, type="dataset")])
    hub.fail_with(status)
    code, doc = verify(project, nosleep_env(tmp_path, hub_env))
    assert (code, set(statuses(doc).values())) == (3, {kind})


def test_wrong_wins_over_trouble(project, hub_store, hub, hub_env):
    """One entry's pin is wrong, another could not be checked: exit 1 (the lock is wrong, whatever the Hub)."""
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha), {"id": REPO, "revision": "a" * 40, "type": "space"}])
    hub.fail_with(500, times=6)  # --jobs 1: the first entry meets the failure, and its 5 retries
    code, doc = verify(project, hub_env, "--jobs", "1")
    assert statuses(doc) == {REPO: "hub-error", f"space:{REPO}": "repo-not-found"}
    assert code == 1


def test_local_revision_is_reported_not_fatal(project, hub_store, hub, hub_env):
    sha = push(hub_store, REPO)
    project.write_lock([entry(hub_store, REPO, sha), {"id": "acme/migrated", "revision": "b" * 40, "local": True}])
    code, doc = verify(project, hub_env)
    assert code == 0
    assert statuses(doc) == {REPO: "ok", "acme/migrated": "local-not-on-hub"}
    assert doc["summary"]["local"] == 1
    r = project.linker("verify", "--remote", env=hub_env)
    assert "not on the Hub (local revision)" in r.stdout


def test_many_entries_checked_concurrently(project, hub_store, hub, hub_env):
    """20 entries, 8 at a time: every entry is checked with one request (no gate, no fallback listing)."""
    shas = {
        f"acme/m{i}": push(hub_store, f"acme/m{i}", files={"config.json": f'{{"i": {i}}}'.encode()}) for i in range(20)
    }
    project.write_lock([entry(hub_store, rid, sha) for rid, sha in shas.items()])
    hub.clear_log()
    code, doc = verify(project, hub_env)
    assert code == 0 and len(doc["entries"]) == 20
    assert [e["repo"] for e in doc["entries"]] == list(shas)  # results in lock order
    assert len(hub.requests) == 20
