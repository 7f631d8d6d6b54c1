"""`linker doctor` lists the shared tiers: where each was named, readable, read-only (never probed by writing),
the filesystem type, and a note on network filesystems; an absent tier is a warning, not a crash."""

from __future__ import annotations

import os
from pathlib import Path

from linker.doctor.tiers import tier_checks
from linker.fstype import fs_type
from linker.tiers import Tier
from testing.fsfaults import immutable
from testing.repairkit import run_json
from testing.tierkit import tier_synced, tree_state


def tier_docs(doc: dict) -> list[dict]:
    return doc["shared_caches"]


def test_doctor_lists_a_read_only_tier_and_the_data_it_serves(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    before = tree_state(tier)
    with immutable(tier):
        code, doc = run_json(project, "--shared-cache", str(tier), "doctor")
        r = project.linker("doctor", env={"LINKER_SHARED_CACHES": str(tier)})
    assert code == 0, [c for c in doc["checks"] if c["status"] in ("warn", "fail")]
    (t,) = tier_docs(doc)
    assert t["path"] == str(tier) and t["source"] == "--shared-cache" and t["readable"]
    assert t["read_only"] and "immutable" in t["read_only_why"]
    assert t["fs_type"] == fs_type(tier) and t["fs_type"]
    notes = [c["summary"] for c in doc["checks"] if c["name"] == "shared-cache refs"]
    assert notes == [
        f"pinned data in {tier} (1 entry) is protected by no ref of yours: the tier's owners decide pruning"
    ]
    assert r.returncode == 0 and "(from LINKER_SHARED_CACHES): readable, read-only (immutable" in r.stdout, r.stdout
    assert tree_state(tier) == before


def test_a_writable_tier_is_said_so(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier.mkdir(parents=True)
    code, doc = run_json(project, "--shared-cache", str(tier), "doctor")
    assert code == 0 and not tier_docs(doc)[0]["read_only"]
    assert list(tier.iterdir()) == []  # never probed by writing


def test_an_absent_tier_is_a_warning_not_a_crash(project, tmp_path: Path) -> None:
    gone, afile = tmp_path / "gone" / "hub", tmp_path / "a-file"
    afile.write_text("x")
    code, doc = run_json(project, "doctor", env={"LINKER_SHARED_CACHES": f"{gone}{os.pathsep}{afile}"})
    assert code == 1
    warned = [c for c in doc["checks"] if c["name"].startswith("shared-cache") and c["status"] == "warn"]
    assert len(warned) == 2 and "does not exist" in warned[0]["summary"] and "not a folder" in warned[1]["summary"]
    assert [t["readable"] for t in tier_docs(doc)] == [False, False]


def test_network_filesystems_get_a_note_about_advisory_locks(tmp_path: Path) -> None:
    tier = tmp_path / "hub"
    tier.mkdir()
    mountinfo = f"22 1 8:1 / / rw - ext4 /dev/sda1 rw\n30 22 0:40 / {tmp_path} rw - nfs4 srv:/export rw\n"
    states, checks = tier_checks([Tier(tier, "--shared-cache")], mountinfo)
    assert states[0].fs_type == "nfs4" and states[0].locks_may_be_noops
    assert any("advisory locks (flock) may be no-ops" in c.summary for c in checks)
    states, checks = tier_checks([Tier(tier, "--shared-cache")], "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")
    assert states[0].fs_type == "ext4" and not any("no-ops" in c.summary for c in checks)
