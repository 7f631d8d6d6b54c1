"""An interrupted migrate (a full disk, a kill) resumes to the same revision, its data protected by a ref all
along; reruns after it say what happened and exit 0; `repair` and `doctor` see an interrupted migrate even
without a lockfile."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from linker.hfcache import migrate_journal_dir
from linker.migrate.planner import Options
from linker.migrate.run import migrate as migrate_lib
from testing.cachefactory import build_plain_folder, repo_folder_name, tiny_model_files
from testing.fsfaults import small_tmpfs
from testing.hfprobe import hf_cli, scan
from testing.migrate_support import crash_migrate_after, global_snapshot, reachable_contents, sha


def _twelve_files(seed: int = 0) -> dict[str, bytes]:
    """config.json and eleven 300 KB weight shards: 3.3 MB in all."""
    rng = random.Random(seed)
    files = {"config.json": b'{"model_type": "bert", "architectures": ["BertModel"]}'}
    for i in range(11):
        files[f"model-{i:05d}-of-00011.safetensors"] = rng.randbytes(300_000)
    return files


def _protecting_refs(gc: Path, repo_id: str, revision: str) -> list[str]:
    """The refs of the repo that name `revision`, checked with the real `scan_cache_dir` (what prune reads)."""
    doc = scan(gc)
    assert not doc["warnings"], doc["warnings"]
    out = []
    for repo in doc["repos"]:
        if repo["repo_id"] == repo_id:
            for rev in repo["revisions"]:
                if rev["commit_hash"] == revision:
                    out += rev["refs"]
    return out


def _prunable(gc: Path) -> int:
    """How many revisions the real `hf cache prune` would delete."""
    proc = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(gc), "--format", "json"], hub_cache=gc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return int(json.loads(proc.stdout)["revisions"]) if proc.stdout.strip() else 0  # nothing to prune: no output


def _revisions(gc: Path, repo_id: str) -> list[str]:
    snaps = gc / repo_folder_name(repo_id) / "snapshots"
    return sorted(p.name for p in snaps.iterdir()) if snaps.is_dir() else []


def _journals(gc: Path) -> list[Path]:
    d = migrate_journal_dir(gc)
    return list(d.iterdir()) if d.is_dir() else []


# ---------------------------------------------------------------------------------------------------------------
# item 3: a full disk midway


def test_disk_full_midway_resumes_to_the_same_revision_protected_by_a_ref(tmp_path, monkeypatch):
    files = _twelve_files()
    src = build_plain_folder(tmp_path / "acme" / "big", files)
    want = {sha(v) for v in files.values()}
    lock = tmp_path / "project_cache.yaml"
    with small_tmpfs(tmp_path / "gc", "2m") as gc:
        planned = migrate_lib([src], Options(global_cache=gc), offline=True, dry_run=True)
        [revision] = planned.plan.items[0].revisions
        # free space looks ample when checked (another process fills the disk during the copy)
        monkeypatch.setattr(shutil, "disk_usage", lambda _p: shutil._ntuple_diskusage(1 << 40, 0, 1 << 40))
        first = migrate_lib([src], Options(global_cache=gc, lock_path=lock), offline=True)
        assert first.outcome is not None and first.outcome.problems  # ENOSPC: incomplete
        assert want <= reachable_contents(src, gc)  # no byte lost
        assert _revisions(gc, "acme/big") == [revision]
        assert _protecting_refs(gc, "acme/big", revision), "a partial snapshot with no ref: prune deletes it"
        assert _prunable(gc) == 0
        assert _journals(gc), "the interrupted migration must stay pending"
        assert not lock.exists()
        # a rerun while the disk is still full: refused again, the files left are not made a revision of their own
        still = migrate_lib([src], Options(global_cache=gc, lock_path=lock), offline=True)
        monkeypatch.undo()
        assert "incomplete" in {p.kind for p in still.plan.problems} and not still.plan.items
        assert _revisions(gc, "acme/big") == [revision] and not lock.exists()
        assert want <= reachable_contents(src, gc)
        # with room again, a rerun finishes the same revision, and --lock pins it
        subprocess.run(["mount", "-o", "remount,size=32m", str(gc)], check=True)
        again = migrate_lib([src], Options(global_cache=gc, lock_path=lock), offline=True)
        assert again.outcome is None or not again.outcome.problems
        assert not again.plan.problems
        assert any("resumed" in m for m in again.recovered), again.recovered
        assert _revisions(gc, "acme/big") == [revision]
        [entry] = yaml.safe_load(lock.read_text())["models"]
        assert entry["revision"] == revision and entry["local"] is True
        assert global_snapshot(gc, "acme/big", revision) == files
        assert _protecting_refs(gc, "acme/big", revision) and _prunable(gc) == 0
        assert want <= reachable_contents(src, gc)
        assert not _journals(gc)
        assert not src.exists()


def test_free_space_is_checked_before_a_cross_filesystem_copy(project, tmp_path):
    files = _twelve_files(seed=1)
    src = build_plain_folder(tmp_path / "acme" / "toobig", files)
    before = {k: sha(v) for k, v in files.items()}
    with small_tmpfs(tmp_path / "gc", "2m") as gc:
        proc = project.linker("--cache-dir", str(gc), "migrate", str(src), "--offline")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1, proc.stderr
        needed = sum(map(len, files.values()))
        assert str(needed) in lines[0] and "free" in lines[0], lines[0]
        assert "Traceback" not in proc.stderr
        assert not (gc / repo_folder_name("acme/toobig")).exists()
        assert {p.name: sha(p.read_bytes()) for p in src.iterdir()} == before


# ---------------------------------------------------------------------------------------------------------------
# item 14: reruns and repairs


def _crash(monkeypatch, src: Path, gc: Path, after: int, **opts) -> None:
    crash_migrate_after(monkeypatch, after)
    with pytest.raises(KeyboardInterrupt):
        migrate_lib([src], Options(global_cache=gc, **opts), offline=True)
    monkeypatch.undo()
    assert _journals(gc)


def test_rerun_with_id_after_a_kill_says_it_resumed(project, tmp_path, monkeypatch):
    files = tiny_model_files("st", seed=21)
    src = build_plain_folder(tmp_path / "somewhere" / "mymodel", files)
    _crash(monkeypatch, src, project.global_cache, 3, repo_id="acme/mine")
    proc = project.linker("migrate", str(src), "--id", "acme/mine", "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resumed" in proc.stderr and "names one model" not in proc.stderr
    [rev] = _revisions(project.global_cache, "acme/mine")
    assert global_snapshot(project.global_cache, "acme/mine", rev) == files


def test_rerun_after_the_source_moved_says_already_migrated(project, tmp_path):
    files = tiny_model_files("bert", seed=22)
    src = build_plain_folder(tmp_path / "acme" / "done", files)
    assert project.linker("migrate", str(src), "--offline").returncode == 0
    assert not src.exists()
    proc = project.linker("migrate", str(src), "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "already migrated" in proc.stdout + proc.stderr
    assert "acme/done" in proc.stdout + proc.stderr


def test_repair_without_a_lockfile_finishes_a_journal_and_doctor_sees_it(project, tmp_path, monkeypatch):
    files = tiny_model_files("st", seed=23)
    src = build_plain_folder(tmp_path / "acme" / "half", files)
    _crash(monkeypatch, src, project.global_cache, 4)
    assert not project.lock_path.exists()
    doctor = project.linker("doctor")
    assert doctor.returncode == 1 and "No problems found" not in doctor.stdout, doctor.stdout
    assert "interrupted" in doctor.stdout and "linker repair" in doctor.stdout
    proc = project.linker("repair")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resumed" in proc.stdout + proc.stderr
    [rev] = _revisions(project.global_cache, "acme/half")
    assert global_snapshot(project.global_cache, "acme/half", rev) == files
    assert not _journals(project.global_cache)
    assert "interrupted" not in project.linker("doctor").stdout


def test_temp_file_of_a_killed_journal_write_is_cleaned(project, tmp_path):
    d = migrate_journal_dir(project.global_cache)
    d.mkdir(parents=True)
    tmp = d / ".20260101T000000-123.journal.json.0badc0de.linker-tmp"
    tmp.write_text('{"global_cache": "')  # the kill landed mid-write: the plan never started
    src = build_plain_folder(tmp_path / "acme" / "next", tiny_model_files("bert", seed=24))
    proc = project.linker("migrate", str(src), "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not tmp.exists() and not d.exists()


# ---------------------------------------------------------------------------------------------------------------
# workflows: --id on a refused source, --lock after a kill


def test_id_on_a_refused_source_names_the_file(project, tmp_path):
    src = build_plain_folder(tmp_path / "acme" / "fifo", tiny_model_files("bert", seed=25))
    os.mkfifo(src / "extra.bin")
    proc = project.linker("migrate", str(src), "--id", "acme/fifo", "--offline", timeout=30)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "extra.bin" in proc.stdout and "FIFO" in proc.stdout
    assert "names one model" not in proc.stderr


def test_rerun_with_lock_after_a_kill_once_the_source_moved(project, tmp_path, monkeypatch):
    from linker.migrate import commit

    files = tiny_model_files("bert", seed=26)
    src = build_plain_folder(tmp_path / "acme" / "locked", files)

    def killed(*_a, **_k):
        raise KeyboardInterrupt  # the kill lands after every file moved, before the lock entry

    monkeypatch.setattr(commit, "update_lock", killed)
    with pytest.raises(KeyboardInterrupt):
        migrate_lib([src], Options(global_cache=project.global_cache, lock_path=project.lock_path), offline=True)
    monkeypatch.undo()
    assert not src.exists() and not project.lock_path.exists()
    proc = project.linker("migrate", str(src), "--lock", "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [entry] = yaml.safe_load(project.lock_path.read_text())["models"]
    assert entry["id"] == "acme/locked" and entry["revision"] == _revisions(project.global_cache, "acme/locked")[0]
    # and once more, with nothing pending: still exit 0, the entry kept
    proc = project.linker("migrate", str(src), "--lock", "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert yaml.safe_load(project.lock_path.read_text())["models"] == [entry]


def test_a_failure_no_rerun_can_finish_closes_the_journal_and_keeps_the_guard(tmp_path, monkeypatch):
    from linker.migrate import executor

    files = tiny_model_files("bert", seed=27)
    src = build_plain_folder(tmp_path / "acme" / "changed", files)
    gc = tmp_path / "global"
    real = executor.Executor.blob

    def changed(self, item, op):  # as when a source file is edited between hashing and moving
        if op.src.endswith("vocab.txt"):
            return self.fail(item, op.src, "changed since it was hashed; left in place")
        return real(self, item, op)

    monkeypatch.setattr(executor.Executor, "blob", changed)
    result = migrate_lib([src], Options(global_cache=gc), offline=True)
    monkeypatch.undo()
    assert result.outcome is not None and result.outcome.failed_items == {"acme/changed"}
    assert not _journals(gc)  # not pending forever: a rerun plans what is left as it now is
    [rev] = _revisions(gc, "acme/changed")
    assert _protecting_refs(gc, "acme/changed", rev)  # what moved stays protected
    assert {sha(v) for v in files.values()} <= reachable_contents(src, gc)
