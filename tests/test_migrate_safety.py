"""Never lose a byte: hostile source trees are refused without being followed; a cross-filesystem move copies,
verifies, then deletes; the blob lock is honoured; and a migrate killed at random instants (kill -9) always
leaves every original byte reachable and is finished by the next run."""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from filelock import FileLock

from linker.hfcache import CacheRepo, migrate_journal_dir
from linker.migrate.planner import Options
from linker.migrate.recover import recover
from linker.migrate.run import migrate as migrate_lib
from testing.cachefactory import (
    build_local_dir,
    build_plain_folder,
    build_repo,
    build_transformers_legacy,
    fake_commit,
    repo_folder_name,
    sha256_hex,
    tiny_model_files,
)
from testing.fsfaults import linker_cmd
from testing.hfprobe import load_file
from testing.migrate_support import (
    crash_migrate_after,
    global_snapshot,
    migrate,
    reachable_contents,
    sha,
    tree_digests,
)

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------------------------
# hostile source trees


def _refused(doc, *words):
    assert doc["rc"] == 1, doc
    unsafe = [p for p in doc["problems"] if p["kind"] == "unsafe-source"]
    assert unsafe, doc["problems"]
    text = " ".join(p["detail"] for p in unsafe)
    for w in words:
        assert w in text, text
    assert not doc["items"]


def test_symlink_pointing_outside_is_refused_not_followed(project, tmp_path):
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_bytes(b"PRIVATE KEY")
    src = build_plain_folder(tmp_path / "acme" / "evil", tiny_model_files("bert", seed=1))
    os.symlink(secret, src / "weights.bin")  # absolute
    os.symlink("../../outside/id_rsa", src / "tokenizer.model")  # relative, leaving the tree
    before = tree_digests(src)
    doc = migrate(project, str(src))
    _refused(doc, "absolute path", "outside the source")
    assert tree_digests(src) == before and secret.read_bytes() == b"PRIVATE KEY"
    assert not (project.global_cache / "models--acme--evil").exists()
    assert not any(sha(b"PRIVATE KEY") == d for d in reachable_contents(project.global_cache))


def test_special_file_is_refused_without_reading_it(project, tmp_path):
    src = build_plain_folder(tmp_path / "acme" / "fifo", tiny_model_files("bert", seed=2))
    os.mkfifo(src / "model.bin")  # opening it would block forever
    proc = project.linker("migrate", str(src), "--offline", timeout=30)
    assert proc.returncode == 1
    assert "a FIFO; refused" in proc.stdout
    assert (src / "config.json").is_file()


def test_sidecar_with_dotdot_or_absolute_path_is_refused(project, tmp_path):
    flat = tmp_path / "transformers"
    entries = build_transformers_legacy(flat, "acme/flat", "main", {"config.json": b"{}"})
    e = entries["config.json"]
    for url in ("https://huggingface.co/acme/flat/resolve/main/..%2F..%2F.bashrc",
                "https://huggingface.co/acme/flat/resolve/main//etc/passwd"):  # fmt: skip
        e.sidecar.write_text(json.dumps({"url": url, "etag": f'"{e.etag}"'}))
        doc = migrate(project, str(flat))
        _refused(doc, "unsafe path")
        assert e.file.read_bytes() == b"{}"


def test_local_dir_metadata_symlink_is_refused(project, tmp_path):
    info = build_local_dir(tmp_path / "acme" / "ld", tiny_model_files("bert", seed=3), fake_commit("ld", 1))
    meta = info.metadata["config.json"]
    meta.unlink()
    os.symlink("/etc/hostname", meta)
    doc = migrate(project, str(info.local_dir))
    _refused(doc, "symlink in the download metadata")
    assert (info.local_dir / "config.json").is_file()


def test_cache_blob_link_pointing_outside_is_refused(project, tmp_path):
    c = fake_commit("evil", 1)
    files = tiny_model_files("bert", seed=4)
    other = tmp_path / "other-cache"
    info = build_repo(other, "acme/evil", {c: files})
    blob = info.blob_path(c, "config.json")
    blob.unlink()
    os.symlink("/etc/passwd", blob)
    doc = migrate(project, str(other))
    _refused(doc, "outside the source cache")
    assert not (project.global_cache / "models--acme--evil").exists()


# ---------------------------------------------------------------------------------------------------------------
# across filesystems (os.rename fails with EXDEV)


def _exdev(*_args, **_kwargs):
    raise OSError(errno.EXDEV, "Invalid cross-device link")


def test_cross_filesystem_move_copies_verifies_then_deletes(tmp_path, monkeypatch):
    files = tiny_model_files("bert", seed=5, big=512 * 1024)
    src = build_plain_folder(tmp_path / "acme" / "xdev", files)
    gc = tmp_path / "global"
    monkeypatch.setattr(os, "rename", _exdev)
    result = migrate_lib([src], Options(global_cache=gc), offline=True)
    assert result.outcome is not None and not result.outcome.problems
    assert result.outcome.copied == sum(map(len, files.values())) and result.outcome.renamed == 0
    assert not src.exists()
    [item] = result.plan.items
    assert global_snapshot(gc, "acme/xdev", item.revisions[0]) == files
    assert not [p for p in (gc / "models--acme--xdev" / "blobs").iterdir() if p.name.startswith(".")]


def test_cross_filesystem_copy_that_does_not_verify_keeps_the_source(tmp_path, monkeypatch):
    files = tiny_model_files("bert", seed=6)
    src = build_plain_folder(tmp_path / "acme" / "badcopy", files)
    gc = tmp_path / "global"
    real_copy = shutil.copyfile

    def flaky_copy(a, b, *args, **kwargs):
        real_copy(a, b, *args, **kwargs)
        if str(a).endswith("model.safetensors"):
            with open(b, "r+b") as f:  # a bit flips on the way to the other disk
                f.seek(20)
                f.write(b"\xff")
        return b

    monkeypatch.setattr(os, "rename", _exdev)
    monkeypatch.setattr(shutil, "copyfile", flaky_copy)
    result = migrate_lib([src], Options(global_cache=gc), offline=True)
    assert result.outcome is not None
    [problem] = result.outcome.problems
    assert "did not verify" in problem.detail and problem.path.endswith("model.safetensors")
    assert (src / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert not (gc / "models--acme--badcopy" / "blobs" / sha256_hex(files["model.safetensors"])).exists()


# ---------------------------------------------------------------------------------------------------------------
# locks and journal


def test_blob_lock_held_by_another_process_is_honoured(project, tmp_path):
    files = tiny_model_files("bert", seed=7)
    src = build_plain_folder(tmp_path / "acme" / "locked", files)
    lock_path = CacheRepo(project.global_cache, "acme/locked").lock_path(sha256_hex(files["model.safetensors"]))
    lock_path.parent.mkdir(parents=True)
    with FileLock(str(lock_path)):  # as huggingface_hub's WeakFileLock during a download
        proc = project.linker("migrate", str(src), "--offline", env={"LINKER_LOCK_TIMEOUT": "1"})
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "blob lock" in proc.stderr
    assert (src / "model.safetensors").read_bytes() == files["model.safetensors"]
    assert list(migrate_journal_dir(project.global_cache).iterdir())  # interrupted: the journal stays
    # the next run resumes it, then finds nothing left to do
    proc = project.linker("migrate", str(src), "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resumed an interrupted migrate" in proc.stderr
    assert not src.exists() and not migrate_journal_dir(project.global_cache).exists()


def test_recover_finishes_an_interrupted_run(tmp_path, monkeypatch):
    files = tiny_model_files("st", seed=8)
    src = build_plain_folder(tmp_path / "acme" / "crash", files)
    gc = tmp_path / "global"
    crash_migrate_after(monkeypatch, 3)
    with pytest.raises(KeyboardInterrupt):
        migrate_lib([src], Options(global_cache=gc), offline=True)
    monkeypatch.undo()
    assert migrate_journal_dir(gc).is_dir()
    # the partial snapshot (no link yet) is already named by a ref: `hf cache prune` leaves it alone
    [snap] = (gc / "models--acme--crash" / "snapshots").iterdir()
    [guard] = (gc / "models--acme--crash" / "refs" / "linker").iterdir()
    assert guard.read_text() == snap.name and not any(snap.iterdir())
    [message] = recover(gc)
    assert message.startswith("resumed an interrupted migrate (acme/crash")
    assert recover(gc) == []  # nothing pending any more
    snaps = list((gc / "models--acme--crash" / "snapshots").iterdir())
    assert len(snaps) == 1 and global_snapshot(gc, "acme/crash", snaps[0].name) == files
    assert not src.exists()


# ---------------------------------------------------------------------------------------------------------------
# kill -9 at random instants


def _kill_source(root: Path, shards: int) -> dict[str, bytes]:
    rng = random.Random(42)
    files: dict[str, bytes] = {}
    for org in range(2):
        model = tiny_model_files("st", seed=org)
        for i in range(shards):
            model[f"shards/part-{i:03d}.json"] = rng.randbytes(rng.randint(100, 6000))
        model["weights.bin"] = rng.randbytes(3 * 1024 * 1024)
        build_plain_folder(root / f"org{org}" / "model", model)
        files.update({f"org{org}/model/{k}": v for k, v in model.items()})
    return files


def _revisions(gc: Path, repo_id: str) -> list[str]:
    return [p.name for p in (gc / repo_folder_name(repo_id) / "snapshots").iterdir()]


@pytest.mark.slow
@pytest.mark.parametrize("cross_device", [False, True], ids=["rename", "exdev-copy"])
def test_kill_at_random_points_loses_nothing_and_rerun_completes(tmp_path, cross_device):
    template = tmp_path / "template"
    originals = _kill_source(template, 40 if cross_device else 120)
    want = {sha(v) for v in originals.values()}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = linker_cmd(tmp_path, cross_device)

    def run(src: Path, gc: Path, background: bool = False):
        args = [*cmd, "--cache-dir", str(gc), "migrate", "--offline", "--json"] + ([str(src)] if src.exists() else [])
        if background:
            return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)

    def journaled(gc: Path) -> bool:
        d = migrate_journal_dir(gc)
        return d.is_dir() and any(d.glob("*.journal.json"))

    def wait_for_journal(proc: subprocess.Popen, gc: Path) -> float:
        t0 = time.perf_counter()
        while proc.poll() is None and not journaled(gc):
            time.sleep(0.001)
        return time.perf_counter() - t0

    # a complete run: how long it takes, when files start moving, and what it produces
    ref_src, ref_gc = tmp_path / "ref" / "src", tmp_path / "ref" / "gc"
    shutil.copytree(template, ref_src, symlinks=True)
    t0 = time.perf_counter()
    ref = run(ref_src, ref_gc, background=True)
    moving_at = wait_for_journal(ref, ref_gc)
    ref.wait()
    duration = time.perf_counter() - t0
    assert ref.returncode == 0 and not any(p.is_file() for p in ref_src.rglob("*"))
    expected = {(f"org{i}/model", rev) for i in range(2) for rev in _revisions(ref_gc, f"org{i}/model")}
    assert len(expected) == 2
    rng = random.Random(1234 + cross_device)
    midway = 0
    attempts = 6 if cross_device else 12
    for attempt in range(attempts):
        src, gc = tmp_path / f"run{attempt}" / "src", tmp_path / f"run{attempt}" / "gc"
        shutil.copytree(template, src, symlinks=True)
        proc = run(src, gc, background=True)
        if attempt % 2:  # any instant of the run (start-up, scanning, hashing, moving)
            time.sleep(rng.uniform(0.1, 1.0) * duration)
        else:  # an instant while files are moving
            wait_for_journal(proc, gc)
            time.sleep(rng.uniform(0.0, 1.0) * max(duration - moving_at, 0.01))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        midway += journaled(gc)
        # every original byte is still somewhere: in the source or in a global blob
        missing = want - reachable_contents(src, gc)
        assert not missing, f"attempt {attempt}: {len(missing)} file contents lost"
        again = run(src, gc)
        assert again.returncode == 0, again.stdout + again.stderr
        for repo_id, revision in expected:
            model = repo_id.split("/")[0] + "/model/"
            want_files = {k[len(model) :]: v for k, v in originals.items() if k.startswith(model)}
            assert global_snapshot(gc, repo_id, revision) == want_files, f"attempt {attempt}: {repo_id}"
        assert not migrate_journal_dir(gc).exists() or not any(migrate_journal_dir(gc).glob("*.journal.json"))
        temps = [p for p in gc.rglob("*.linker-tmp") if ".locks" not in p.relative_to(gc).parts]
        assert not temps, f"attempt {attempt}: temp files left: {temps}"
        assert not src.exists() or not any(p.is_file() for p in src.rglob("*"))
    assert midway >= attempts // 4, f"only {midway} kill(s) landed while files were moving"


def test_source_that_cannot_be_moved_or_removed_is_copied_and_kept(tmp_path, monkeypatch):
    files = tiny_model_files("bert", seed=9)
    src = build_plain_folder(tmp_path / "acme" / "readonly", files)
    gc = tmp_path / "global"
    real_unlink = os.unlink

    def refuse_in_src(path, *args, **kwargs):
        if str(path).startswith(str(src)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    def no_rename(a, b, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(a))

    monkeypatch.setattr(os, "rename", no_rename)
    monkeypatch.setattr(os, "unlink", refuse_in_src)
    result = migrate_lib([src], Options(global_cache=gc), offline=True)
    assert result.outcome is not None
    assert {p.detail for p in result.outcome.problems} == {"copied, but the source could not be removed; it stays"}
    assert tree_digests(src) == {k: sha(v) for k, v in files.items()}  # nothing lost, nothing half-removed
    [item] = result.plan.items
    assert global_snapshot(gc, "acme/readonly", item.revisions[0]) == files  # and the model is in the cache


@pytest.mark.parametrize("kind", ["hf-cache", "transformers-legacy"])
def test_interrupted_cache_migrations_recover(tmp_path, monkeypatch, kind):
    from linker.migrate import executor

    files = tiny_model_files("st", seed=10)
    commit = fake_commit("crash", kind)
    src = tmp_path / "old"
    if kind == "hf-cache":
        build_repo(src, "acme/crash", {commit: files}, symlinks=False)  # real snapshot files: moved, then linked
    else:
        build_transformers_legacy(src, "acme/crash", commit, files)
    gc = tmp_path / "global"
    real, calls = executor.Executor.blob, []

    def crash_midway(self, item, op):
        calls.append(op)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(self, item, op)

    monkeypatch.setattr(executor.Executor, "blob", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        migrate_lib([src], Options(global_cache=gc), offline=True)
    monkeypatch.setattr(executor.Executor, "blob", real)
    assert {sha(v) for v in files.values()} <= reachable_contents(src, gc)
    assert len(recover(gc)) == 1
    assert global_snapshot(gc, "acme/crash", commit) == files
    if kind == "hf-cache":  # the old place became a view that still loads
        assert load_file(src, "acme/crash", "modules.json", revision=commit) == files["modules.json"]
    else:
        assert not any(src.iterdir())
