"""`linker repair` with shared read-only tiers: a broken view link is relinked into the tier that holds its blob
(not downloaded into the writable cache), and the tier is never changed (not even with `chattr +i` lifted)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from testing.fsfaults import immutable
from testing.repairkit import REV, flip_byte, run_json, view_repo
from testing.tierkit import all_paths, tier_synced, tree_state


def test_repair_relinks_a_deleted_view_blob_link_into_the_tier(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    info, files = tier_synced(project, tier)
    etag = info.etag(REV, "config.json")
    vblob = view_repo(project) / "blobs" / etag
    vblob.unlink()
    (view_repo(project) / f"snapshots/{REV}/tokenizer_config.json").unlink()
    before = tree_state(tier)

    with immutable(*all_paths(tier)):
        code, doc = run_json(project, "--shared-cache", str(tier), "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    assert os.readlink(vblob) == str(tier / vblob.relative_to(project.view))
    snap = view_repo(project) / f"snapshots/{REV}"
    assert (snap / "config.json").read_bytes() == files["config.json"]
    assert (snap / "tokenizer_config.json").read_bytes() == files["tokenizer_config.json"]
    assert os.path.realpath(snap / "tokenizer_config.json").startswith(str(tier) + os.sep)
    assert not list(project.global_cache.iterdir()), "nothing goes into the writable cache"
    assert any("protected by no ref of yours" in n for n in doc["notices"])
    assert tree_state(tier) == before

    code, doc = run_json(project, "--shared-cache", str(tier), "verify", "--full")
    assert code == 0, doc["problems"]


def test_repair_never_quarantines_a_corrupt_tier_blob(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    flip_byte(view_repo(project) / f"snapshots/{REV}/config.json")
    before = tree_state(tier)
    with immutable(*all_paths(tier)):
        code, doc = run_json(project, "--shared-cache", str(tier), "repair", "--offline")
    assert code == 1  # no sound copy anywhere, offline: reported, not "fixed" by touching the tier
    assert not [f for f in doc["fixes"] if f["kind"] in ("quarantine", "drop-name") and str(tier) in f["path"]]
    assert tree_state(tier) == before


def test_a_second_tier_with_a_sound_copy_replaces_a_corrupt_first_tier(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    info, files = tier_synced(project, tier)
    second = tmp_path / "second" / "hub"
    from testing.cachefactory import build_repo

    build_repo(second, info.repo_id, {REV: files}, refs={})
    flip_byte(view_repo(project) / f"snapshots/{REV}/config.json")
    before = tree_state(tier), tree_state(second)
    code, doc = run_json(project, "--shared-cache", str(tier), "--shared-cache", str(second), "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    snap = view_repo(project) / f"snapshots/{REV}/config.json"
    assert snap.read_bytes() == files["config.json"]
    assert os.path.realpath(snap).startswith(str(second) + os.sep)
    assert (tree_state(tier), tree_state(second)) == before


def test_repair_rewrites_a_bad_view_ref_of_an_entry_the_tier_serves(project, tmp_path: Path) -> None:
    tier = tmp_path / "shared" / "hub"
    tier_synced(project, tier)
    ref = view_repo(project) / "refs" / "main"
    ref.write_text(REV + "\n")
    before = tree_state(tier)
    with immutable(*all_paths(tier)):
        code, doc = run_json(project, "--shared-cache", str(tier), "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    assert ref.read_text() == REV
    assert [f["kind"] for f in doc["fixes"]] == ["view-ref"]
    assert all(os.readlink(p).startswith(str(tier)) for p in (view_repo(project) / "blobs").iterdir())
    assert tree_state(tier) == before


def test_repair_of_a_split_pin_keeps_the_links_into_the_tier(project, tmp_path: Path) -> None:
    """A pin split between a tier (everything but the weights) and the writable cache (which holds the whole
    revision): repair's relink after restoring a deleted project ref syncs through the tiers given on the command
    line, so the view keeps linking into the tier instead of moving every link to the writable cache."""
    from testing.cachefactory import build_repo, tiny_model_files

    tier = tmp_path / "shared" / "hub"
    files = tiny_model_files("st", seed=7)
    build_repo(tier, "org/tiny", {REV: {p: b for p, b in files.items() if p != "model.safetensors"}}, refs={})
    info = build_repo(project.global_cache, "org/tiny", {REV: files}, refs={})
    project.write_lock([{"id": "org/tiny", "revision": REV, "files": {
        p: {"size": f.size, "hash": f.etag} for p, f in info.files[REV].items()}}])  # fmt: skip
    opt = ("--shared-cache", str(tier))
    r = project.linker(*opt, "sync", "--offline")
    assert r.returncode == 0, r.stdout + r.stderr
    refs = project.global_cache / "models--org--tiny" / "refs" / "linker"
    (ref,) = list(refs.iterdir())  # split: the writable cache holds data, so it holds the project ref
    ref.unlink()
    before = tree_state(tier)

    with immutable(*all_paths(tier)):
        code, doc = run_json(project, *opt, "repair", "--offline")
    assert code == 0, json.dumps(doc, indent=1)[-3000:]
    assert ref.read_text().strip() == REV
    blobs = view_repo(project) / "blobs"
    in_tier = {n for n in os.listdir(blobs) if os.path.realpath(blobs / n).startswith(str(tier) + os.sep)}
    assert in_tier == {f.etag for p, f in info.files[REV].items() if p != "model.safetensors"}
    assert tree_state(tier) == before
    code, doc = run_json(project, *opt, "verify", "--full")
    assert code == 0, doc["problems"]
