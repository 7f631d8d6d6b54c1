"""`linker sync` downloads many entries side by side (`LINKER_FETCH_JOBS`): every entry lands, each file is
downloaded once, one failing entry fails alone, a Hub that goes silent ends the run with exit 3 without trying the
entries not yet started, and the pool leaves exactly the cache the one-at-a-time loop leaves."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

from testing.hfprobe import run_hf
from testing.hubhelpers import entry, push

PAIRS = list[tuple[str, str]]


def push_many(hub_store, n: int, prefix: str = "acme/m") -> PAIRS:
    """`n` small models of 3 files each (one of them LFS), every file's bytes distinct."""
    out = []
    for i in range(n):
        repo = f"{prefix}-{i:02d}"
        files = {
            "config.json": json.dumps({"model_type": "bert", "i": i}).encode(),
            "README.md": f"# model {i}\n".encode(),
            "model.safetensors": bytes([i]) * 300,
        }
        out.append((repo, push(hub_store, repo, files=files)))
    return out


def lock_all(project, hub_store, pairs: PAIRS) -> None:
    project.write_lock([entry(hub_store, repo, sha) for repo, sha in pairs])


_LOAD_ALL = """
import hashlib, os
from huggingface_hub import snapshot_download
result = {}
for repo, sha in params:
    root = snapshot_download(repo, revision=sha, local_files_only=True)
    result[repo] = {
        name: hashlib.sha256(open(os.path.join(root, name), "rb").read()).hexdigest() for name in os.listdir(root)
    }
"""


def loaded_offline(cache: Path, pairs: PAIRS) -> dict[str, dict[str, str]]:
    """The real huggingface_hub, offline, reading every pinned snapshot from `cache`: sha256 of each file."""
    return run_hf(_LOAD_ALL, hub_cache=cache, params=pairs)


def wanted(hub_store, pairs: PAIRS) -> dict[str, dict[str, str]]:
    import hashlib

    return {
        repo: {path: hashlib.sha256(f.read_bytes()).hexdigest() for path, f in hub_store.files_at(repo, sha).items()}
        for repo, sha in pairs
    }


def fetching_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("fetching ")]


def states(project) -> dict[str, str]:
    status = json.loads(project.linker("status", "--json").stdout)
    return {e["repo"]: e["state"] for e in status["entries"]}


def test_twenty_entries_land_once_each_and_load_offline(project, hub_store, hub, hub_env):
    pairs = push_many(hub_store, 20)
    lock_all(project, hub_store, pairs)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert loaded_offline(project.view, pairs) == wanted(hub_store, pairs)
    # one whole line per entry, never two lines run into each other
    line = re.compile(rf"fetching (acme/m-\d\d)@[0-9a-f]{{12}} from {re.escape(hub.endpoint)}")
    lines = fetching_lines(r.stderr)
    assert all(line.fullmatch(x) for x in lines), r.stderr
    assert sorted(line.fullmatch(x).group(1) for x in lines) == [repo for repo, _ in pairs]  # type: ignore[union-attr]
    # every file's bytes were sent exactly once (LFS ones by the CDN after a redirect)
    bodies = Counter(
        (q["origin"], q["path"]) for q in hub.requests if q["method"] == "GET" and q["status"] in (200, 206)
        if "/resolve/" in q["path"] or q["origin"] == "cdn"
    )  # fmt: skip
    assert len(bodies) == 20 * 3 and set(bodies.values()) == {1}, bodies


def test_entry_missing_on_the_hub_fails_alone(project, hub_store, hub, hub_env):
    pairs = push_many(hub_store, 10)
    project.write_lock([*(entry(hub_store, r, s) for r, s in pairs), {"id": "acme/gone", "revision": "4" * 40}])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert any("acme/gone" in x and "repository not found" in x for x in r.stderr.splitlines()), r.stderr
    assert "hf download acme/gone" in r.stdout
    assert states(project) == {**{repo: "linked" for repo, _ in pairs}, "acme/gone": "missing"}
    assert loaded_offline(project.view, pairs) == wanted(hub_store, pairs)


def test_invalid_job_count_warns_once_and_uses_the_default(project, hub_store, hub, hub_env):
    pairs = push_many(hub_store, 3)
    lock_all(project, hub_store, pairs)
    r = project.linker("sync", env={**hub_env, "LINKER_FETCH_JOBS": "many"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert [x for x in r.stderr.splitlines() if "LINKER_FETCH_JOBS" in x] == [
        "warning: LINKER_FETCH_JOBS='many' is not a whole number >= 1; using 8"
    ], r.stderr
    assert loaded_offline(project.view, pairs) == wanted(hub_store, pairs)


def test_pool_runs_entries_side_by_side_and_gives_up_together(project, hub_store, hub, hub_env):
    """A Hub that never answers: the first requests of 4 entries wait at once (not one after the other), and once
    they time out, none of the 8 entries not yet started is tried."""
    pairs = push_many(hub_store, 12)
    lock_all(project, hub_store, pairs)
    hub.go_silent(after=0)
    env = {**hub_env, "LINKER_FETCH_JOBS": "4", "LINKER_HUB_TIMEOUT": "2"}
    r = project.linker("sync", env=env, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 3, out
    assert f"{hub.endpoint} did not answer within 2 s" in out
    asked = {re.search(r"acme/m-\d\d", q["path"]).group(0) for q in hub.held}  # type: ignore[union-attr]
    assert len(asked) == 4, hub.held
    assert len(fetching_lines(r.stderr)) == 4, r.stderr
    assert len([x for x in r.stderr.splitlines() if x.startswith("error:")]) == 1, r.stderr


def test_hub_silent_mid_way_exits_3_and_links_what_arrived(project, hub_store, hub, hub_env):
    pairs = push_many(hub_store, 20)
    lock_all(project, hub_store, pairs)
    hub.go_silent(after=40)  # a few entries' worth of requests
    env = {**hub_env, "LINKER_FETCH_JOBS": "4", "LINKER_HUB_TIMEOUT": "1"}
    r = project.linker("sync", env=env, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode == 3, out
    assert "did not answer within 1 s" in out
    tried = len(fetching_lines(r.stderr))
    assert tried < 20, r.stderr  # the entries not yet started when the Hub went silent were not tried
    asked = {m.group(0) for q in hub.held if (m := re.search(r"acme/m-\d\d", q["path"]))}
    assert 0 < len(asked) <= 4, hub.held  # only entries in flight when it went silent
    got = states(project)
    linked = [repo for repo, _ in pairs if got[repo] == "linked"]
    assert 0 < len(linked) < 20, got
    done = [(repo, sha) for repo, sha in pairs if repo in linked]
    assert loaded_offline(project.view, done) == wanted(hub_store, done)
    # the Hub is back: the next sync fetches the rest
    hub.go_silent(None)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert loaded_offline(project.view, pairs) == wanted(hub_store, pairs)


def tree(root: Path) -> dict[str, tuple[str, str | bytes]]:
    """Every path under `root`: ("dir", ""), ("link", target) or ("file", bytes)."""
    out: dict[str, tuple[str, str | bytes]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if os.path.islink(full):
                out[rel] = ("link", os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", Path(full).read_bytes())
    return out


def test_one_job_and_the_pool_leave_identical_caches(project, hub_store, hub, hub_env, tmp_path):
    pairs = push_many(hub_store, 12)
    lock_all(project, hub_store, pairs)
    serial = tmp_path / "serial-cache"
    r = project.linker("sync", env={**hub_env, "LINKER_FETCH_JOBS": "1", "HF_HUB_CACHE": str(serial)})
    assert r.returncode == 0, r.stdout + r.stderr
    serial_requests = Counter((q["method"], q["origin"], q["path"]) for q in hub.requests)
    shutil.rmtree(project.view)  # the same project again (same protection refs), on an empty global cache
    hub.clear_log()
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert tree(serial) == tree(project.global_cache)
    assert Counter((q["method"], q["origin"], q["path"]) for q in hub.requests) == serial_requests
