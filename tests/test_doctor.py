"""`linker doctor`: each environment problem is found, named with its fix, and sets the exit code."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from testing.readonly import read_only
from testing.repairkit import REPO, run_json, synced

SECRET = "hf_DoctorMustNeverPrintThis0123456789"


def checks(doc: dict, name: str) -> list[dict]:
    return [c for c in doc["checks"] if c["name"] == name]


def statuses(doc: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for c in doc["checks"]:
        out.setdefault(c["name"], set()).add(c["status"])
    return out


def test_healthy_project(project) -> None:
    synced(project)
    r = project.linker("doctor")
    assert r.returncode == 0, r.stdout
    assert "No problems found." in r.stdout
    code, doc = run_json(project, "doctor")
    assert code == 0 and doc["ok"]
    assert doc["global_cache"] == str(project.global_cache) and doc["global_cache_source"] == "HF_HUB_CACHE"
    assert "chosen by HF_HUB_CACHE" in checks(doc, "global-cache")[0]["summary"]
    links = checks(doc, "links")[0]
    assert links["status"] == "ok" and "symlinks work, hardlinks work" in links["summary"]
    assert statuses(doc)["shadowing"] == {"ok"}


def test_without_a_lockfile_project_checks_are_skipped(project, tmp_path) -> None:
    elsewhere = tmp_path / "nowhere"
    elsewhere.mkdir()
    r = project.linker("doctor", "--json", cwd=elsewhere)
    assert r.returncode == 0, r.stdout + r.stderr
    import json

    doc = json.loads(r.stdout)
    assert doc["lockfile"] is None and "project checks skipped" in checks(doc, "lockfile")[0]["summary"]
    assert not checks(doc, "links") and not checks(doc, "shadowing")


def test_which_variable_chose_the_global_cache(project, tmp_path) -> None:
    synced(project)
    home = tmp_path / "hfhome"
    code, doc = run_json(project, "doctor", env={"HF_HUB_CACHE": "", "HF_HOME": str(home)})
    assert doc["global_cache"] == str(home / "hub") and doc["global_cache_source"] == "HF_HOME"
    # the view still links into the cache it was synced from, which exists: that is the one finding
    assert code == 1 and [c["name"] for c in doc["checks"] if c["status"] in ("warn", "fail")] == ["view-cache"]
    code, doc = run_json(project, "--cache-dir", str(project.global_cache), "doctor")
    assert code == 0 and "the --cache-dir option" in checks(doc, "global-cache")[0]["summary"]


def test_token_is_reported_but_never_shown(project) -> None:
    synced(project)
    r = project.linker("doctor", env={"HF_TOKEN": SECRET})
    assert "HF_TOKEN is set" in r.stdout and SECRET not in r.stdout + r.stderr
    r = project.linker("doctor", "--json", env={"HF_TOKEN": SECRET})
    assert SECRET not in r.stdout + r.stderr
    r = project.linker("doctor")
    assert "HF_TOKEN is not set" in r.stdout


def test_offline_mode(project) -> None:
    synced(project)
    code, doc = run_json(project, "doctor", env={"HF_HUB_OFFLINE": "1"})
    assert code == 0 and "offline mode is on" in checks(doc, "offline")[0]["summary"]
    code, doc = run_json(project, "doctor", env={"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "1"})
    assert code == 1 and any("masks TRANSFORMERS_OFFLINE" in c["summary"] for c in checks(doc, "offline"))
    code, doc = run_json(project, "doctor", env={"HF_HUB_OFFLINE": "y"})
    assert code == 1 and any("not understood" in c["summary"] for c in checks(doc, "offline"))


def test_transformers_cache_and_sentence_transformers_home(project, tmp_path) -> None:
    synced(project)
    code, doc = run_json(project, "doctor", env={"TRANSFORMERS_CACHE": str(tmp_path / "tc")})
    assert code == 1
    (c,) = checks(doc, "library-cache")
    assert c["status"] == "warn" and "TRANSFORMERS_CACHE" in c["summary"] and "unset TRANSFORMERS_CACHE" in c["fix"]
    code, doc = run_json(project, "doctor", env={"SENTENCE_TRANSFORMERS_HOME": str(tmp_path / "st")})
    assert code == 1 and "cache_folder=" in checks(doc, "library-cache")[0]["fix"]
    # pointing them at the cache linker manages is fine
    code, doc = run_json(project, "doctor", env={"TRANSFORMERS_CACHE": str(project.global_cache)})
    assert code == 0 and not checks(doc, "library-cache")


def test_a_folder_named_like_a_pinned_id_shadows_the_cache(project) -> None:
    synced(project)
    (project.root / REPO).mkdir(parents=True)
    r = project.linker("doctor")
    assert r.returncode == 1
    assert f"{project.root / REPO} is named like the pinned id {REPO}" in r.stdout
    assert "fix: rename or move" in r.stdout


def test_global_cache_pointing_at_the_view(project) -> None:
    synced(project)
    code, doc = run_json(project, "doctor", env={"HF_HUB_CACHE": str(project.view)})
    assert code == 0, doc  # issue 10 §2: the view is never the global cache; doctor explains what is used instead
    assert str(project.global_cache) in checks(doc, "global-cache")[0]["summary"]
    (explained,) = checks(doc, "view-env")
    assert "is a linker view" in explained["summary"] and str(project.global_cache) in explained["summary"]


def test_missing_pins_larger_than_the_free_space(project) -> None:
    synced(project)
    lock = project.lock_path.read_text()
    assert "files:\n    " in lock
    other = "a" * 64
    project.lock_path.write_text(
        lock.replace("files:", f"files:\n    huge.bin:\n      size: 999999999999999\n      hash: {other}", 1)
    )
    code, doc = run_json(project, "doctor")
    assert code == 1
    assert any(c["status"] == "fail" and "the missing pins need" in c["summary"] for c in checks(doc, "free-space"))


def _other_fs() -> Path | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and os.stat(shm).st_dev != os.stat(tempfile.gettempdir()).st_dev:
        return shm
    return None


@pytest.mark.skipif(_other_fs() is None, reason="needs a second filesystem (/dev/shm)")
def test_hardlink_mode_across_filesystems(project) -> None:
    g = Path(tempfile.mkdtemp(dir=_other_fs(), prefix="linker-doctor-"))
    try:
        project.global_cache = g
        synced(project)
        lock = project.lock_path.read_text()
        project.lock_path.write_text(lock.replace("version: 1\n", "version: 1\nlink_mode: hardlink\n", 1))
        code, doc = run_json(project, "doctor")
        assert code == 1
        (links,) = checks(doc, "links")
        assert links["status"] == "fail" and "different filesystems" in links["summary"]
        assert "hardlinks do NOT work" in links["summary"] and "copy" in links["fix"]
    finally:
        shutil.rmtree(g, ignore_errors=True)


def test_a_global_cache_this_user_cannot_write(project) -> None:
    synced(project)
    with read_only(project.global_cache):
        code, doc = run_json(project, "doctor")
    assert code == 1 and checks(doc, "permissions")[0]["status"] == "warn"
