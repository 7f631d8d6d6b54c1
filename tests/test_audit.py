"""The format policy and `linker audit`: pickles and Python files found by name, pickles read by their opcodes
(never loaded), and `policy:` enforced by add, lock, sync and verify. Every pickle is generated without torch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from testing.cachefactory import tiny_model_files
from testing.hubhelpers import entry, lock_entries, push
from testing.picklegen import make_pickles

REPO = "acme/pickled"


@pytest.fixture
def pickles(tmp_path: Path) -> tuple[dict[str, bytes], Path]:
    marker = tmp_path / "pwned"
    return make_pickles(tmp_path / "gen", marker), marker


def _files(pickles: dict[str, bytes], *names: str) -> dict[str, bytes]:
    return {**tiny_model_files("bert"), **{n: pickles[n] for n in names}}


def test_audit_lists_risk_classes_and_what_pickles_import(project, hub_store, hub_env, pickles):
    gen, _ = pickles
    files = {**_files(gen, "pytorch_model.bin", "model.pt"), "modeling_tiny.py": b"class Tiny: pass\n"}
    sha = push(hub_store, REPO, files=files)
    project.write_lock([entry(hub_store, REPO, sha)])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stderr
    # warn (the default): one line for the entry, naming the exclude that avoids its pickles and code
    warned = [line for line in r.stderr.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1 and REPO in warned[0] and "*.bin" in warned[0] and "*.py" in warned[0]

    r = project.linker("audit", "--json", env=hub_env)
    assert r.returncode == 0, r.stderr
    (doc,) = json.loads(r.stdout)["entries"]
    pick = {f["path"]: f for f in doc["pickle"]}
    assert set(pick) == {"pytorch_model.bin", "model.pt"}  # the legacy format and a zip checkpoint
    for f in pick.values():
        assert {"collections.OrderedDict", "torch._utils._rebuild_tensor_v2"} <= set(f["globals"])
        assert f["scanned"] and not f["dangerous"] and f["unsafe"] == []
    assert [f["path"] for f in doc["remote_code"]] == ["modeling_tiny.py"]
    assert {"model.safetensors", "config.json"} <= {f["path"] for f in doc["safe"]}
    text = project.linker("audit", env=hub_env).stdout
    assert "pytorch_model.bin  imports collections.OrderedDict" in text


def test_dangerous_pickle_is_never_linked_nor_loaded(project, hub_store, hub_env, pickles):
    gen, marker = pickles
    sha = push(hub_store, REPO, files=_files(gen, "evil.pkl", "trap.ckpt"))
    project.write_lock([entry(hub_store, REPO, sha)])
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stderr
    assert "evil.pkl is a dangerous pickle, importing posix.system" in r.stderr
    assert "trap.ckpt is a dangerous pickle" in r.stderr  # found inside the zip checkpoint's data.pkl
    assert "exclude: ['evil.pkl']" in r.stderr and "Traceback" not in r.stderr
    snap = project.view / "models--acme--pickled" / "snapshots" / sha
    assert not (snap / "evil.pkl").exists() and not (snap / "trap.ckpt").exists()

    r = project.linker("audit", env=hub_env)
    assert r.returncode == 1
    assert "evil.pkl  DANGEROUS: imports posix.system" in r.stdout
    assert not marker.exists()  # read, never unpickled

    # `allow` is the only setting that links it
    project.write_lock([entry(hub_store, REPO, sha)], policy={"pickle": "allow"})
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert (snap / "evil.pkl").is_file() and not marker.exists()
    # linked under `allow`: back under the default, verify reads the view and refuses it
    project.write_lock([entry(hub_store, REPO, sha)])
    r = project.linker("verify", env=hub_env)
    assert r.returncode == 1 and "evil.pkl is a dangerous pickle" in r.stderr


def _deny(project, models, **policy):
    project.write_lock(models, policy=policy or {"pickle": "deny"})
    return project.lock_path.read_text()


@pytest.mark.parametrize("command", ["add", "lock", "sync", "verify"])
def test_policy_deny_refuses_on_each_command(project, hub_store, hub_env, pickles, command):
    gen, _ = pickles
    sha = push(hub_store, REPO, files=_files(gen, "pytorch_model.bin"))
    models = {
        "add": [],
        "lock": [{"id": REPO}],
        "sync": [entry(hub_store, REPO, sha)],
        "verify": [entry(hub_store, REPO, sha)],
    }[command]
    before = _deny(project, models)
    args = ("add", REPO) if command == "add" else (command,)
    r = project.linker(*args, env=hub_env)
    assert r.returncode == 1, r.stderr
    assert "pytorch_model.bin is a pickle" in r.stderr and "exclude: ['*.bin']" in r.stderr
    assert "Traceback" not in r.stderr
    assert project.lock_path.read_text() == before  # nothing written
    assert not (project.view / "models--acme--pickled").exists()  # nothing linked
    if command == "sync":
        assert not any(project.global_cache.rglob("pytorch_model.bin"))  # refused before downloading


def test_lock_refuses_an_up_to_date_entry_under_deny(project, hub_store, hub_env, pickles):
    gen, _ = pickles
    sha = push(hub_store, REPO, files=_files(gen, "pytorch_model.bin"))
    project.write_lock([entry(hub_store, REPO, sha)])
    assert project.linker("lock", "--check", env=hub_env).returncode == 0
    _deny(project, [entry(hub_store, REPO, sha)])
    r = project.linker("lock", "--check", env=hub_env)
    assert r.returncode == 1 and "pytorch_model.bin is a pickle" in r.stderr


def test_remote_code_deny_and_the_exclude_that_avoids_it(project, hub_store, hub_env):
    sha = push(hub_store, REPO, files={**tiny_model_files("bert"), "modeling_tiny.py": b"import os\n"})
    _deny(project, [entry(hub_store, REPO, sha)], remote_code="deny")
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1 and "modeling_tiny.py is Python code" in r.stderr and "'*.py'" in r.stderr
    kept = entry(hub_store, REPO, sha, exclude=["*.py"])
    del kept["files"]["modeling_tiny.py"]  # as `linker lock` writes an entry with that exclude
    _deny(project, [kept], remote_code="deny")
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stderr


def test_add_suggests_the_safetensors_subset_and_safe_writes_it(project, hub_store, hub_env, pickles):
    gen, _ = pickles
    push(hub_store, REPO, files=_files(gen, "pytorch_model.bin"))
    r = project.linker("add", REPO, env=hub_env)
    assert r.returncode == 0, r.stderr
    assert "--safe` (exclude: ['*.bin'])" in r.stderr
    assert "pytorch_model.bin" in lock_entries(project)[REPO].files

    project.lock_path.unlink()
    r = project.linker("add", REPO, "--safe", "--json", env=hub_env)
    assert r.returncode == 0, r.stderr
    e = lock_entries(project)[REPO]
    assert e.exclude == ("*.bin",) and "pytorch_model.bin" not in e.files and "model.safetensors" in e.files
    assert json.loads(r.stdout)["exclude"] == ["*.bin"]
    assert yaml.safe_load(project.lock_path.read_text())["models"][0]["exclude"] == ["*.bin"]
