"""The local Hub against the real huggingface_hub client (run in subprocesses, HF_ENDPOINT set before import)."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from testing.hubserver import HubServer, HubStore, git_blob_sha1, is_default_lfs, lfs_pointer
from testing.hubserver.pytest_plugin import REMOVED_ENV_VARS, make_hub_env

REPO = "acme/tiny-model"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
HF_CLI = Path(sys.executable).with_name("hf")

# Runs before every client script: instant retries (the sleeps are recorded), and a helper that turns an
# exception into data.
PRELUDE = """
import json, os, sys, time as _time, types
import huggingface_hub.utils._http as _http

SLEEPS = []
_http.time = types.SimpleNamespace(**{k: getattr(_time, k) for k in dir(_time) if not k.startswith("_")})
_http.time.sleep = SLEEPS.append
OUT = {}
ARGS = json.loads(os.environ["CLIENT_ARGS"])

def attempt(fn, *a, **k):
    try:
        value = fn(*a, **k)
    except Exception as e:
        resp = getattr(e, "response", None)
        return {"ok": False, "error": type(e).__name__, "mro": [c.__name__ for c in type(e).__mro__],
                "status": getattr(resp, "status_code", None), "message": str(e)}
    return {"ok": True, "value": value if isinstance(value, (str, int, list, dict, type(None))) else repr(value)}
"""


def run_client(env: dict[str, str], body: str, **args: object) -> dict:
    """Run `body` with the real huggingface_hub in a fresh interpreter; it fills the OUT dict, returned here."""
    script = PRELUDE + textwrap.dedent(body) + "\nprint('@@OUT@@' + json.dumps(OUT, default=str))\n"
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "CLIENT_ARGS": json.dumps(args)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_ROOT,
    )
    assert proc.returncode == 0, f"client failed:\nSTDOUT:\n{proc.stdout}\nSTDERR:\n{proc.stderr}"
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("@@OUT@@"))
    return json.loads(line[len("@@OUT@@") :])


def raw(hub_url: str, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None):
    """One plain HTTP request (no proxies, no redirects): (status, headers, body)."""
    u = urlsplit(hub_url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


@pytest.fixture
def tiny(hub_store: HubStore) -> dict[str, object]:
    """acme/tiny-model: v1.0 (tag) -> main (2 commits), a `dev` branch, refs/pr/1; one 1 MiB LFS file."""
    hub_store.create_repo(REPO)
    weights = hashlib.sha256(b"seed").digest() * (1 << 15)  # 1 MiB, deterministic
    c1 = hub_store.commit(
        REPO,
        {"config.json": b'{"hidden": 8}\n', "tokenizer/vocab.txt": b"a\nb\nc\n", "model.safetensors": weights},
        message="Initial upload\n\nWith weights.",
    )
    hub_store.tag(REPO, "v1.0", c1)
    c2 = hub_store.commit(REPO, {"config.json": b'{"hidden": 16}\n', "README.md": b"# tiny\n"}, message="Bigger")
    dev = hub_store.commit(REPO, {"notes.txt": b"dev only\n"}, branch="dev", parent=c1, message="Dev notes")
    pr = hub_store.commit(REPO, {"config.json": b'{"hidden": 32}\n'}, branch="refs/pr/1", parent=c2, message="PR")
    return {"c1": c1, "c2": c2, "dev": dev, "pr": pr, "weights": weights}


# ---------------------------------------------------------------------------------------------- store only
def test_store_blob_facts_and_determinism(tmp_path: Path) -> None:
    a, b = HubStore(tmp_path / "a"), HubStore(tmp_path / "b")
    for s in (a, b):
        s.create_repo("o/r")
    files = {"config.json": b"{}\n", "w.bin": b"\x00" * 10, "sub/x.txt": b"x"}
    sha_a = a.commit("o/r", files, message="m")
    assert sha_a == b.commit("o/r", files, message="m")  # deterministic ids
    assert len(sha_a) == 40 and sha_a != a.commit("o/r", {"y": b"1"}, message="m")

    info = a.files_at("o/r", sha_a)
    cfg, weights = info["config.json"], info["w.bin"]
    assert cfg.git_oid == git_blob_sha1(b"{}\n") == "0967ef424bce6791893e9a57bb952f80fd536e93"  # git hash-object
    assert cfg.sha256 is None and cfg.etag == cfg.git_oid and cfg.data.read_bytes() == b"{}\n"
    assert weights.sha256 == hashlib.sha256(b"\x00" * 10).hexdigest() and weights.etag == weights.sha256
    assert weights.git_oid == git_blob_sha1(lfs_pointer(weights.sha256, 10))
    assert weights.pointer_size == len(lfs_pointer(weights.sha256, 10))

    assert is_default_lfs("model.safetensors", 1) and is_default_lfs("a/events.out.tfevents.1", 1)
    assert is_default_lfs("x.tar.gz", 1) and is_default_lfs("big.txt", 11 * 1024 * 1024)
    assert not is_default_lfs("config.json", 100) and not is_default_lfs("img.png", 5)
    assert is_default_lfs("img.png", 5, "dataset")
    explicit = a.commit("o/r", {"data.txt": b"hello"}, lfs={"data.txt"})
    assert a.files_at("o/r", explicit)["data.txt"].sha256 is not None

    # History, parents, deletions, refs, and a second instance seeing the changes through state.json.
    c3 = a.commit("o/r", {}, delete=["sub"], message="drop sub\n\nbody")
    assert "sub/x.txt" not in a.files_at("o/r", c3)
    assert [c["title"] for c in a.commits("o/r", "main")] == ["drop sub", "Upload files", "m", "m"]
    other = HubStore(tmp_path / "a")
    assert other.head("o/r", "main") == c3 and other.head("o/r", "nope") is None
    a.tag("o/r", "v1", sha_a)
    a.set_branch("o/r", "refs/pr/3", c3)
    assert other.resolve("o/r", "v1") == sha_a and other.resolve("o/r", "refs/tags/v1") == sha_a
    assert other.resolve("o/r", "refs/pr/3") == c3 and other.refs("o/r")["prs"] == {"3": c3}
    with pytest.raises(KeyError):
        a.commit("nobody/here", {"a": b"b"})

    if shutil.which("git"):  # directory oids are real git tree ids
        work = tmp_path / "git"
        subprocess.run(["git", "init", "-q", str(work)], check=True)
        for p, content in {"config.json": b"{}\n", "sub/x.txt": b"x", "sub/deeper/y": b"y"}.items():
            (work / p).parent.mkdir(parents=True, exist_ok=True)
            (work / p).write_bytes(content)
        git = ["git", "-C", str(work)]
        subprocess.run([*git, "add", "-A"], check=True)
        root = subprocess.run([*git, "write-tree"], check=True, capture_output=True, text=True).stdout.strip()
        sub = subprocess.run([*git, "rev-parse", f"{root}:sub"], check=True, capture_output=True, text=True)
        b.create_repo("o/git")
        c = b.commit("o/git", {"config.json": b"{}\n", "sub/x.txt": b"x", "sub/deeper/y": b"y"}, lfs=set())
        oids = b.tree_oids("o/git", c)
        assert (oids[""], oids["sub"], sorted(oids)) == (root, sub.stdout.strip(), ["", "sub", "sub/deeper"])


def test_hub_env_removes_leaky_variables(tmp_path: Path) -> None:
    base = {name: "leak" for name in REMOVED_ENV_VARS} | {"PATH": "/bin"}
    env = make_hub_env("http://127.0.0.1:1", tmp_path / "home", base=base)
    assert not set(REMOVED_ENV_VARS) & set(env)
    assert env["HF_ENDPOINT"] == "http://127.0.0.1:1" and env["PATH"] == "/bin"
    assert Path(env["HF_HOME"]).is_dir() and not any(Path(env["HF_HOME"]).iterdir())
    for name in ("HF_HUB_DISABLE_TELEMETRY", "HF_HUB_DISABLE_PROGRESS_BARS", "HF_HUB_DISABLE_UPDATE_CHECK"):
        assert env[name] == "1"
    assert env["NO_PROXY"] == "127.0.0.1,localhost"


# ---------------------------------------------------------------------------------------------- real client
def test_snapshot_download_cold_warm_cdn_and_cache_verify(
    hub: HubServer, hub_store: HubStore, hub_env: dict[str, str], hub_cache_dir: Path, tiny: dict
) -> None:
    hub_store.add_token("hf_public_reader")
    c2 = tiny["c2"]
    files = hub_store.files_at(REPO, c2)

    out = run_client(
        {**hub_env, "HF_TOKEN": "hf_public_reader"},
        """
        from huggingface_hub import snapshot_download
        OUT["path"] = snapshot_download(ARGS["repo"])
        """,
        repo=REPO,
    )
    snap = Path(out["path"])
    assert snap == hub_cache_dir / "models--acme--tiny-model" / "snapshots" / c2
    assert (hub_cache_dir / "models--acme--tiny-model" / "refs" / "main").read_text() == c2
    assert sorted(p.relative_to(snap).as_posix() for p in snap.rglob("*") if not p.is_dir()) == sorted(files)
    for path, fi in files.items():
        link = snap / path
        assert link.is_symlink() and link.read_bytes() == fi.data.read_bytes()
        assert Path(os.readlink(link)).name == fi.etag  # blob name = etag: git sha1, or sha256 for LFS
    assert len(files["model.safetensors"].etag) == 64 and len(files["config.json"].etag) == 40

    log = hub.requests
    assert [(e["method"], e["path"]) for e in log[:2]] == [
        ("GET", f"/api/models/{REPO}/revision/main"),
        ("GET", f"/api/models/{REPO}/tree/{c2}"),
    ]
    lfs_head = [e for e in log if e["method"] == "HEAD" and e["path"].endswith("/model.safetensors")]
    assert [e["status"] for e in lfs_head] == [302]
    cdn = [e for e in log if e["origin"] == "cdn"]
    assert [(e["method"], e["status"], e["has_auth"]) for e in cdn] == [("GET", 200, False)]
    assert all(e["has_auth"] for e in log if e["origin"] == "hub")  # the token went to the Hub only
    assert not any(e["path"].endswith("/model.safetensors") and e["method"] == "GET" for e in log)

    # Warm: by sha, nothing is requested; by branch, only the revision lookup.
    hub.clear_log()
    out = run_client(
        hub_env,
        """
        from huggingface_hub import hf_hub_download, snapshot_download
        OUT["by_sha"] = snapshot_download(ARGS["repo"], revision=ARGS["sha"])
        OUT["file"] = hf_hub_download(ARGS["repo"], "model.safetensors", revision=ARGS["sha"])
        """,
        repo=REPO,
        sha=c2,
    )
    assert out["by_sha"] == str(snap) and hub.requests == []
    run_client(hub_env, "from huggingface_hub import snapshot_download\nsnapshot_download(ARGS['repo'])", repo=REPO)
    assert [e["path"] for e in hub.requests] == [f"/api/models/{REPO}/revision/main"]

    # `hf cache verify` recomputes the checksums against the served tree.
    verify = [str(HF_CLI), "cache", "verify", REPO, "--fail-on-missing-files", "--fail-on-extra-files"]
    ok = subprocess.run(verify, env=hub_env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    blob = (snap / "config.json").resolve()
    blob.chmod(0o644)
    blob.write_bytes(b'{"hidden": 99}\n')
    bad = subprocess.run(verify, env=hub_env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "config.json" in bad.stdout + bad.stderr


def test_hf_hub_download_by_branch_tag_sha_pr_and_no_exist(
    hub: HubServer, hub_env: dict[str, str], hub_cache_dir: Path, tiny: dict
) -> None:
    out = run_client(
        hub_env,
        """
        from pathlib import Path
        from huggingface_hub import hf_hub_download
        for rev in ("main", "v1.0", "dev", ARGS["c1"], "refs/pr/1"):
            OUT[rev] = Path(hf_hub_download(ARGS["repo"], "config.json", revision=rev)).read_text()
        OUT["notes"] = Path(hf_hub_download(ARGS["repo"], "notes.txt", revision="dev")).read_text()
        OUT["missing"] = attempt(hf_hub_download, ARGS["repo"], "missing.txt")
        OUT["dataset"] = attempt(hf_hub_download, ARGS["repo"], "config.json", repo_type="dataset")
        """,
        repo=REPO,
        c1=tiny["c1"],
    )
    assert out["main"] == '{"hidden": 16}\n' and out["v1.0"] == out["dev"] == out[tiny["c1"]] == '{"hidden": 8}\n'
    assert out["refs/pr/1"] == '{"hidden": 32}\n' and out["notes"] == "dev only\n"
    assert out["missing"]["error"] == "RemoteEntryNotFoundError" and "EntryNotFoundError" in out["missing"]["mro"]
    assert out["dataset"]["error"] == "RepositoryNotFoundError"

    repo_dir = hub_cache_dir / "models--acme--tiny-model"
    refs = {
        p.relative_to(repo_dir / "refs").as_posix(): p.read_text()
        for p in (repo_dir / "refs").rglob("*")
        if p.is_file()
    }
    assert refs == {"main": tiny["c2"], "v1.0": tiny["c1"], "dev": tiny["dev"], "refs/pr/1": tiny["pr"]}
    assert (repo_dir / ".no_exist" / tiny["c2"] / "missing.txt").is_file()
    assert any("refs%2Fpr%2F1" in e["path"] for e in hub.requests)  # the revision travels quoted


def test_api_info_refs_tree_paths_info_commits(
    hub: HubServer, hub_store: HubStore, hub_env: dict[str, str], tiny: dict
) -> None:
    hub.page_size = 2
    hub_store.create_repo("acme/data", repo_type="dataset")
    data_sha = hub_store.commit("acme/data", {"train.parquet": b"PAR1", "img.png": b"png"}, repo_type="dataset")
    out = run_client(
        hub_env,
        """
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        info = api.model_info(ARGS["repo"], revision=ARGS["c1"], files_metadata=True)
        OUT["info"] = {"sha": info.sha, "private": info.private, "gated": info.gated,
                       "siblings": {s.rfilename: [s.size, s.blob_id, s.lfs and dict(s.lfs)] for s in info.siblings}}
        OUT["main_sha"] = api.model_info(ARGS["repo"]).sha
        refs = api.list_repo_refs(ARGS["repo"], include_pull_requests=True)
        OUT["refs"] = {k: [[r.name, r.ref, r.target_commit] for r in getattr(refs, k)]
                       for k in ("branches", "tags", "converts", "pull_requests")}
        tree = api.list_repo_tree(ARGS["repo"], recursive=True, revision="main")
        OUT["tree"] = [[type(e).__name__, e.path, getattr(e, "blob_id", None) or e.tree_id] for e in tree]
        OUT["top"] = [e.path for e in api.list_repo_tree(ARGS["repo"])]
        OUT["sub"] = [e.path for e in api.list_repo_tree(ARGS["repo"], path_in_repo="tokenizer", expand=True)]
        OUT["paths"] = [[type(e).__name__, e.path, e.last_commit and e.last_commit.oid] for e in
                        api.get_paths_info(ARGS["repo"], ["config.json", "tokenizer", "nope"], expand=True)]
        OUT["commits"] = [[c.commit_id, c.title, c.message, c.authors] for c in api.list_repo_commits(ARGS["repo"])]
        OUT["dataset"] = [api.dataset_info("acme/data").sha,
                          open(hf_hub_download("acme/data", "img.png", repo_type="dataset"), "rb").read().decode()]
        """,
        repo=REPO,
        c1=tiny["c1"],
    )
    files = hub_store.files_at(REPO, tiny["c1"])
    w = files["model.safetensors"]
    assert out["info"] == {
        "sha": tiny["c1"],
        "private": False,
        "gated": False,
        "siblings": {
            "config.json": [14, files["config.json"].git_oid, None],
            "model.safetensors": [
                w.size,
                w.git_oid,
                {"size": w.size, "sha256": w.sha256, "pointer_size": w.pointer_size},
            ],
            "tokenizer/vocab.txt": [6, files["tokenizer/vocab.txt"].git_oid, None],
        },
    }
    assert out["main_sha"] == tiny["c2"]
    assert out["refs"] == {
        "branches": [["dev", "refs/heads/dev", tiny["dev"]], ["main", "refs/heads/main", tiny["c2"]]],
        "tags": [["v1.0", "refs/tags/v1.0", tiny["c1"]]],
        "converts": [],
        "pull_requests": [["refs/pr/1", "refs/pr/1", tiny["pr"]]],
    }
    trees = hub_store.tree_oids(REPO, tiny["c2"])
    assert out["tree"] == [
        ["RepoFile", "README.md", hub_store.files_at(REPO, "main")["README.md"].git_oid],
        ["RepoFile", "config.json", hub_store.files_at(REPO, "main")["config.json"].git_oid],
        ["RepoFile", "model.safetensors", w.git_oid],
        ["RepoFolder", "tokenizer", trees["tokenizer"]],
        ["RepoFile", "tokenizer/vocab.txt", files["tokenizer/vocab.txt"].git_oid],
    ]
    tree_pages = [e for e in hub.requests if "/tree/main" in e["path"] and "recursive=true" in e["query"]]
    assert len(tree_pages) == 3 and all("cursor=" in e["query"] for e in tree_pages[1:])
    assert out["top"] == ["README.md", "config.json", "model.safetensors", "tokenizer"]
    assert out["sub"] == ["tokenizer/vocab.txt"]
    assert out["paths"] == [["RepoFile", "config.json", tiny["c2"]], ["RepoFolder", "tokenizer", tiny["c1"]]]
    assert out["commits"] == [
        [tiny["c2"], "Bigger", "", ["hub-tester"]],
        [tiny["c1"], "Initial upload", "With weights.", ["hub-tester"]],
    ]
    assert out["dataset"] == [data_sha, "png"]


def test_error_classes_private_and_gated(hub: HubServer, hub_store: HubStore, hub_env: dict[str, str], tiny) -> None:
    hub_store.create_repo("acme/secret", private=True)
    hub_store.commit("acme/secret", {"config.json": b"{}"})
    hub_store.create_repo("acme/gated", gated=True)
    hub_store.commit("acme/gated", {"config.json": b"{}", "README.md": b"card"})
    hub_store.add_token("hf_all")  # reads everything
    hub_store.add_token("hf_none", repos=[])  # valid, but no private/gated repo
    out = run_client(
        hub_env,
        """
        from huggingface_hub import HfApi, hf_hub_download, snapshot_download
        api = HfApi()
        dl = lambda repo, f="config.json", **k: hf_hub_download(repo, f, **k)
        OUT["unknown_repo"] = attempt(dl, "acme/nope")
        OUT["unknown_repo_token"] = attempt(api.model_info, "acme/nope", token="hf_all")
        OUT["unknown_rev"] = attempt(dl, ARGS["repo"], revision="nope")
        OUT["unknown_rev_api"] = attempt(api.model_info, ARGS["repo"], revision="nope")
        OUT["unknown_rev_snapshot"] = attempt(snapshot_download, ARGS["repo"], revision="nope")
        OUT["missing_file"] = attempt(dl, ARGS["repo"], "nope.txt")
        OUT["private_anon"] = attempt(dl, "acme/secret")
        OUT["private_anon_api"] = attempt(api.model_info, "acme/secret")
        OUT["private_bad_token"] = attempt(dl, "acme/secret", token="hf_invalid")
        OUT["private_no_access"] = attempt(dl, "acme/secret", token="hf_none")
        OUT["private_ok"] = attempt(lambda: open(dl("acme/secret", token="hf_all")).read())
        OUT["gated_anon"] = attempt(dl, "acme/gated")
        OUT["gated_no_access"] = attempt(dl, "acme/gated", token="hf_none")
        OUT["gated_card"] = attempt(lambda: open(dl("acme/gated", "README.md")).read())
        OUT["gated_info"] = attempt(lambda: api.model_info("acme/gated").gated)
        OUT["gated_ok"] = attempt(lambda: open(dl("acme/gated", token="hf_all")).read())
        OUT["public_bad_token"] = attempt(lambda: open(dl(ARGS["repo"], token="hf_invalid")).read())
        """,
        repo=REPO,
    )
    expect = {
        "unknown_repo": ("RepositoryNotFoundError", 401),
        "unknown_repo_token": ("RepositoryNotFoundError", 404),
        "unknown_rev": ("RevisionNotFoundError", 404),
        "unknown_rev_api": ("RevisionNotFoundError", 404),
        "unknown_rev_snapshot": ("RevisionNotFoundError", 404),
        "missing_file": ("RemoteEntryNotFoundError", 404),
        "private_anon": ("RepositoryNotFoundError", 401),
        "private_anon_api": ("RepositoryNotFoundError", 401),
        "private_bad_token": ("RepositoryNotFoundError", 401),
        "private_no_access": ("RepositoryNotFoundError", 404),
        "gated_anon": ("GatedRepoError", 401),
        "gated_no_access": ("GatedRepoError", 403),
    }
    assert {k: (out[k].get("error"), out[k].get("status")) for k in expect} == expect
    assert "RepositoryNotFoundError" in out["gated_anon"]["mro"]
    assert out["private_ok"] == {"ok": True, "value": "{}"}
    assert out["gated_ok"] == {"ok": True, "value": "{}"}
    assert out["gated_card"] == {"ok": True, "value": "card"} and out["gated_info"]["value"] == "auto"
    assert out["public_bad_token"]["ok"]
    errors = [e for e in hub.requests if e["status"] >= 400]
    assert errors and all(e["origin"] == "hub" for e in errors)


def test_fail_with_reaches_client_and_retries(hub: HubServer, hub_env: dict[str, str], tiny) -> None:
    script = """
    from huggingface_hub import HfApi, hf_hub_download
    api = HfApi()
    OUT["info"] = attempt(lambda: api.model_info(ARGS["repo"]).sha)
    OUT["tree"] = attempt(lambda: [e.path for e in api.list_repo_tree(ARGS["repo"])])
    OUT["download"] = attempt(hf_hub_download, ARGS["repo"], "config.json")
    OUT["sleeps"] = SLEEPS
    """
    hub.fail_with(500, retry_after=None)  # no Retry-After: the client's own backoff
    out = run_client(hub_env, script, repo=REPO)
    assert out["info"]["error"] == "HfHubHTTPError" and out["info"]["status"] == 500
    assert out["tree"]["error"] == "HfHubHTTPError" and out["tree"]["status"] == 500
    assert out["download"]["error"] == "LocalEntryNotFoundError"  # hf_hub_download hides 5xx behind the cache
    assert out["sleeps"][:5] == [1, 2, 4, 8, 8]  # backoff that the patched sleep skipped
    assert {e["status"] for e in hub.requests} == {500}
    # model_info: 1 try; list_repo_tree: 1 + 5 retries; hf_hub_download: 1 HEAD without retry (cache fallback),
    # then, with nothing cached, 1 + 5 retries.
    assert len(hub.requests) == 1 + 6 + 7

    hub.clear_log()
    hub.fail_with(503)  # default Retry-After: 0, so each retry waits 1 s
    out = run_client(hub_env, script, repo=REPO)
    assert out["tree"]["status"] == 503 and out["sleeps"] == [1.0] * 10

    hub.fail_with(None)
    hub.clear_log()
    hub.fail_with(429, times=2)
    out = run_client(hub_env, script, repo=REPO)
    assert out["info"]["error"] == "HfHubHTTPError" and out["info"]["status"] == 429  # no retry on model_info
    assert out["tree"]["ok"] and out["download"]["ok"]
    assert out["sleeps"] == [1.0]  # Retry-After: 0 (+1 s)
    assert [e["status"] for e in hub.requests[:3]] == [429, 429, 200]


def test_latency_is_added_and_settable(hub: HubServer, tiny) -> None:
    path = f"/api/models/{REPO}"
    t0 = time.monotonic()
    assert raw(hub.endpoint, "GET", path)[0] == 200
    fast = time.monotonic() - t0
    hub.latency = 0.4
    t0 = time.monotonic()
    assert raw(hub.endpoint, "GET", path)[0] == 200
    assert time.monotonic() - t0 >= 0.4 > fast


# ---------------------------------------------------------------------------------------------- raw protocol
def test_resolve_headers_redirect_range_and_errors(hub: HubServer, hub_store: HubStore, tiny) -> None:
    c2 = tiny["c2"]
    w = hub_store.files_at(REPO, c2)["model.safetensors"]
    status, h, _ = raw(hub.endpoint, "HEAD", f"/{REPO}/resolve/main/model.safetensors")
    assert status == 302 and h["X-Repo-Commit"] == c2 and h["X-Linked-Etag"] == f'"{w.sha256}"'
    assert h["X-Linked-Size"] == str(w.size) and h["ETag"] == f'"{w.git_oid}"'
    loc = urlsplit(h["Location"])
    assert f"{loc.scheme}://{loc.netloc}" == hub.cdn_endpoint != hub.endpoint
    status, h2, body = raw(hub.cdn_endpoint, "GET", f"{loc.path}?{loc.query}", {"Range": "bytes=1000-"})
    assert status == 206 and body == tiny["weights"][1000:]
    assert h2["Content-Range"] == f"bytes 1000-{w.size - 1}/{w.size}"

    cfg = hub_store.files_at(REPO, c2)["config.json"]
    status, h, body = raw(hub.endpoint, "GET", f"/{REPO}/resolve/{quote('refs/tags/v1.0', safe='')}/config.json")
    assert status == 200 and body == b'{"hidden": 8}\n' and h["X-Repo-Commit"] == tiny["c1"]
    status, h, body = raw(hub.endpoint, "HEAD", f"/{REPO}/resolve/{c2}/config.json")
    assert (status, h["ETag"], h["Content-Length"], body) == (200, f'"{cfg.git_oid}"', str(cfg.size), b"")
    assert raw(hub.endpoint, "GET", f"/{REPO}/resolve/refs/pr/1/config.json")[2] == b'{"hidden": 32}\n'

    status, h, body = raw(hub.endpoint, "GET", f"/{REPO}/resolve/main/nope.txt")
    assert (status, h["X-Error-Code"], h["X-Repo-Commit"]) == (404, "EntryNotFound", c2)
    assert "error" in json.loads(body)
    status, h, body = raw(hub.endpoint, "GET", f"/{REPO}/resolve/nope/config.json")
    assert (status, h["X-Error-Code"], "X-Repo-Commit" in h) == (404, "RevisionNotFound", False)
    status, h, body = raw(hub.endpoint, "GET", "/api/unknown/route")
    assert status == 404 and "X-Error-Code" not in h and json.loads(body)["error"]
    hub.fail_with(500, times=1)
    status, h, body = raw(hub.endpoint, "GET", f"/api/models/{REPO}")
    assert (status, h["Retry-After"], "X-Error-Code" in h, json.loads(body)["error"]) == (
        500,
        "0",
        False,
        "Injected failure (HTTP 500)",
    )
    status, _, body = raw(hub.endpoint, "GET", f"/api/models/{REPO}/commits/main?expand[]=formatted")
    assert status == 200 and json.loads(body)[0]["formatted"]["title"] == "Bigger"


def test_server_sees_pushes_and_runs_as_a_module(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = HubStore(root)
    store.create_repo(REPO)
    first = store.commit(REPO, {"a.txt": b"1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "testing.hubserver", "--root", str(root)],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert set(info) == {"endpoint", "cdn"} and info["endpoint"] != info["cdn"]
        sha = lambda: json.loads(raw(info["endpoint"], "GET", f"/api/models/{REPO}")[2])["sha"]  # noqa: E731
        assert sha() == first
        second = HubStore(root).commit(REPO, {"b.txt": b"2"})  # another writer, server in another process
        assert sha() == second
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
