"""`linker status`: one row per entry with its state, as text and JSON."""

from __future__ import annotations

import json

from testing.cachefactory import build_repo, fake_commit
from testing.synckit import OLD, lock_entry, two_revisions


def test_status_rows_and_states(project) -> None:
    info, _old, _ = two_revisions(project.global_cache)
    build_repo(project.global_cache, "org/b", {fake_commit("b"): {"a.json": b"{}"}})
    project.write_lock([lock_entry(), lock_entry("org/b", fake_commit("b")), lock_entry("org/absent", "d" * 40)])
    project.linker("sync", "--offline")
    (project.view / "models--someone--else" / "snapshots").mkdir(parents=True)
    # Break org/tiny: its global blob disappears.
    info.blob_path(OLD, "config.json").unlink()
    project.write_lock([lock_entry(), lock_entry("org/b", "c" * 40), lock_entry("org/absent", "d" * 40)])
    r = project.linker("status")
    assert r.returncode == 0
    assert "ID" in r.stdout and "STATE" in r.stdout
    doc = json.loads(project.linker("status", "--json").stdout)
    states = {e["repo"]: e["state"] for e in doc["entries"]}
    assert states == {"org/tiny": "broken", "org/b": "missing", "org/absent": "missing", "someone/else": "not-in-lock"}
    assert doc["totals"]["entries"] == 3
