"""`linker gc` on a global cache holding alive, orphaned and foreign refs, judged by the real `hf cache prune
--dry-run` and `scan_cache_dir`, and by huggingface_hub loading the surviving project offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from testing.hfprobe import hf_cli, load_file, run_hf
from testing.synckit import OLD, lock_entry, two_revisions
from tests.conftest import Project

GONE, TAGGED, PR, GUARDED = (fake_commit("gc", i) for i in range(4))
_EXPECTED = """
from huggingface_hub import scan_cache_dir
info = scan_cache_dir(params["cache"])
result = {
    "detached": sorted(r.commit_hash for repo in info.repos for r in repo.revisions if not r.refs),
    "freed": info.delete_revisions(*params["revs"]).expected_freed_size if params["revs"] else 0,
    "refs": sorted(f"{repo.repo_id}:{ref}" for repo in info.repos for r in repo.revisions for ref in r.refs),
}
"""


def prune_dry_run(g: Path) -> int:
    """How many revisions the real `hf cache prune` would delete."""
    proc = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(g), "--format", "json"], hub_cache=g)
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)["revisions"]) if proc.stdout.strip().startswith("{") else 0


def hub_view(g: Path, revs: list[str] = []) -> dict:  # noqa: B006 - read only
    return run_hf(_EXPECTED, hub_cache=g, params={"cache": str(g), "revs": revs})


def a_cache_with_every_kind_of_ref(project: Project, tmp_path: Path) -> tuple[Project, dict[str, bytes]]:
    """`project` synced (alive ref); a second project synced then deleted (orphaned ref, and its revision
    otherwise detached); a tag, a PR ref, a migrate guard ref and a hand-made linker-like ref (foreign)."""
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    other = Project(tmp_path / "other", project.global_cache)
    other.root.mkdir()
    build_repo(project.global_cache, "org/two", {GONE: tiny_model_files("bert", seed=7)}, refs={})
    other.write_lock([lock_entry("org/two", GONE)])
    assert other.linker("sync").returncode == 0
    shutil.rmtree(other.root)  # the project is deleted: its ref is orphaned
    build_repo(project.global_cache, "org/three", {TAGGED: tiny_model_files("bert", seed=8)}, refs={"v1": TAGGED})
    build_repo(project.global_cache, "org/three", {PR: tiny_model_files("bert", seed=9)}, refs={"pr/1": PR})
    build_repo(
        project.global_cache,
        "org/three",
        {GUARDED: tiny_model_files("bert", seed=10)},
        refs={f"linker/migrated-{GUARDED[:12]}": GUARDED},
    )
    (project.global_cache / "models--org--three" / "refs" / "linker" / "mine-0123456789").write_text(TAGGED)
    return other, old


def test_gc_removes_only_orphaned_refs_and_reports_what_prune_frees(project: Project, tmp_path: Path) -> None:
    _other, old = a_cache_with_every_kind_of_ref(project, tmp_path)
    g = project.global_cache
    before = hub_view(g)
    assert prune_dry_run(g) == 0  # every revision is protected by some ref

    dry = project.linker("gc", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    doc = json.loads(dry.stdout)
    states = {(r["repo"], r["revision"]): (r["state"], r["why"]) for r in doc["refs"]}
    assert states == {
        ("org/tiny", OLD): ("alive", "pinned"),
        ("org/two", GONE): ("orphaned", "lockfile-gone"),
        ("org/three", TAGGED): ("unknown", "no-record"),  # the hand-made one: no owner on record, kept
    }
    assert [(d["repo"], d["revision"]) for d in doc["prunable"]] == [("org/two", GONE)]
    assert hub_view(g) == before  # --dry-run changed nothing

    r = project.linker("gc")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Removed 1 orphaned ref(s)" in r.stdout
    after = hub_view(g, [GONE])
    assert after["detached"] == [GONE]  # huggingface_hub agrees: only the orphan's revision lost its ref
    assert after["freed"] == doc["prunable_bytes"] > 0  # and frees what gc said
    assert set(before["refs"]) - set(after["refs"]) == {
        f"org/two:{r['ref']}" for r in doc["refs"] if r["repo"] == "org/two"
    }
    assert {"org/three:v1", "org/three:pr/1", f"org/three:linker/migrated-{GUARDED[:12]}"} <= set(after["refs"])
    assert prune_dry_run(g) == 1

    pruned = project.linker("gc", "--prune")
    assert pruned.returncode == 0, pruned.stdout + pruned.stderr
    assert GONE[:12] in pruned.stdout and "Deleted 1 revision(s)" in pruned.stdout
    assert prune_dry_run(g) == 0
    assert not (g / "models--org--two").exists()
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]  # the alive pin survived
    assert project.linker("verify").returncode == 0


def test_gc_takes_a_lock_and_exits_4_when_it_cannot(project: Project) -> None:
    from filelock import FileLock

    two_revisions(project.global_cache)
    lock = project.global_cache / ".locks" / "linker" / "gc.lock"
    lock.parent.mkdir(parents=True)
    with FileLock(str(lock)):
        r = project.linker("gc", env={"LINKER_LOCK_TIMEOUT": "0.2"})
    assert r.returncode == 4, r.stdout + r.stderr
    assert project.linker("gc", "--dry-run").returncode == 0  # reading needs no lock
    assert project.linker("gc", "--bogus").returncode == 2


def test_gc_without_prune_never_imports_huggingface_hub(project: Project) -> None:
    two_revisions(project.global_cache)
    code = (
        "import sys\nfrom linker.cli import main\ntry:\n    main(['gc'])\nexcept SystemExit as e:\n"
        "    print('hub' if 'huggingface_hub' in sys.modules else 'no-hub', e.code)\n"
    )
    env = {**os.environ, "HF_HUB_CACHE": str(project.global_cache)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=project.root)
    assert out.stdout.strip().splitlines()[-1] == "no-hub 0", out.stdout + out.stderr
