#!/usr/bin/env python
"""Benchmark `linker sync` on a large lock: N models x 15 files (N=1000 by default).

Times, each in a fresh process and best of --repeat: a cold sync (empty view), a no-op sync and `sync --check`;
beside them, in the same run, a floor: a bare Python process that loads the same lockfile with yaml's C loader
and lstat()s the same view paths. Goals: no-op `sync --check` <= 1.5x the floor; cold sync <= 3x the floor.

    .venv/bin/python scripts/bench_sync.py [--models 1000] [--repeat 5] [--files-in-lock]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES_PER_MODEL = 15
FLOOR = r"""
import os, sys, yaml
lock = yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)
view = sys.argv[2]
n = 0
for m in lock["models"]:
    repo = os.path.join(view, "models--" + m["id"].replace("/", "--"))
    snap = os.path.join(repo, "snapshots", m["revision"])
    for name in os.listdir(snap):
        os.lstat(os.path.join(snap, name))
        n += 1
    os.lstat(os.path.join(repo, "refs", "main"))
print(n)
"""
# The physical limit of a cold sync: a bare Python process creating the same directories and the same two
# symlinks per file (snapshot link + blob link) that the view needs, with no planning at all.
WRITE_FLOOR = r"""
import os, sys, yaml
lock = yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)
g, out = sys.argv[2], sys.argv[3]
for m in lock["models"]:
    folder = "models--" + m["id"].replace("/", "--")
    src = os.path.join(g, folder, "snapshots", m["revision"])
    snap = os.path.join(out, folder, "snapshots", m["revision"])
    blobs = os.path.join(out, folder, "blobs")
    os.makedirs(snap)
    os.mkdir(blobs)
    for name in os.listdir(src):
        etag = os.readlink(os.path.join(src, name)).rsplit("/", 1)[1]
        os.symlink(os.path.join(g, folder, "blobs", etag), os.path.join(blobs, etag))
        os.symlink("../../blobs/" + etag, os.path.join(snap, name))
"""


def model_files(i: int) -> dict[str, bytes]:
    files = {f"file_{k:02d}.json": f'{{"model": {i}, "file": {k}}}'.encode() for k in range(FILES_PER_MODEL - 1)}
    files["model.safetensors"] = hashlib.sha256(b"weights %d" % i).digest() * 64
    return files


def build_global_cache(g: Path, n: int) -> list[dict]:
    """Lay out n repos as huggingface_hub 2.4 does (blobs, refs, relative links, trees); return lock entries."""
    entries = []
    for i in range(n):
        repo_id = f"org{i % 50}/model-{i}"
        commit = hashlib.sha1(b"commit %d" % i).hexdigest()
        repo = g / ("models--" + repo_id.replace("/", "--"))
        (repo / "refs").mkdir(parents=True)
        (repo / "blobs").mkdir()
        snap = repo / "snapshots" / commit
        snap.mkdir(parents=True)
        (repo / "refs" / "main").write_text(commit)
        tree, locked = {}, {}
        for path, data in model_files(i).items():
            lfs = path.endswith(".safetensors")
            etag = (
                hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
            )
            (repo / "blobs" / etag).write_bytes(data)
            os.symlink(f"../../blobs/{etag}", snap / path)
            tree[path] = {
                "size": len(data),
                "blob_id": etag,
                **({"lfs_sha256": etag, "lfs_size": len(data)} if lfs else {}),
            }
            locked[path] = {"size": len(data), "hash": etag}
        (repo / "trees").mkdir()
        (repo / "trees" / f"{commit}.json").write_text(json.dumps({"format_version": 1, "files": tree}))
        entries.append({"id": repo_id, "revision": commit, "_files": locked})
    return entries


def write_lock(project: Path, entries: list[dict], files_in_lock: bool) -> Path:
    import yaml

    models = []
    for e in entries:
        m = {"id": e["id"], "revision": e["revision"]}
        if files_in_lock:
            m["files"] = e["_files"]
        models.append(m)
    path = project / "project_cache.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "models": models}, sort_keys=False))
    return path


def timed(cmd: list[str], cwd: Path, env: dict[str, str], expect: int = 0) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != expect:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--files-in-lock", action="store_true", help="lock entries carry `files` (as `linker lock` writes)")
    args = ap.parse_args()
    linker = [sys.executable, "-m", "linker"]
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        g, project = root / "global" / "hub", root / "project"
        project.mkdir(parents=True)
        t0 = time.perf_counter()
        entries = build_global_cache(g, args.models)
        lock = write_lock(project, entries, args.files_in_lock)
        print(f"built {args.models} models x {FILES_PER_MODEL} files in {time.perf_counter() - t0:.1f}s "
              f"(files map in lock: {args.files_in_lock})")  # fmt: skip
        env = {**os.environ, "HF_HUB_CACHE": str(g), "HOME": str(root), "HF_HOME": str(root / "hf")}
        env.pop("LINKER_LINK_MODE", None)
        view = project / "models_cache"
        cold, noop, check, floor, write_floor = [], [], [], [], []
        scratch = root / "write-floor"

        def settle() -> None:
            """Deletions (with `discard`) slow the next inode creations: flush and let the disk settle first."""
            os.sync()
            time.sleep(2)

        for _ in range(args.repeat):
            shutil.rmtree(scratch, ignore_errors=True)
            settle()
            write_floor.append(
                timed([sys.executable, "-c", WRITE_FLOOR, str(lock), str(g), str(scratch)], project, env)
            )
            shutil.rmtree(view, ignore_errors=True)
            for ref_dir in g.glob("*/refs/linker"):
                shutil.rmtree(ref_dir)
            settle()
            cold.append(timed([*linker, "sync"], project, env))
            noop.append(timed([*linker, "sync"], project, env))
            check.append(timed([*linker, "sync", "--check"], project, env))
            floor.append(timed([sys.executable, "-c", FLOOR, str(lock), str(view)], project, env))
        runs = (("cold", cold), ("noop", noop), ("check", check), ("floor", floor), ("write", write_floor))
        best = {name: min(v) for name, v in runs}
        print(f"floor (C yaml load + lstat of the view paths): {best['floor'] * 1000:7.1f} ms")
        print(f"write floor (bare mkdir + 2 symlinks per file): {best['write'] * 1000:7.1f} ms "
              f"= {best['write'] / best['floor']:.2f}x floor: the disk's inode-creation cost")  # fmt: skip
        for name, goal in (("cold", 3.0), ("noop", None), ("check", 1.5)):
            ratio = best[name] / best["floor"]
            verdict = "" if goal is None else (f"  goal <= {goal}x: " + ("met" if ratio <= goal else "MISSED"))
            label = {"cold": "cold sync", "noop": "no-op sync", "check": "no-op sync --check"}[name]
            extra = f" ({best[name] / best['write']:.2f}x the write floor)" if name == "cold" else ""
            print(f"{label:<20} {best[name] * 1000:7.1f} ms  = {ratio:4.2f}x floor{verdict}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
