"""A view whose links point into another global cache (issue 10, section 8): when HF_HOME moved, or `--cache-dir`
names another cache than last time, and the old cache still exists, sync says so in one line before it downloads
anything, and doctor flags it. The old cache is read from the view's own links, not from a record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from testing.hubhelpers import entry, push
from testing.synckit import lock_entry, two_revisions

NOTE = "note: the view links into another global cache"


def _blob_targets(view: Path) -> set[str]:
    return {str(p.readlink()) for p in view.glob("models--*/blobs/*") if p.is_symlink()}


def test_sync_says_so_before_downloading_into_the_new_cache(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, "acme/tiny")
    project.write_lock([entry(hub_store, "acme/tiny", sha)])
    old, new = project.global_cache, tmp_path / "moved" / "hub"
    assert project.linker("sync", env=hub_env).returncode == 0
    new.mkdir(parents=True)
    r = project.linker("doctor", "--json", env={**hub_env, "HF_HUB_CACHE": str(new)})
    [check] = [c for c in json.loads(r.stdout)["checks"] if c["name"] == "view-cache"]
    assert check["status"] == "warn" and str(old) in check["summary"], check
    assert r.returncode == 1
    r = project.linker("sync", env={**hub_env, "HF_HUB_CACHE": str(new)})
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    [i] = [n for n, line in enumerate(lines) if line.startswith(NOTE)]
    assert str(old) in lines[i] and str(new) in lines[i]
    assert i == 0, lines  # before any download line
    assert all(t.startswith(str(new)) for t in _blob_targets(project.view))
    # moved over: no notice any more, doctor quiet about it
    r = project.linker("sync", env={**hub_env, "HF_HUB_CACHE": str(new)})
    assert NOTE not in r.stderr
    r = project.linker("doctor", "--json", env={**hub_env, "HF_HUB_CACHE": str(new)})
    assert not [c for c in json.loads(r.stdout)["checks"] if c["name"] == "view-cache"]


def test_no_notice_once_the_old_cache_is_gone(project, tmp_path):
    other = tmp_path / "other" / "hub"
    two_revisions(project.global_cache)
    two_revisions(other)
    project.write_lock([lock_entry()])
    assert project.linker("sync", "--offline").returncode == 0
    r = project.linker("sync", "--offline", "--dry-run", "--cache-dir", str(other))
    assert NOTE in r.stderr and str(project.global_cache) in r.stderr
    shutil.rmtree(project.global_cache)
    r = project.linker("sync", "--offline", "--cache-dir", str(other))
    assert r.returncode == 0, r.stdout + r.stderr
    assert NOTE not in r.stderr
    assert all(t.startswith(str(other)) for t in _blob_targets(project.view))
