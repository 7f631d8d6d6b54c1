#!/usr/bin/env python
"""Benchmark `linker sync` on large locks: N models x 15 files, for each N of --models (default 1000).

Times, each in a fresh process and best of --repeat (at most --large-repeat above 2,000 models): a cold sync (empty
view), a no-op sync and `sync --check`; beside them, in the same run, two floors: the read floor, a bare Python
process that loads the same lockfile with yaml's C loader and lstat()s the same view paths; and the write floor,
a bare single-threaded Python loop that makes the same directories and symlinks. Goals: cold sync <= 1.0x the write
floor; no-op `sync --check` <= 1.5x the read floor; with several sizes, the check at the largest within
(largest/smallest)x its time at the smallest (linear).

The global cache is built once, for the largest N, by every core; each size's lock pins its first N models.
Commands run with byte-compiled modules (PYTHONDONTWRITEBYTECODE is dropped, one warm-up run writes them), as an
installed linker has them.

    .venv/bin/python scripts/bench_sync.py [--models 1000,10000] [--repeat 5] [--files-in-lock] [--no-trees]
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
from concurrent.futures import ProcessPoolExecutor
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


def build_model(g: str, i: int, trees: bool = True) -> dict:
    """Lay out model i as huggingface_hub 2.4 does (blobs, refs, relative links, trees); return its lock entry."""
    repo_id = f"org{i % 50}/model-{i}"
    commit = hashlib.sha1(b"commit %d" % i).hexdigest()
    repo = f"{g}/models--{repo_id.replace('/', '--')}"
    snap = f"{repo}/snapshots/{commit}"
    os.makedirs(snap)
    os.mkdir(f"{repo}/refs")
    os.mkdir(f"{repo}/blobs")
    with open(f"{repo}/refs/main", "w") as f:
        f.write(commit)
    tree, locked = {}, {}
    for path, data in model_files(i).items():
        lfs = path.endswith(".safetensors")
        etag = hashlib.sha256(data).hexdigest() if lfs else hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        with open(f"{repo}/blobs/{etag}", "wb") as f:
            f.write(data)
        os.symlink(f"../../blobs/{etag}", f"{snap}/{path}")
        lfs_fields = {"lfs_sha256": etag, "lfs_size": len(data)} if lfs else {}
        tree[path] = {"size": len(data), "blob_id": etag, **lfs_fields}
        locked[path] = {"size": len(data), "hash": etag}
    if trees:
        os.mkdir(f"{repo}/trees")
        with open(f"{repo}/trees/{commit}.json", "w") as f:
            f.write(json.dumps({"format_version": 1, "files": tree}))
    return {"id": repo_id, "revision": commit, "_files": locked}


def _build_range(g: str, start: int, stop: int, trees: bool) -> list[dict]:
    return [build_model(g, i, trees) for i in range(start, stop)]


def build_global_cache(g: Path, n: int, trees: bool = True) -> list[dict]:
    """Lay out n repos in the global cache `g`, in chunks on every core; return their lock entries in order."""
    g.mkdir(parents=True, exist_ok=True)
    workers = os.cpu_count() or 1
    if n < 200 or workers == 1:
        return _build_range(str(g), 0, n, trees)
    step = max(100, n // (workers * 8))
    chunks = [(i, min(i + step, n)) for i in range(0, n, step)]
    with ProcessPoolExecutor(workers) as pool:
        starts, stops = [c[0] for c in chunks], [c[1] for c in chunks]
        parts = pool.map(_build_range, [str(g)] * len(chunks), starts, stops, [trees] * len(chunks))
        return [e for part in parts for e in part]


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


def settle() -> None:
    """Deletions (with `discard`) slow the next inode creations: flush and let the disk settle first."""
    os.sync()
    time.sleep(2)


def bench_size(n: int, entries: list[dict], root: Path, g: Path, args: argparse.Namespace) -> dict[str, float]:
    """Best times of one size: cold, noop, check, the read floor and the write floor (seconds)."""
    project = root / f"project-{n}"
    project.mkdir()
    lock = write_lock(project, entries[:n], args.files_in_lock)
    env = {**os.environ, "HF_HUB_CACHE": str(g), "HOME": str(root), "HF_HOME": str(root / "hf")}
    env.pop("LINKER_LINK_MODE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    linker = [sys.executable, "-m", "linker"]
    timed([*linker, "--version"], project, env)  # writes the byte-compiled modules, if they are not there yet
    view, scratch = project / "models_cache", root / f"write-floor-{n}"
    runs: dict[str, list[float]] = {"cold": [], "noop": [], "check": [], "floor": [], "write": []}
    repeat = args.repeat if n <= 2000 else min(args.repeat, args.large_repeat)
    for _ in range(repeat):
        shutil.rmtree(scratch, ignore_errors=True)
        settle()
        runs["write"].append(timed([sys.executable, "-c", WRITE_FLOOR, str(lock), str(g), str(scratch)], project, env))
        shutil.rmtree(view, ignore_errors=True)
        for ref_dir in g.glob("*/refs/linker"):
            shutil.rmtree(ref_dir)
        settle()
        runs["cold"].append(timed([*linker, "sync"], project, env))
        runs["noop"].append(timed([*linker, "sync"], project, env))
        for _ in range(3):  # the cheap ones: a few more tries against the machine's noise
            runs["check"].append(timed([*linker, "sync", "--check"], project, env))
            runs["floor"].append(timed([sys.executable, "-c", FLOOR, str(lock), str(view)], project, env))
    shutil.rmtree(scratch, ignore_errors=True)
    shutil.rmtree(view, ignore_errors=True)
    for ref_dir in g.glob("*/refs/linker"):
        shutil.rmtree(ref_dir)
    return {name: min(v) for name, v in runs.items()}


def report(n: int, best: dict[str, float]) -> None:
    fl, wf = best["floor"], best["write"]
    print(f"{n} models x {FILES_PER_MODEL} files:")
    print(f"  read floor (C yaml load + lstat of the view paths): {fl * 1000:8.1f} ms")
    print(f"  write floor (bare mkdir + 2 symlinks per file):     {wf * 1000:8.1f} ms = {wf / fl:.2f}x read floor")
    cold = best["cold"] / wf
    print(f"  cold sync           {best['cold'] * 1000:8.1f} ms = {cold:4.2f}x write floor  goal <= 1.0x: "
          f"{'met' if cold <= 1.0 else 'MISSED'}")  # fmt: skip
    print(f"  no-op sync          {best['noop'] * 1000:8.1f} ms = {best['noop'] / fl:4.2f}x read floor")
    check = best["check"] / fl
    print(f"  no-op sync --check  {best['check'] * 1000:8.1f} ms = {check:4.2f}x read floor   goal <= 1.5x: "
          f"{'met' if check <= 1.5 else 'MISSED'}")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="1000", help="comma-separated sizes, e.g. 1000,10000")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--large-repeat", type=int, default=2, help="repeats above 2,000 models (each takes minutes)")
    ap.add_argument("--files-in-lock", action="store_true", help="lock entries carry `files` (as `linker lock` writes)")
    ap.add_argument("--no-trees", action="store_true", help="no trees/<sha>.json: every entry's file list unproven")
    args = ap.parse_args()
    sizes = sorted({int(s) for s in args.models.split(",")})
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        g = root / "global" / "hub"
        t0 = time.perf_counter()
        entries = build_global_cache(g, sizes[-1], trees=not args.no_trees)
        print(f"built {sizes[-1]} models x {FILES_PER_MODEL} files in {time.perf_counter() - t0:.1f}s on "
              f"{os.cpu_count()} cores (files map in lock: {args.files_in_lock}; trees/: {not args.no_trees}); "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        results = {}
        for n in sizes:
            results[n] = bench_size(n, entries, root, g, args)
            report(n, results[n])
        if len(sizes) > 1:
            small, big = sizes[0], sizes[-1]
            scale, goal = results[big]["check"] / results[small]["check"], big / small
            print(f"no-op sync --check at {big} / at {small}: {scale:.2f}x  goal <= {goal:g}x (linear): "
                  f"{'met' if scale <= goal else 'MISSED'}")  # fmt: skip
        print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
