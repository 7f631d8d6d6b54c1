"""Helpers for the verify / repair / doctor tests: a synced project, and the ways users break one."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from testing.cachefactory import RepoInfo, build_repo, fake_commit, repo_folder_name, sha256_hex, tiny_model_files

REV = fake_commit("repairkit", 1)
REPO = "org/tiny"


def synced(
    project: Any,
    *,
    repo_id: str = REPO,
    kind: str = "st",
    lock_files: bool = True,
    link_mode: str | None = None,
    seed: int = 1,
    revision: str = REV,
    extra_entries: list[dict] | None = None,
    **build: Any,
) -> tuple[RepoInfo, dict[str, bytes]]:
    """A global cache holding one tiny model (detached, pinned by sha), a lock pinning it, a synced view."""
    files = tiny_model_files(kind, seed=seed)
    info = build_repo(project.global_cache, repo_id, {revision: files}, refs={}, **build)
    project.write_lock([lock_entry(info, revision, lock_files), *(extra_entries or [])])
    args = ["sync"] + (["--link-mode", link_mode] if link_mode else [])
    r = project.linker(*args)
    assert r.returncode == 0, r.stdout + r.stderr
    return info, files


def lock_entry(info: RepoInfo, revision: str = REV, lock_files: bool = True) -> dict:
    e: dict[str, Any] = {"id": info.repo_id, "revision": revision}
    if lock_files:
        e["files"] = {p: {"size": fi.size, "hash": fi.etag} for p, fi in info.files[revision].items()}
    return e


def view_repo(project: Any, repo_id: str = REPO) -> Path:
    return project.view / repo_folder_name(repo_id)


def run_json(project: Any, *args: str, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[int, dict]:
    r = project.linker(*args, "--json", env=env, timeout=timeout)
    try:
        doc = json.loads(r.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - a failure message worth reading
        raise AssertionError(f"not one JSON document on stdout:\n{r.stdout}\n--- stderr ---\n{r.stderr}") from exc
    return r.returncode, doc


def kinds(doc: dict, key: str = "problems", severity: str | None = "error") -> set[tuple[str, str]]:
    """{(kind, path)} of a verify document's problems (errors only by default)."""
    return {(p["kind"], p["path"]) for p in doc[key] if severity is None or p["severity"] == severity}


def flip_byte(path: Path, offset: int = 0) -> None:
    """Corrupt a blob in place, keeping its size (bit rot, a bad copy)."""
    real = Path(os.path.realpath(path))
    mode = real.stat().st_mode
    os.chmod(real, 0o644)
    data = bytearray(real.read_bytes())
    data[offset] ^= 0xFF
    real.write_bytes(bytes(data))
    os.chmod(real, mode)


def truncate(path: Path, size: int = 10) -> None:
    real = Path(os.path.realpath(path))
    os.chmod(real, 0o644)
    with open(real, "r+b") as f:
        f.truncate(size)


def tree_state(root: Path) -> dict[str, tuple[str, str]]:
    """Every path under root -> (type, link text or content hash): to prove a dry run wrote nothing."""
    out: dict[str, tuple[str, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            if p.is_symlink():
                out[rel] = ("link", os.readlink(p))
            elif p.is_dir():
                out[rel] = ("dir", "")
            else:
                out[rel] = ("file", sha256_hex(p.read_bytes()))
    return out


def move_cache(project: Any, new: Path) -> None:
    """`mv` the global cache elsewhere; the project then points HF_HUB_CACHE at the new place."""
    shutil.move(str(project.global_cache), str(new))
    project.global_cache = new


def online_synced(
    project: Any, hub_store: Any, hub_env: dict[str, str], *, link_mode: str | None = None, kind: str = "st"
) -> tuple[str, dict[str, bytes]]:
    """Push a tiny model to the local Hub, pin it, and `linker sync` online (downloads into the global cache)."""
    from testing.hubhelpers import entry, push

    files = tiny_model_files(kind, seed=7)
    sha = push(hub_store, REPO, files=files)
    project.write_lock([entry(hub_store, REPO, sha)])
    args = ["sync"] + (["--link-mode", link_mode] if link_mode else [])
    r = project.linker(*args, env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    return sha, files


def global_blob(project: Any, etag: str, repo_id: str = REPO) -> Path:
    return project.global_cache / repo_folder_name(repo_id) / "blobs" / etag
