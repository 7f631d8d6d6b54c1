"""Ordinary faults (a binary lockfile, a full disk, a read-only folder...) come out as one line naming the path
and the cause, with the documented exit code: never as an internal error. Also: --json errors, bad env values."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from testing import fsfaults
from testing.cachefactory import build_repo, fake_commit, tiny_model_files

OLD = fake_commit("tiny", 1)


def one_line_error(r, *needles: object, code: int) -> None:
    assert r.returncode == code, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    first = r.stderr.strip().splitlines()[0]
    assert first.startswith("error: "), r.stderr
    for n in needles:
        assert str(n) in first, first


@pytest.fixture
def tiny(project):
    build_repo(project.global_cache, "org/tiny", {OLD: tiny_model_files("st", seed=1)})
    project.write_lock([{"id": "org/tiny", "revision": OLD}])
    return project


def test_binary_lockfile(tiny):
    tiny.lock_path.write_bytes(b"version: 1\n\xff\xfe\x00binary")
    for cmd in ("status", "sync"):
        one_line_error(tiny.linker(cmd), tiny.lock_path, "UTF-8", code=2)


def test_cache_dir_is_a_file(tiny):
    tiny.view.write_text("not a folder")
    one_line_error(tiny.linker("sync"), tiny.view, "not a folder", code=2)


def test_cache_dir_is_a_symlink_loop(tiny):
    os.symlink(tiny.view, tiny.view)
    for cmd in ("sync", "status", "env"):
        one_line_error(tiny.linker(cmd), tiny.view, "symbolic links", code=2)


def test_immutable_view(tiny):
    tiny.view.mkdir()
    with fsfaults.immutable(tiny.view):
        one_line_error(tiny.linker("sync"), "cannot take the project lock", tiny.view, "not permitted", code=1)


def test_immutable_project_folder(tiny):
    with fsfaults.immutable(tiny.root):
        one_line_error(tiny.linker("sync"), "cannot create the view", tiny.view, "not permitted", code=1)
        r = tiny.linker("remove", "org/tiny")
        one_line_error(r, "cannot write the lockfile", tiny.lock_path, "not permitted", code=1)


def test_immutable_lockfile(tiny):
    with fsfaults.immutable(tiny.lock_path):
        r = tiny.linker("remove", "org/tiny")
        one_line_error(r, "cannot write the lockfile", tiny.lock_path, "not permitted", code=1)
    assert "org/tiny" in tiny.lock_path.read_text()


def test_hardlink_across_mounts(tiny, tmp_path):
    with fsfaults.small_tmpfs(tmp_path / "other", "8m") as other:
        build_repo(other / "hub", "org/tiny", {OLD: tiny_model_files("st", seed=1)})
        r = tiny.linker("sync", "--link-mode", "hardlink", env={"HF_HUB_CACHE": str(other / "hub")})
        one_line_error(r, tiny.view, code=2)


def test_full_disk(tiny):
    build_repo(tiny.global_cache, "org/big", {OLD: tiny_model_files("st", seed=2, big=3_000_000)})
    tiny.write_lock([{"id": "org/big", "revision": OLD}])
    with fsfaults.small_tmpfs(tiny.view, "1m"):
        r = tiny.linker("sync", "--link-mode", "copy")
        one_line_error(r, "cannot write the view", tiny.view / "models--org--big", "No space left", code=1)


def test_run_a_folder(tiny):
    (tiny.root / "some-folder").mkdir()
    one_line_error(tiny.linker("run", "--", "some-folder/"), "some-folder/", "folder", code=2)


def test_json_errors_are_one_document(tiny, tmp_path):
    tiny.lock_path.write_bytes(b"\xff")
    for cmd in ("status", "sync", "verify", "lock", "remove org/tiny"):
        r = tiny.linker(*cmd.split(), "--json")
        doc = json.loads(r.stdout)
        assert doc["exit_code"] == r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert str(tiny.lock_path) in doc["error"] and r.stderr.startswith("error: ")
    r = tiny.linker("status", "--json", cwd=tmp_path)  # no lockfile found
    assert json.loads(r.stdout)["exit_code"] == r.returncode == 2


@pytest.mark.parametrize(
    ("var", "value", "cmd", "needle"),
    [
        ("LINKER_LOCK_TIMEOUT", "abc", "sync", "using 120"),
        ("HF_HUB_OFFLINE", "maybe", "sync", "online"),
    ],
)
def test_bad_environment_values_warn(tiny, var, value, cmd, needle):
    r = tiny.linker(cmd, env={var: value})
    assert r.returncode == 0, r.stderr
    warnings = [ln for ln in r.stderr.splitlines() if var in ln]
    assert len(warnings) == 1 and warnings[0].startswith("warning: "), r.stderr
    assert repr(value) in warnings[0] and needle in warnings[0]


def test_uncaught_oserror_is_not_an_internal_error(tmp_path: Path) -> None:
    """The last-resort net: an OSError nobody converted still renders as `error: <file>: <cause>`, exit 1."""
    import subprocess
    import sys

    code = (
        "import sys, linker.cli as c\n"
        "def boom(*a, **k): raise FileNotFoundError(2, 'No such file or directory', '/nowhere/x')\n"
        "c.cli.main = boom\n"
        "c.main(['status'])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == "error: /nowhere/x: No such file or directory"
