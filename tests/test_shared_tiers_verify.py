"""`linker verify` with shared read-only tiers: a view served by a tier passes, a tier blob is hashed by
`--full`, and a missing project ref for data only a tier holds is a note, not an error."""

from __future__ import annotations

from pathlib import Path

from testing.repairkit import REV, flip_byte, kinds, run_json, view_repo
from testing.tierkit import tier_synced, tree_state


def test_a_view_served_by_a_tier_passes_verify_with_a_note_about_the_ref(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    before = tree_state(tier)

    code, doc = run_json(project, "--shared-cache", str(tier), "verify", "--full")
    assert code == 0, doc["problems"]
    notes = [p for p in doc["problems"] if p["kind"] == "project-ref"]
    assert len(notes) == 1 and notes[0]["severity"] == "warning"
    assert f"pinned data in {tier} is protected by no ref of yours" in notes[0]["detail"]
    assert doc["hashed"]["files"] > 0 and doc["shared_caches"] == [str(tier)]
    assert tree_state(tier) == before

    r = project.linker("verify", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 0 and "protected by no ref of yours" in r.stdout, r.stdout + r.stderr


def test_without_the_tier_the_missing_ref_is_still_an_error(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    code, doc = run_json(project, "verify")
    assert code == 1 and [p["kind"] for p in doc["problems"] if p["severity"] == "error"] == ["project-ref"]


def test_verify_full_finds_a_corrupt_tier_blob_and_changes_nothing(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    flip_byte(view_repo(project) / f"snapshots/{REV}/config.json")
    before = tree_state(tier)
    code, doc = run_json(project, "--shared-cache", str(tier), "verify", "--full")
    assert code == 1
    assert ("corrupt-blob", "config.json") in kinds(doc)
    assert not [p for p in doc["problems"] if p["kind"] == "outside-caches"]
    assert tree_state(tier) == before


def test_a_link_dangling_into_a_tier_that_holds_the_blob_is_fixed_by_repair(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    info, _files = tier_synced(project, tier)
    etag = info.etag(REV, "config.json")
    (view_repo(project) / "blobs" / etag).unlink()
    code, doc = run_json(project, "--shared-cache", str(tier), "verify")
    assert code == 1
    dangling = [p for p in doc["problems"] if p["kind"] == "dangling-link"]
    assert dangling and dangling[0]["fix"] == "linker repair" and str(tier) in dangling[0]["detail"]
