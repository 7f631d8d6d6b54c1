"""Helpers shared by the Hub tests (test_hub_*.py): push tiny models to the local Hub store, write locks that
pin them, and run linker against a failing Hub with huggingface_hub's backoff made instant."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from linker.lockfile import LockedFile, load_lockfile
from testing.cachefactory import tiny_model_files
from testing.hubserver import HubStore

SHIM = Path(__file__).parent / "hub_shim"
TOKEN = "hf_LinkerTestSecretToken0123456789"  # must never appear in any output
OTHER_TOKEN = "hf_AnotherValidTokenWithoutGrants42"


def push(
    store: HubStore,
    repo_id: str,
    *,
    seed: int = 0,
    kind: str = "bert",
    repo_type: str = "model",
    private: bool = False,
    gated: bool = False,
    files: dict[str, bytes] | None = None,
    **commit: Any,
) -> str:
    """Create the repo if needed and commit a tiny model (or `files`); returns the commit sha."""
    store.create_repo(repo_id, repo_type=repo_type, private=private, gated=gated, exist_ok=True)
    return store.commit(
        repo_id, files if files is not None else tiny_model_files(kind, seed=seed), repo_type=repo_type, **commit
    )


def locked_files(store: HubStore, repo_id: str, sha: str, repo_type: str = "model") -> dict[str, dict[str, Any]]:
    """The lock's `files` map as the Hub defines it: size and blob name (sha256 for LFS, git sha1 otherwise)."""
    return {p: {"size": fi.size, "hash": fi.etag} for p, fi in store.files_at(repo_id, sha, repo_type).items()}


def entry(store: HubStore, repo_id: str, sha: str, *, files: bool = True, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"id": repo_id, "revision": sha, **extra}
    if files:
        e["files"] = locked_files(store, repo_id, sha, extra.get("type", "model"))
    return e


def lock_entries(project) -> dict[str, object]:
    """The project's lock entries by label, as linker's own strict validator loads them."""
    return {e.label: e for e in load_lockfile(project.lock_path).entries}


def as_files(d: dict[str, dict]) -> dict[str, LockedFile]:
    """A `files` map from the Hub store (`locked_files`) as the lockfile's LockedFile values."""
    return {p: LockedFile(v["size"], v["hash"]) for p, v in d.items()}


def nosleep_env(tmp: Path, base: dict[str, str]) -> dict[str, str]:
    """`base` plus the PYTHONPATH shim; sleeps are logged to tmp/sleeps.txt."""
    log = tmp / "sleeps.txt"
    path = os.pathsep.join(p for p in (str(SHIM), base.get("PYTHONPATH", "")) if p)
    return {**base, "PYTHONPATH": path, "HUB_SHIM_SLEEPS": str(log)}


def sleeps(tmp: Path) -> list[float]:
    log = tmp / "sleeps.txt"
    return [float(x) for x in log.read_text().split()] if log.exists() else []


def closed_endpoint() -> str:
    """An http endpoint on 127.0.0.1 where nothing listens (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def assert_no_secret(*texts: str) -> None:
    for t in texts:
        assert TOKEN not in t and OTHER_TOKEN not in t, "the token leaked into the output"
