"""`linker cache move` killed (kill -9) at random instants: nothing is lost, and a rerun converges to the moved
cache with the project's view relinked (issue 13)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from linker.hfcache import move_journal_path
from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from testing.fsfaults import linker_cmd
from testing.hfprobe import load_file, scan
from testing.migrate_support import reachable_contents, tree_digests
from tests.conftest import Project

ROOT = Path(__file__).resolve().parent.parent
REV = fake_commit("kill", 1)
STORED = fake_commit("kill", 2)


def _content(cache: Path) -> dict[str, str]:
    return {k: v for k, v in tree_digests(cache).items() if not k.endswith(".lock")}


def _template(root: Path) -> tuple[Path, Path, dict[str, bytes]]:
    """A global cache (a repo of many files, one in the shared store) and a project pinning both (synced in each
    copy, so that the record of projects names the copy)."""
    rng = random.Random(7)
    files = tiny_model_files("st", seed=3)
    for i in range(100):
        files[f"shards/part-{i:03d}.json"] = rng.randbytes(rng.randint(100, 4000))
    files["weights.bin"] = rng.randbytes(2 * 1024 * 1024)
    g = root / "global" / "hub"
    build_repo(g, "org/many", {REV: files})
    build_repo(g, "org/stored", {STORED: tiny_model_files("bert", seed=4)}, shared_store=True)
    project = Project(root / "proj", g)
    project.root.mkdir(parents=True)
    project.write_lock([{"id": "org/many", "revision": REV}, {"id": "org/stored", "revision": STORED}])
    return g, project.root, files


@pytest.mark.slow
@pytest.mark.parametrize("cross_device", [False, True], ids=["rename", "exdev-copy"])
def test_kill_at_random_points_loses_nothing_and_rerun_converges(tmp_path: Path, cross_device: bool) -> None:
    template = tmp_path / "template"
    _g0, _proj0, files = _template(template)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    cmd = linker_cmd(tmp_path, cross_device)

    def args(g: Path, new: Path) -> list[str]:
        return [*cmd, "--cache-dir", str(g), "cache", "move", str(new)]

    def copy_template(run: Path) -> tuple[Path, Path, Path, dict[str, str]]:
        shutil.copytree(template, run, symlinks=True)
        g, proj = run / "global" / "hub", run / "proj"
        r = subprocess.run([*cmd, "--cache-dir", str(g), "sync", "--offline"], cwd=proj, env=env, capture_output=True)
        assert r.returncode == 0, r.stderr
        return g, proj, run / "moved" / "hub", _content(g)

    # a complete run: how long it takes
    g, proj, new, expected = copy_template(tmp_path / "ref")
    t0 = time.perf_counter()
    done = subprocess.run(args(g, new), cwd=proj, env=env, capture_output=True, text=True, timeout=120)
    duration = time.perf_counter() - t0
    assert done.returncode == 0, done.stdout + done.stderr
    assert not g.exists() and _content(new) == expected
    rng = random.Random(99 + cross_device)
    attempts = 6 if cross_device else 4
    midway = 0
    for attempt in range(attempts):
        g, proj, new, expected = copy_template(tmp_path / f"run{attempt}")
        proc = subprocess.Popen(args(g, new), cwd=proj, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 1.0) * duration)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        midway += any(move_journal_path(c).exists() for c in (g, new))
        missing = set(expected.values()) - reachable_contents(*(p for p in (g, new) if p.exists()))
        assert not missing, f"attempt {attempt}: {len(missing)} file contents lost"
        again = subprocess.run(args(g, new), cwd=proj, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, f"attempt {attempt}: " + again.stdout + again.stderr
        assert not g.exists(), f"attempt {attempt}: the old cache is still there"
        assert _content(new) == expected, f"attempt {attempt}"
        assert not list(new.rglob("*.linker-tmp")), f"attempt {attempt}: temp files left"
        view = proj / "models_cache" / "models--org--many" / "snapshots" / REV
        for name in ("weights.bin", "shards/part-007.json"):  # through the view's links, into the new cache
            assert (view / name).read_bytes() == files[name], f"attempt {attempt}: {name}"
    if cross_device:  # a rename's journal lives for milliseconds: on an idle machine no random kill may land in it
        assert midway >= attempts // 4, f"only {midway} kill(s) landed while the cache was moving"
    # the last run, judged by huggingface_hub itself
    assert load_file(proj / "models_cache", "org/many", "weights.bin") == files["weights.bin"]
    assert scan(new)["warnings"] == []
