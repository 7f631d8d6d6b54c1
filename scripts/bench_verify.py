#!/usr/bin/env python
"""Benchmark `linker verify`.

1. `verify --full` over a few GiB of blobs (default 2 GiB in 8 files of 4 models), beside, in the same run,
   coreutils `sha256sum` over the same files. Goal: verify --full <= 0.6x the sha256sum time (it hashes on every
   core; sha256sum is one process). Both run with the files in the page cache (one warm-up run each).
   Then `sync --verify-hashes` over the same blobs: cold (the memory of verified blobs emptied before each run),
   goal <= 1.1x `verify --full --rehash`; and repeated (every blob remembered), goal <= 1.5x the no-op sync floor
   (a bare Python process that loads the lock and stats every view path).
2. Fast `verify` on a 1000-model lock, beside the floor of scripts/bench_sync.py: a bare Python process that loads
   the same lockfile with yaml's C loader and lstat()s the same view paths. Goal: <= 1.5x the floor.

Every timing is a fresh process, best of --repeat.

    .venv/bin/python scripts/bench_verify.py [--gib 2] [--files 8] [--models 1000] [--repeat 3] [--skip-full]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sync import FLOOR, build_global_cache, timed, write_lock

CHUNK = 8 << 20


def build_big_cache(g: Path, total: int, nfiles: int) -> tuple[list[dict], list[Path]]:
    """`nfiles` random LFS blobs of total/nfiles bytes, two per model, laid out as huggingface_hub does."""
    entries: list[dict] = []
    blobs: list[Path] = []
    size = total // nfiles
    per_model = 2
    for m in range((nfiles + per_model - 1) // per_model):
        repo_id = f"bench/big-{m}"
        commit = hashlib.sha1(b"big %d" % m).hexdigest()
        repo = g / ("models--" + repo_id.replace("/", "--"))
        snap = repo / "snapshots" / commit
        snap.mkdir(parents=True)
        (repo / "blobs").mkdir()
        locked = {}
        for k in range(min(per_model, nfiles - m * per_model)):
            tmp = repo / "blobs" / f"tmp-{k}"
            h = hashlib.sha256()
            with open(tmp, "wb") as f:
                left = size
                while left:
                    chunk = os.urandom(min(CHUNK, left))
                    h.update(chunk)
                    f.write(chunk)
                    left -= len(chunk)
            etag = h.hexdigest()
            blob = repo / "blobs" / etag
            os.replace(tmp, blob)
            name = f"model-{k:05d}.safetensors"
            os.symlink(f"../../blobs/{etag}", snap / name)
            locked[name] = {"size": size, "hash": etag}
            blobs.append(blob)
        entries.append({"id": repo_id, "revision": commit, "_files": locked})
    return entries, blobs


def bench_full(args: argparse.Namespace, linker: list[str]) -> None:
    total = int(args.gib * (1 << 30))
    with tempfile.TemporaryDirectory(prefix="bench-verify-full-") as tmp:
        root = Path(tmp)
        g, project = root / "global" / "hub", root / "project"
        project.mkdir(parents=True)
        t0 = time.perf_counter()
        entries, blobs = build_big_cache(g, total, args.files)
        write_lock(project, entries, files_in_lock=True)
        env = _env(root, g)
        timed([*linker, "sync"], project, env)
        print(
            f"built {len(blobs)} blobs, {total / (1 << 30):.2f} GiB, in {time.perf_counter() - t0:.1f}s; "
            f"{os.cpu_count()} cores"
        )
        sha256sum = ["sha256sum", *map(str, blobs)]
        timed(sha256sum, project, env)  # warm the page cache
        verify: list[float] = []
        coreutils: list[float] = []
        for _ in range(args.repeat):
            verify.append(timed([*linker, "verify", "--full", "--rehash"], project, env))
            coreutils.append(timed(sha256sum, project, env))
        v, c = min(verify), min(coreutils)
        gib = total / (1 << 30)
        print(f"sha256sum (coreutils)  {c:6.2f} s  {gib / c:5.2f} GiB/s")
        ratio = v / c
        print(
            f"linker verify --full   {v:6.2f} s  {gib / v:5.2f} GiB/s  = {ratio:4.2f}x sha256sum  "
            f"goal <= 0.6x: {'met' if ratio <= 0.6 else 'MISSED'}"
        )
        bench_verify_hashes(args, linker, project, env, v)


def _forget_verified(project: Path) -> None:
    path = project / "models_cache" / ".locks" / "linker-manifest.json"
    doc = json.loads(path.read_text())
    doc.pop("verified", None)
    path.write_text(json.dumps(doc))


def bench_verify_hashes(args: argparse.Namespace, linker: list[str], project: Path, env: dict, full: float) -> None:
    """`sync --verify-hashes` cold (memory emptied) against `verify --full`; repeated against the no-op floor."""
    cold: list[float] = []
    for _ in range(args.repeat):
        _forget_verified(project)
        cold.append(timed([*linker, "sync", "--verify-hashes"], project, env))
    repeated, floor, noop = [], [], []
    lock, view = project / "project_cache.yaml", project / "models_cache"
    for _ in range(args.repeat):
        repeated.append(timed([*linker, "sync", "--verify-hashes"], project, env))
        floor.append(timed([sys.executable, "-c", FLOOR, str(lock), str(view)], project, env))
        noop.append(timed([*linker, "sync"], project, env))
    c, r, fl, no = min(cold), min(repeated), min(floor), min(noop)
    print(
        f"sync --verify-hashes, cold   {c:6.2f} s  = {c / full:4.2f}x verify --full  "
        f"goal <= 1.1x: {'met' if c / full <= 1.1 else 'MISSED'}"
    )
    print(
        f"sync --verify-hashes, again  {r * 1000:6.1f} ms  = {r / fl:4.2f}x no-op floor ({fl * 1000:.1f} ms)  "
        f"goal <= 1.5x: {'met' if r / fl <= 1.5 else 'MISSED'}"
    )
    print(f"  (a no-op `linker sync` without hashes: {no * 1000:.1f} ms; the repeat is {r / no:4.2f}x that)")


def bench_fast(args: argparse.Namespace, linker: list[str]) -> None:
    for files_in_lock in (True, False):
        with tempfile.TemporaryDirectory(prefix="bench-verify-fast-") as tmp:
            root = Path(tmp)
            g, project = root / "global" / "hub", root / "project"
            project.mkdir(parents=True)
            entries = build_global_cache(g, args.models)
            lock = write_lock(project, entries, files_in_lock)
            env = _env(root, g)
            timed([*linker, "sync"], project, env)
            view = project / "models_cache"
            cold = timed([*linker, "sync", "--verify-hashes"], project, env)
            again = min(timed([*linker, "sync", "--verify-hashes"], project, env) for _ in range(args.repeat))
            fast, full_floor = [], []
            for _ in range(args.repeat):
                fast.append(timed([*linker, "verify"], project, env))
                full_floor.append(timed([sys.executable, "-c", FLOOR, str(lock), str(view)], project, env))
            f, fl = min(fast), min(full_floor)
            ratio = f / fl
            how = "files map in the lock" if files_in_lock else "no files map (file list from the view manifest)"
            print(f"{args.models} models x 15 files, {how}:")
            print(f"  floor (C yaml load + lstat of the view paths) {fl * 1000:7.1f} ms")
            print(
                f"  linker verify                                {f * 1000:7.1f} ms  = {ratio:4.2f}x floor  "
                f"goal <= 1.5x: {'met' if ratio <= 1.5 else 'MISSED'}"
            )
            print(f"  linker sync --verify-hashes, cold            {cold * 1000:7.1f} ms")
            print(
                f"  linker sync --verify-hashes, repeated        {again * 1000:7.1f} ms  = {again / fl:4.2f}x floor  "
                f"goal <= 1.5x: {'met' if again / fl <= 1.5 else 'MISSED'}"
            )


def _env(root: Path, g: Path) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_CACHE": str(g), "HOME": str(root), "HF_HOME": str(root / "hf"), "HF_HUB_OFFLINE": "1"}
    env.pop("LINKER_LINK_MODE", None)
    return env


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=float, default=2.0, help="total size of the blobs for verify --full")
    ap.add_argument("--files", type=int, default=8, help="number of blobs for verify --full")
    ap.add_argument("--models", type=int, default=1000, help="models in the lock for fast verify")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-fast", action="store_true")
    args = ap.parse_args()
    if shutil.which("sha256sum") is None and not args.skip_full:
        print("sha256sum (coreutils) not found: skipping the --full comparison")
        args.skip_full = True
    linker = [sys.executable, "-m", "linker"]
    if not args.skip_full:
        bench_full(args, linker)
    if not args.skip_fast:
        bench_fast(args, linker)
    return 0


if __name__ == "__main__":
    sys.exit(main())
