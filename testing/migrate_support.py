"""Helpers shared by the `linker migrate` tests: run it, read its JSON, prove no byte was lost, load the result
with the real huggingface_hub."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from testing.cachefactory import repo_folder_name
from testing.cachefactory import sha256_hex as sha
from testing.hfprobe import load_file


def migrate(project: Any, *args: str, env: dict[str, str] | None = None, offline: bool = True) -> dict[str, Any]:
    """Run `linker migrate ARGS --json` (offline unless told) and return its document plus `rc` and `stderr`."""
    argv = ["migrate", *args, "--json"] + (["--offline"] if offline else [])
    proc = project.linker(*argv, env=env)
    try:
        doc = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError(f"no JSON on stdout (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}") from exc
    doc["rc"], doc["stderr"] = proc.returncode, proc.stderr
    return doc


def run(project: Any, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return project.linker(*args, env=env)


def item_of(doc: dict[str, Any], repo_id: str) -> dict[str, Any]:
    for it in doc["items"]:
        if it["repo_id"] == repo_id:
            return it
    raise AssertionError(f"{repo_id} not in {[i['repo_id'] for i in doc['items']]}: {doc['problems']}")


def lock_items(project: Any, doc: dict[str, Any], *, extra: list[dict[str, Any]] | None = None) -> None:
    """Write a lockfile pinning what migrate reported (what `--lock` does, without depending on it)."""
    models = []
    for it in doc["items"]:
        entry: dict[str, Any] = {"id": it["repo_id"], "revision": it["revisions"][0]}
        if it["local"]:
            entry["local"] = True
        models.append(entry)
    project.write_lock(models + (extra or []))


def sync_and_load(project: Any, repo_id: str, files: dict[str, bytes], *, paths: list[str] | None = None) -> None:
    """`linker sync`, then the real huggingface_hub, offline with an empty HF_HOME, reads the original bytes."""
    proc = project.linker("sync", "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for path in paths or sorted(files):
        got = load_file(project.view, repo_id, path)
        assert got == files[path], f"{repo_id}/{path}: {got if isinstance(got, str) else 'other bytes'}"


def tree_digests(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every regular file under root (links are not followed)."""
    out = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISREG(st.st_mode):
                out[p.relative_to(root).as_posix()] = sha(p.read_bytes())
    return out


def reachable_contents(*roots: Path) -> set[str]:
    """sha256 of every regular file under the roots."""
    out: set[str] = set()
    for root in roots:
        out.update(tree_digests(root).values())
    return out


def global_snapshot(global_cache: Path, repo_id: str, revision: str) -> dict[str, bytes]:
    """The files of a snapshot in the global cache, read through their links."""
    folder = global_cache / repo_folder_name(repo_id) / "snapshots" / revision
    out = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = p.read_bytes()
    return out


def snapshot_links(global_cache: Path, repo_id: str, revision: str) -> dict[str, str]:
    folder = global_cache / repo_folder_name(repo_id) / "snapshots" / revision
    out = {}
    for dirpath, _dirs, names in os.walk(folder):
        for name in names:
            p = Path(dirpath) / name
            out[p.relative_to(folder).as_posix()] = os.readlink(p)
    return out


def json_dump(data: Any) -> str:
    return json.dumps(data, indent=1, default=str)


def crash_migrate_after(monkeypatch: Any, blobs: int) -> None:
    """Make an in-process migrate die (KeyboardInterrupt, as from a kill) after placing `blobs` blobs."""
    from linker.migrate import executor

    real, calls = executor.Executor.blob, []

    def crash(self: Any, item: Any, op: Any) -> bool:
        calls.append(op)
        if len(calls) > blobs:
            raise KeyboardInterrupt  # the process dies here
        return real(self, item, op)

    monkeypatch.setattr(executor.Executor, "blob", crash)
