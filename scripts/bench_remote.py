"""Benchmark `linker verify --remote` and a cold `linker sync` against the local Hub with a per-request latency.

Case "verify": builds N repos (default 200) on a local Hub server that sleeps LATENCY (default 50 ms) before every
answer, writes a lock pinning them all (with `files`), then times, each in a fresh process and in the same run:

* `linker verify --remote` (default pool of 8; also --jobs 16 for reference), which checks repo, revision and
  every locked file's size and hash;
* the floor it is compared with: a sequential loop of `HfApi().model_info(repo, revision=sha)` over the same
  entries (which checks only that the revision exists).

Goal: verify --remote at least 6x faster than the sequential loop.

Case "sync": a lock of M small models (default 50, 3 tiny files each), the same latency; times `linker sync` with a
cold global cache and a new view, in a fresh process, with the default pool of entries and with
`LINKER_FETCH_JOBS=1` (one entry after the other, the loop sync had before the pool). The server sends each
answer at once (TCP_NODELAY), so the latency added is exactly LATENCY. Goal: the pool takes at most
1/4 of the time of the sequential loop.

Nothing touches the real Hub or ~/.cache.

    .venv/bin/python scripts/bench_remote.py [--case verify|sync|all] [--entries 200] [--sync-entries 50]
        [--latency 0.05] [--runs 3] [--sync-runs 5]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testing.hubserver import HubServer, HubStore  # noqa: E402
from testing.hubserver.pytest_plugin import make_hub_env  # noqa: E402

SEQUENTIAL = """
import json, sys
from huggingface_hub import HfApi
api = HfApi()
for repo, sha in json.load(open(sys.argv[1])):
    api.model_info(repo, revision=sha)
"""


def build(store: HubStore, n: int) -> list[tuple[str, str, dict]]:
    out = []
    for i in range(n):
        repo = f"bench/model-{i:04d}"
        store.create_repo(repo)
        files = {
            "config.json": json.dumps({"model_type": "bert", "i": i}).encode(),
            "README.md": f"# model {i}\n".encode(),
            "model.safetensors": bytes([i % 256]) * 512,
        }
        sha = store.commit(repo, files)
        locked = {p: {"size": fi.size, "hash": fi.etag} for p, fi in store.files_at(repo, sha).items()}
        out.append((repo, sha, locked))
    return out


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return elapsed


def write_lock(project: Path, repos: list[tuple[str, str, dict]]) -> None:
    import yaml

    project.mkdir(parents=True)
    lock = {"version": 1, "models": [{"id": r, "revision": s, "files": f} for r, s, f in repos]}
    (project / "project_cache.yaml").write_text(yaml.safe_dump(lock, sort_keys=False))


def verify_case(args: argparse.Namespace, tmp_path: Path) -> bool:
    store = HubStore(tmp_path / "store")
    t0 = time.perf_counter()
    repos = build(store, args.entries)
    print(f"built {args.entries} repos on the local Hub in {time.perf_counter() - t0:.1f}s")
    project = tmp_path / "project"
    write_lock(project, repos)
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps([[r, s] for r, s, _ in repos]))

    with HubServer(store, latency=args.latency) as server:
        env = make_hub_env(server.endpoint, tmp_path / "hf-home")
        env["HF_HUB_CACHE"] = str(tmp_path / "global")
        env.pop("PYTHONPATH", None)
        linker = [sys.executable, "-m", "linker", "verify", "--remote"]
        results: dict[str, float] = {}
        for name, cmd in (
            ("verify --remote (8 jobs)", linker),
            ("verify --remote --jobs 16", [*linker, "--jobs", "16"]),
            ("sequential model_info loop", [sys.executable, "-c", SEQUENTIAL, str(pairs)]),
        ):
            results[name] = min(timed(cmd, env, project) for _ in range(args.runs))
        server.clear_log()
        timed(linker, env, project)
        requests = len(server.requests)

    floor = results["sequential model_info loop"]
    print(
        f"\n{args.entries} entries, {args.latency * 1000:.0f} ms latency per request, best of {args.runs}, "
        f"fresh processes (interpreter start included)"
    )
    for name, secs in results.items():
        ratio = f"{floor / secs:5.1f}x faster" if secs != floor else "   (floor)"
        print(f"  {name:<28} {secs:7.2f} s  {ratio}")
    print(f"  requests made by verify --remote: {requests} ({requests / args.entries:.1f} per entry)")
    goal = floor / results["verify --remote (8 jobs)"]
    ok = goal >= 6
    print(f"\ngoal >= 6x with the default pool: {goal:.1f}x {'OK' if ok else 'MISSED'}")
    return ok


def sync_case(args: argparse.Namespace, tmp_path: Path) -> bool:
    store = HubStore(tmp_path / "sync-store")
    t0 = time.perf_counter()
    repos = build(store, args.sync_entries)
    print(f"built {args.sync_entries} repos on the local Hub in {time.perf_counter() - t0:.1f}s")
    lock_dir = tmp_path / "sync-lock"
    write_lock(lock_dir, repos)
    runs = iter(range(1_000_000))

    def cold_sync(env: dict[str, str]) -> float:
        """`linker sync` in a new project folder (no view) with an empty global cache."""
        n = next(runs)
        project = tmp_path / f"sync-{n}"
        project.mkdir()
        shutil.copy(lock_dir / "project_cache.yaml", project / "project_cache.yaml")
        secs = timed(
            [sys.executable, "-m", "linker", "sync"], {**env, "HF_HUB_CACHE": str(tmp_path / f"g-{n}")}, project
        )
        shutil.rmtree(project)
        shutil.rmtree(tmp_path / f"g-{n}")
        return secs

    # nodelay: each answer is sent at once, so the added latency is exactly LATENCY (not LATENCY plus a delayed ACK)
    with HubServer(store, latency=args.latency, nodelay=True) as server:
        env = make_hub_env(server.endpoint, tmp_path / "sync-hf-home")
        env.pop("PYTHONPATH", None)
        env.pop("LINKER_FETCH_JOBS", None)
        cases = {"sync (default pool)": env, "sync, LINKER_FETCH_JOBS=1": {**env, "LINKER_FETCH_JOBS": "1"}}
        results: dict[str, float] = {name: float("inf") for name in cases}
        for _ in range(args.sync_runs):  # interleaved, so a busy moment of the machine hurts both alike
            for name, case_env in cases.items():
                results[name] = min(results[name], cold_sync(case_env))
        server.clear_log()
        cold_sync(env)
        requests = len(server.requests)

    floor = results["sync, LINKER_FETCH_JOBS=1"]
    print(
        f"\ncold sync of {args.sync_entries} models x 3 files, {args.latency * 1000:.0f} ms latency per request, "
        f"best of {args.sync_runs}, fresh processes (interpreter start included)"
    )
    for name, secs in results.items():
        ratio = f"{secs / floor:5.2f}x the sequential time" if secs != floor else "   (sequential loop)"
        print(f"  {name:<28} {secs:7.2f} s  {ratio}")
    print(f"  requests made by one sync: {requests} ({requests / args.sync_entries:.1f} per entry)")
    share = results["sync (default pool)"] / floor
    ok = share <= 0.25
    print(f"\ngoal <= 1/4 of the sequential loop with the default pool: {share:.2f} {'OK' if ok else 'MISSED'}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--case", choices=("verify", "sync", "all"), default="all")
    ap.add_argument("--entries", type=int, default=200, help="repos of the verify case")
    ap.add_argument("--sync-entries", type=int, default=50, help="repos of the sync case")
    ap.add_argument("--latency", type=float, default=0.05, help="seconds added to every request")
    ap.add_argument("--runs", type=int, default=3, help="best of N for each measurement of the verify case")
    ap.add_argument("--sync-runs", type=int, default=5, help="best of N for each measurement of the sync case")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp:
        if args.case in ("verify", "all"):
            verify_case(args, Path(tmp))
        if args.case == "all":
            print()
        if args.case in ("sync", "all"):
            sync_case(args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
