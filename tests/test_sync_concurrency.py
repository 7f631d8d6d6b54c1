"""`linker sync` run concurrently: the project lock, its timeout, and one project reached through two paths."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from testing.hfprobe import load_file, scan
from testing.synckit import lock_entry, two_revisions


def test_eight_concurrent_syncs_end_with_a_valid_view(project) -> None:
    two_revisions(project.global_cache)
    for i in range(3):
        build_repo(project.global_cache, f"org/m{i}", {fake_commit("m", i): tiny_model_files("bert", seed=i)})
    project.write_lock([lock_entry(), *(lock_entry(f"org/m{i}", fake_commit("m", i)) for i in range(3))])
    env = {**os.environ, "HF_HUB_CACHE": str(project.global_cache)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "linker", "sync"], cwd=project.root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _ in results), results
    assert project.linker("sync", "--check").returncode == 0
    assert scan(project.view)["warnings"] == []
    assert not [p for p in project.view.rglob("*.linker-tmp")]


def test_lock_timeout_exits_4(project) -> None:
    from filelock import FileLock

    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    lock_file = project.view / ".locks" / "linker.lock"
    lock_file.parent.mkdir(parents=True)
    with FileLock(str(lock_file)):
        r = project.linker("sync", env={"LINKER_LOCK_TIMEOUT": "0.3"})
    assert r.returncode == 4 and "project lock" in r.stderr


def test_project_reached_through_a_symlink_is_one_project(project, tmp_path: Path) -> None:
    """hub resolve()s cache_dir (pitfall 14): the view must work, and stay one project, through either path."""
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    alias = tmp_path / "alias"
    alias.symlink_to(project.root, target_is_directory=True)
    assert project.linker("sync", cwd=alias).returncode == 0
    r = project.linker("sync", cwd=project.root)
    assert r.returncode == 0 and "Already in sync" in r.stdout
    refs = list((project.global_cache / "models--org--tiny" / "refs" / "linker").iterdir())
    assert len(refs) == 1
    assert load_file(alias / "models_cache", "org/tiny", "config.json") == old["config.json"]
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]
