"""A hostile or careless user against shared read-only tiers (issue 13): a tier dropped from the configuration, a
tier gone after a sync, the global cache moved into a tier. Each test says what the user saw before the fix."""

from __future__ import annotations

import os
from pathlib import Path

from testing.cachefactory import build_repo, tiny_model_files
from testing.hfprobe import load_file
from testing.hubhelpers import entry, push
from testing.synckit import OLD, lock_entry
from tests.conftest import Project


def tier_with_tiny(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A shared tier (its path has a space, as mounts often do) holding org/tiny@OLD."""
    tier = tmp_path / "shared hub"
    files = tiny_model_files("st", seed=1)
    build_repo(tier, "org/tiny", {OLD: files}, refs={"main": OLD})
    return tier, files


def test_cache_move_into_a_configured_tier_is_refused(project: Project, tmp_path: Path) -> None:
    """It planned (and, where root could write the tier, did) a move of the writable cache into the shared tier."""
    tier, _files = tier_with_tiny(tmp_path)
    build_repo(project.global_cache, "org/g", {OLD: tiny_model_files("bert", seed=3)}, refs={"main": OLD})
    before = sorted(os.listdir(tier))
    for how in (["--shared-cache", str(tier)], []):
        env = {} if how else {"LINKER_SHARED_CACHES": str(tier)}
        for args in (["--dry-run"], []):
            r = project.linker(*how, "cache", "move", str(tier / "sub"), *args, env=env)
            assert r.returncode == 2, r.stdout + r.stderr
            assert f"inside the shared cache {tier}" in r.stderr and "Traceback" not in r.stderr
    assert sorted(os.listdir(tier)) == before
    assert (project.global_cache / "models--org--g").is_dir()


def test_view_synced_with_a_tier_then_run_without_it_advises_the_tier_not_cache_dir(
    project: Project, tmp_path: Path
) -> None:
    """Run without LINKER_SHARED_CACHES, sync and doctor told the user `pass --cache-dir <tier>`: that makes the
    read-only tier the writable cache (refs and downloads go there). The advice names --shared-cache; nothing of
    the view is lost and it still loads offline."""
    tier, files = tier_with_tiny(tmp_path)
    project.write_lock([lock_entry()])
    r = project.linker("sync", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 0, r.stdout + r.stderr
    r = project.linker("sync", "--offline")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"--cache-dir {tier}" not in r.stderr and "Traceback" not in r.stderr
    assert f"the view links into the shared cache {tier}" in r.stderr
    assert f"--shared-cache '{tier}'" in r.stderr
    doctor = project.linker("doctor")
    assert f"--cache-dir {tier}" not in doctor.stdout + doctor.stderr
    assert f"--shared-cache '{tier}'" in doctor.stdout + doctor.stderr
    for name, data in files.items():
        assert load_file(project.view, "org/tiny", name) == data
    again = project.linker("sync", "--offline", "--shared-cache", str(tier))
    assert again.returncode == 0, again.stdout + again.stderr


def test_tier_gone_after_sync_verify_and_repair_name_it(project: Project, tmp_path: Path) -> None:
    """The tier went away (unmounted) after a sync: verify said only that the blobs were gone because "the global
    cache moved, or `hf cache rm`/`prune` removed it", never that the configured shared cache is not there."""
    tier, files = tier_with_tiny(tmp_path)
    project.write_lock([lock_entry()])
    env = {"LINKER_SHARED_CACHES": str(tier)}
    assert project.linker("sync", env=env).returncode == 0
    away = tier.rename(tmp_path / "unmounted")
    skipped = f"shared cache {tier} (from LINKER_SHARED_CACHES) is absent or unreadable; skipped"
    for verb in (["verify"], ["repair", "--offline"], ["repair", "--dry-run"]):
        r = project.linker(*verb, env=env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert skipped in r.stderr, (verb, r.stderr)
    away.rename(tier)  # back: nothing was lost, the view loads again
    r = project.linker("verify", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    for name, data in files.items():
        assert load_file(project.view, "org/tiny", name) == data


def test_empty_shared_cache_option_is_a_usage_error(project: Project, tmp_path: Path) -> None:
    """`--shared-cache "$SHARED"` with SHARED unset named the current folder: sync refused with "the project view
    ... lies inside the shared cache <project>", which sends the user looking at the wrong thing."""
    tier_with_tiny(tmp_path)
    project.write_lock([lock_entry()])
    for args in (["--shared-cache", "", "sync"], ["sync", "--shared-cache", ""], ["status", "--shared-cache", " "]):
        r = project.linker(*args)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "--shared-cache" in r.stderr and "empty" in r.stderr and "lies inside" not in r.stderr
    assert not project.view.exists()


def test_cache_move_without_the_tier_configured_keeps_the_views_tier_links(project: Project, tmp_path: Path) -> None:
    """A project synced with LINKER_SHARED_CACHES, then `linker cache move` in a shell without it: the move said
    "view NOT relinked (org/tiny: revision not in the global cache)" and exited 1, advising a sync that fails the
    same way. The view's tier links are kept, its global links follow the move, exit 0."""
    tier, files = tier_with_tiny(tmp_path)
    g_files = tiny_model_files("bert", seed=3)
    build_repo(project.global_cache, "org/g", {OLD: g_files}, refs={"main": OLD})
    project.write_lock([lock_entry(), lock_entry("org/g")])
    r = project.linker("sync", "--offline", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 0, r.stdout + r.stderr
    new = tmp_path / "bigdisk" / "hub"
    r = project.linker("cache", "move", str(new))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "NOT relinked" not in r.stdout + r.stderr
    project.global_cache = new
    for repo_id, want in (("org/tiny", files), ("org/g", g_files)):
        for name, data in want.items():
            assert load_file(project.view, repo_id, name) == data
    r = project.linker("verify", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 0, r.stdout + r.stderr


def test_verify_and_repair_without_the_tier_configured_keep_it_and_download_nothing(
    project: Project, tmp_path: Path, hub_store, hub, hub_env
) -> None:
    """Synced with LINKER_SHARED_CACHES, then verify and repair in a shell without it: verify failed on a missing
    project ref ("`hf cache prune` may delete the pin", fix `linker repair`) and repair downloaded every file of
    the pin the tier already serves into the writable cache. Verify still fails (a sync here would download the
    pin) but advises naming the tier; repair keeps the tier links and downloads nothing."""
    sha = push(hub_store, "acme/tiny")
    contents = {p: f.read_bytes() for p, f in hub_store.files_at("acme/tiny", sha).items()}
    lfs = {p for p, f in hub_store.files_at("acme/tiny", sha).items() if f.lfs}
    tier = tmp_path / "shared hub"
    build_repo(tier, "acme/tiny", {sha: contents}, refs={}, lfs=lfs)
    project.write_lock([entry(hub_store, "acme/tiny", sha)])
    r = project.linker("sync", env={**hub_env, "LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 0 and hub.requests == [], r.stdout + r.stderr
    note = f"--shared-cache '{tier}'"
    v = project.linker("verify", env=hub_env)
    assert v.returncode == 1, v.stdout + v.stderr
    assert note in v.stderr and "may delete the pin" not in v.stdout and f"fix: pass {note}" in v.stdout
    rep = project.linker("repair", env=hub_env)
    assert rep.returncode == 0, rep.stdout + rep.stderr
    assert note in rep.stderr
    assert [q for q in hub.requests if "/resolve/" in q["path"]] == []
    assert not any(project.global_cache.glob("models--*/blobs/*"))
    for name, data in contents.items():
        assert load_file(project.view, "acme/tiny", name) == data


def test_migrate_of_a_configured_tier_is_refused_unless_copy(project: Project, tmp_path: Path) -> None:
    """`linker migrate <tier>` with the tier configured moved every blob of the shared tier into the user's
    private cache and left symlinks to it in the tier: the tier was written, and every teammate's view then hung on
    one user's cache. Moving from a tier, or into one (`--to`), is refused; `--copy` reads it only."""
    tier, files = tier_with_tiny(tmp_path)
    before = sorted(str(p.relative_to(tier)) + ("@" if p.is_symlink() else "") for p in tier.rglob("*"))
    env = {"LINKER_SHARED_CACHES": str(tier)}
    for args in ([str(tier)], [str(tier / "models--org--tiny")], ["--hardlink", str(tier)]):
        r = project.linker("migrate", "--offline", *args, env=env)
        assert r.returncode == 2, r.stdout + r.stderr
        assert f"shared cache {tier}" in r.stderr and "--copy" in r.stderr
    elsewhere = tmp_path / "old-cache"
    build_repo(elsewhere, "org/other", {OLD: tiny_model_files("bert", seed=2)})
    r = project.linker("migrate", "--offline", "--to", str(tier / "sub"), str(elsewhere), env=env)
    assert r.returncode == 2 and f"shared cache {tier}" in r.stderr, r.stdout + r.stderr
    after = sorted(str(p.relative_to(tier)) + ("@" if p.is_symlink() else "") for p in tier.rglob("*"))
    assert after == before
    r = project.linker("migrate", "--offline", "--copy", str(tier), env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(str(p.relative_to(tier)) + ("@" if p.is_symlink() else "") for p in tier.rglob("*")) == before
    for name, data in files.items():
        assert load_file(project.global_cache, "org/tiny", name, revision=OLD) == data


def test_verify_hashes_never_quarantines_inside_a_tier(project: Project, tmp_path: Path) -> None:
    """`sync --verify-hashes` with a corrupt blob in the tier renamed it to `<etag>.<stamp>.linker-quarantine`
    inside the tier: the tier was written (and every teammate lost the file). The bad blob is reported and not
    linked; the tier is unchanged."""
    from testing.tierkit import tree_state

    tier, _files = tier_with_tiny(tmp_path)
    project.write_lock([lock_entry()])
    blob = next(p for p in (tier / "models--org--tiny" / "blobs").iterdir() if p.stat().st_size > 0)
    data = bytearray(blob.read_bytes())
    data[0] ^= 1
    blob.write_bytes(bytes(data))
    before = tree_state(tier)
    r = project.linker("sync", "--offline", "--verify-hashes", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hash mismatch" in r.stderr and "Traceback" not in r.stderr
    assert tree_state(tier) == before
    served = project.view / "models--org--tiny" / "blobs" / blob.name
    assert not os.path.exists(served) or os.path.realpath(served) != os.path.realpath(blob)


def test_verify_hashes_checks_tier_blobs_of_a_view_already_in_sync(project: Project, tmp_path: Path) -> None:
    """A view in sync with a tier, then a tier blob goes bad: `sync --verify-hashes` said "Already in sync" and
    exit 0, having hashed nothing the tier serves (it looked for the blobs in the writable cache)."""
    from testing.tierkit import tree_state

    tier, _files = tier_with_tiny(tmp_path)
    project.write_lock([lock_entry()])
    env = {"LINKER_SHARED_CACHES": str(tier)}
    assert project.linker("sync", "--offline", "--verify-hashes", env=env).returncode == 0
    blob = next(p for p in (tier / "models--org--tiny" / "blobs").iterdir() if p.stat().st_size > 0)
    data = bytearray(blob.read_bytes())
    data[0] ^= 1
    blob.write_bytes(bytes(data))
    before = tree_state(tier)
    r = project.linker("sync", "--offline", "--verify-hashes", env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hash mismatch" in r.stderr and blob.name in r.stderr and f"the shared cache {tier}" in r.stderr
    assert tree_state(tier) == before


def test_tier_blobs_linking_out_of_the_tier_are_explained(project: Project, tmp_path: Path) -> None:
    """An admin's tier whose blobs are links to a storage pool outside it: sync ignored the tier without a word
    and said only "11 file(s) not in the global cache", with a download as the fix."""
    tier, _files = tier_with_tiny(tmp_path)
    pool = tmp_path / "pool"
    pool.mkdir()
    blobs = tier / "models--org--tiny" / "blobs"
    for b in list(blobs.iterdir()):
        b.rename(pool / b.name)
        b.symlink_to(pool / b.name)
    project.write_lock([lock_entry()])
    r = project.linker("sync", "--offline", env={"LINKER_SHARED_CACHES": str(tier)})
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"org/tiny: 11 file(s) in the shared cache {tier} resolve outside it" in r.stderr, r.stderr
    assert str(pool) in r.stderr


def test_cache_move_into_a_tier_a_known_projects_lock_names_is_refused(project: Project, tmp_path: Path) -> None:
    """The tier named only in a project's `shared_caches:` (no env, no option): the move went into it."""
    tier, _files = tier_with_tiny(tmp_path)
    build_repo(project.global_cache, "org/g", {OLD: tiny_model_files("bert", seed=3)}, refs={"main": OLD})
    project.write_lock([lock_entry(), lock_entry("org/g")], shared_caches=[str(tier)])
    assert project.linker("sync", "--offline").returncode == 0
    r = project.linker("cache", "move", str(tier / "sub"), cwd=tmp_path)
    assert r.returncode == 2 and f"inside the shared cache {tier}" in r.stderr, r.stdout + r.stderr
    assert not (tier / "sub").exists() and (project.global_cache / "models--org--g").is_dir()
