"""Shared read-only cache tiers (`--shared-cache`, LINKER_SHARED_CACHES, the lock's `shared_caches:`): sync links
each pinned file from the first tier holding its blob, downloads only what no tier holds into the writable global
cache, and never writes a tier. Each tier here is made truly read-only (chattr +i on every file and folder: root
ignores mode bits) and its whole tree is compared before and after, bytes, names and mtimes."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from testing.fsfaults import immutable
from testing.hfprobe import load_file, snapshot_files
from testing.hubhelpers import entry, push
from testing.synckit import OLD, lock_entry

REPO = "acme/tiny"


def tree_state(root: Path) -> dict[str, object]:
    """Every name under `root` with its type, mtime and content (bytes, or a link's text)."""
    out: dict[str, object] = {".": os.stat(root).st_mtime_ns}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                content: object = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                content = Path(p).read_bytes()
            else:
                content = None
            out[os.path.relpath(p, root)] = (stat.S_IFMT(st.st_mode), st.st_mtime_ns, content)
    return out


@contextlib.contextmanager
def frozen(*roots: Path) -> Iterator[None]:
    """chattr +i on every folder and regular file of `roots` (links sit in immutable folders); asserts on the way
    out that nothing in them changed."""
    paths: list[Path] = []
    for root in roots:
        paths.append(root)
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath, name)
                if not p.is_symlink():
                    paths.append(p)
    before = [tree_state(r) for r in roots]
    with immutable(*paths):
        yield
    assert [tree_state(r) for r in roots] == before


def view_blob_targets(project, repo_id: str) -> dict[str, str]:
    """etag -> the real path each view blob resolves to."""
    blobs = project.view / f"models--{repo_id.replace('/', '--')}" / "blobs"
    return {name: os.path.realpath(blobs / name) for name in os.listdir(blobs)}


def inside(path: str, root: Path) -> bool:
    return path.startswith(os.path.realpath(root) + os.sep)


def notice(tier: Path) -> str:
    return f"pinned data in {tier} is protected by no ref of yours"


def test_every_pin_in_a_tier_links_from_it_with_no_download_and_no_ref(project, tmp_path, hub, hub_env) -> None:
    tier = tmp_path / "shared" / "hub"
    files = tiny_model_files("st", seed=1)
    build_repo(tier, "org/tiny", {OLD: files}, refs={"main": OLD})
    other = fake_commit("other", 1)
    other_files = tiny_model_files("bert", seed=4)
    info = build_repo(tier, "org/other", {other: other_files})
    locked = {p: {"size": f.size, "hash": f.etag} for p, f in info.files[other].items()}
    project.write_lock([lock_entry(), lock_entry("org/other", other, files=locked)])
    with frozen(tier):
        r = project.linker("--shared-cache", str(tier), "sync", env=hub_env)
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stderr.count(notice(tier)) == 1  # once per tier, not once per entry
        assert hub.requests == []  # nothing downloaded: the tier has it all
        assert not any(project.global_cache.glob("models--*"))  # no blob, no ref in the writable cache
        for repo_id, want in (("org/tiny", files), ("org/other", other_files)):
            assert all(inside(t, tier) for t in view_blob_targets(project, repo_id).values())
            for path, data in want.items():
                assert load_file(project.view, repo_id, path) == data
            got = snapshot_files(project.view, repo_id)
            assert isinstance(got, dict) and set(got) == set(want)
        again = project.linker("sync", "--shared-cache", str(tier), env=hub_env)  # the option after the verb too
        assert again.returncode == 0 and "Already in sync" in again.stdout, again.stdout + again.stderr
        assert notice(tier) in again.stderr
        status = project.linker("--shared-cache", str(tier), "status")
    assert status.returncode == 0, status.stderr
    assert "SOURCE" in status.stdout and f"shared:{tier}" in status.stdout
    assert notice(tier) in status.stderr


def test_split_pin_downloads_only_what_the_tier_lacks(project, tmp_path, hub_store, hub, hub_env) -> None:
    sha = push(hub_store, REPO)
    hub_files = hub_store.files_at(REPO, sha)
    contents = {p: f.read_bytes() for p, f in hub_files.items()}
    in_tier = sorted(contents)[::2]
    tier = tmp_path / "shared" / "hub"
    lfs = {p for p, f in hub_files.items() if f.lfs}
    info = build_repo(tier, REPO, {sha: contents}, refs={}, lfs=lfs, partial={sha: in_tier})
    assert {p: fi.etag for p, fi in info.files[sha].items()} == {p: f.etag for p, f in hub_files.items()}
    project.write_lock([entry(hub_store, REPO, sha)])
    missing = set(contents) - set(in_tier)
    with frozen(tier):
        r = project.linker("sync", env={**hub_env, "LINKER_SHARED_CACHES": str(tier)})
        assert r.returncode == 0, r.stdout + r.stderr
        downloaded = {q["path"].split(f"/resolve/{sha}/", 1)[-1] for q in hub.requests if "/resolve/" in q["path"]}
        assert downloaded == missing
        g = project.global_cache / "models--acme--tiny"
        assert set(os.listdir(g / "blobs")) == {hub_files[p].etag for p in missing}
        refs = [p for p in (g / "refs").rglob("*") if p.is_file()]
        assert [p.read_text() for p in refs if "linker" in p.parts] == [sha]  # the project's ref, in the global cache
        targets = view_blob_targets(project, REPO)
        for path in contents:
            where = tier if path in in_tier else project.global_cache
            assert inside(targets[hub_files[path].etag], where), path
            assert load_file(project.view, REPO, path) == contents[path]
        doc = json.loads(
            project.linker("status", "--json", env={"LINKER_SHARED_CACHES": str(tier), "HF_HUB_OFFLINE": "1"}).stdout
        )
    assert doc["entries"][0]["served"] == "split"
    assert doc["shared_caches"] == [{"path": str(tier), "source": "LINKER_SHARED_CACHES"}]


def test_first_tier_with_the_right_blob_wins(project, tmp_path) -> None:
    files = tiny_model_files("st", seed=1)
    first, second = tmp_path / "first", tmp_path / "second"
    wrong = dict(files, **{"config.json": b'{"not": "the pinned one"}'})
    build_repo(first, "org/tiny", {OLD: wrong}, refs={})  # same commit, another blob for config.json
    info = build_repo(second, "org/tiny", {OLD: files}, refs={})
    locked = {p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()}
    project.write_lock([lock_entry(files=locked)])
    with frozen(first, second):
        r = project.linker("sync", "--offline", env={"LINKER_SHARED_CACHES": f"{first}{os.pathsep}{second}"})
        assert r.returncode == 0, r.stdout + r.stderr
        targets = view_blob_targets(project, "org/tiny")
        for path, fi in info.files[OLD].items():
            assert inside(targets[fi.etag], second if path == "config.json" else first), path
            assert load_file(project.view, "org/tiny", path) == files[path]
        assert notice(first) in r.stderr and notice(second) in r.stderr


def test_lock_key_shared_caches_and_an_absent_tier(project, tmp_path) -> None:
    tier = project.root / "team-cache"  # relative in the lock: taken from the lockfile's folder
    files = tiny_model_files("st", seed=2)
    build_repo(tier, "org/tiny", {OLD: files}, refs={})
    absent = tmp_path / "not-mounted"
    project.write_lock([lock_entry()], shared_caches=[str(absent), "team-cache"])
    with frozen(tier):
        r = project.linker("sync", "--offline")
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"shared cache {absent} (from shared_caches) is absent or unreadable; skipped" in r.stderr
        assert all(inside(t, tier) for t in view_blob_targets(project, "org/tiny").values())
        assert load_file(project.view, "org/tiny", "model.safetensors") == files["model.safetensors"]


def test_unreadable_tier_is_skipped_and_the_global_cache_serves(project, tmp_path) -> None:
    files = tiny_model_files("st", seed=3)
    build_repo(project.global_cache, "org/tiny", {OLD: files})
    project.write_lock([lock_entry()])
    gone = tmp_path / "gone"
    r = project.linker("--shared-cache", str(gone), "sync", "--offline")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr.count(f"shared cache {gone}") == 1 and "skipped" in r.stderr
    assert load_file(project.view, "org/tiny", "config.json") == files["config.json"]
    doc = json.loads(project.linker("--shared-cache", str(gone), "status", "--json").stdout)
    assert doc["entries"][0]["served"] == "global"


def test_tier_link_out_of_the_tier_is_not_followed(project, tmp_path) -> None:
    """A tier whose snapshot link leads outside it (to a file the tier does not hold) serves nothing for that file."""
    files = tiny_model_files("st", seed=5)
    tier = tmp_path / "tier"
    info = build_repo(tier, "org/tiny", {OLD: files}, refs={})
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    etag = info.files[OLD]["config.json"].etag
    blob = tier / "models--org--tiny" / "blobs" / etag
    (outside / etag).write_bytes(blob.read_bytes())
    blob.unlink()
    blob.symlink_to(outside / etag)
    project.write_lock([lock_entry(files={p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()})])
    r = project.linker("--shared-cache", str(tier), "sync", "--offline")
    assert r.returncode == 1  # config.json is nowhere this sync may link it from
    assert "config.json" in r.stdout and "not in the global cache" in r.stdout
    assert not any(inside(t, outside) for t in view_blob_targets(project, "org/tiny").values())


def test_library_sync_refuses_a_view_inside_a_tier(project) -> None:
    from linker.errors import ConfigError
    from linker.lockfile import load_lockfile
    from linker.sync import sync

    project.write_lock([lock_entry()])
    lock = load_lockfile(project.lock_path)
    with pytest.raises(ConfigError, match="the project view"):
        sync(lock, project.global_cache, shared=[project.root], dry_run=True)
    assert not project.view.exists()


@pytest.mark.parametrize("verb", ["sync", "status", "verify", "repair"])
def test_a_view_named_as_a_shared_cache_is_refused_naming_the_tier(project, verb) -> None:
    project.write_lock([lock_entry()])
    r = project.linker(verb, "--shared-cache", str(project.view))
    assert r.returncode == 2, r.stdout + r.stderr
    assert f"is the shared cache {project.view}" in r.stderr
    assert not project.view.exists()


def test_dangerous_pickle_in_a_tier_is_read_there_and_refused(project, tmp_path) -> None:
    from testing.picklegen import make_pickles

    gen = make_pickles(tmp_path / "gen", tmp_path / "pwned")
    files = {**tiny_model_files("bert"), "evil.pkl": gen["evil.pkl"]}
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: files}, refs={})
    project.write_lock([lock_entry()])  # no `files`: the list comes from the tier's listing too
    with frozen(tier):
        r = project.linker("--shared-cache", str(tier), "sync", "--offline")
    assert r.returncode == 1 and "evil.pkl is a dangerous pickle" in r.stderr, r.stderr
    assert not (project.view / "models--org--tiny" / "snapshots" / OLD / "evil.pkl").exists()


def test_changing_the_tiers_plans_again(project, tmp_path) -> None:
    """A view synced from a tier, then synced without it, links from the global cache (no stale fast path)."""
    files = tiny_model_files("st", seed=6)
    in_tier = sorted(files)[::2]
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: files}, refs={}, partial={OLD: in_tier})
    build_repo(project.global_cache, "org/tiny", {OLD: files}, partial={OLD: sorted(set(files) - set(in_tier))})
    project.write_lock([lock_entry()])
    with frozen(tier):
        assert project.linker("--shared-cache", str(tier), "sync", "--offline").returncode == 0
        assert any(inside(t, tier) for t in view_blob_targets(project, "org/tiny").values())
        build_repo(project.global_cache, "org/tiny", {OLD: files})  # now the global cache has it all
        r = project.linker("sync", "--offline")
        assert r.returncode == 0 and "Already in sync" not in r.stdout, r.stdout
        assert all(inside(t, project.global_cache) for t in view_blob_targets(project, "org/tiny").values())
        assert project.linker("sync", "--check").returncode == 0


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_copy_view_copies_from_a_tier_and_hardlink_view_leaves_it_alone(project, tmp_path, mode) -> None:
    files = tiny_model_files("st", seed=7)
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: files}, refs={})
    if mode == "hardlink":
        build_repo(project.global_cache, "org/tiny", {OLD: files})
    project.write_lock([lock_entry()])
    with frozen(tier):
        r = project.linker("--shared-cache", str(tier), "sync", "--offline", "--link-mode", mode)
        assert r.returncode == 0, r.stdout + r.stderr
        for path, data in files.items():
            assert load_file(project.view, "org/tiny", path) == data
        if mode == "hardlink":
            assert "a hardlink view links nothing from the shared caches" in r.stderr
    blobs = project.view / "models--org--tiny" / "blobs"
    assert all(not (blobs / b).is_symlink() for b in os.listdir(blobs))
    assert notice(tier) not in r.stderr  # a copy needs no protection; a hardlink view did not use the tier


def test_cache_move_keeps_the_links_into_a_tier(project, tmp_path) -> None:
    files = tiny_model_files("st", seed=8)
    in_tier = sorted(files)[::2]
    tier = tmp_path / "tier"
    info = build_repo(tier, "org/tiny", {OLD: files}, refs={}, partial={OLD: in_tier})
    build_repo(project.global_cache, "org/tiny", {OLD: files}, partial={OLD: sorted(set(files) - set(in_tier))})
    project.write_lock([lock_entry(files={p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()})])
    new = tmp_path / "bigdisk" / "hub"
    with frozen(tier):
        r = project.linker("--shared-cache", str(tier), "sync", "--offline")
        assert r.returncode == 0, r.stdout + r.stderr
        r = project.linker("--shared-cache", str(tier), "cache", "move", str(new))
        assert r.returncode == 0, r.stdout + r.stderr
        targets = view_blob_targets(project, "org/tiny")
        for path, data in files.items():
            assert inside(targets[info.files[OLD][path].etag], tier if path in in_tier else new), path
            assert load_file(project.view, "org/tiny", path) == data


def test_a_view_served_by_a_tier_takes_the_fast_path(project, tmp_path) -> None:
    """No ref (so no owner record) in the global cache must not cost a full re-plan on every run: a second sync
    proves the view in sync from its manifest alone, and leaves the manifest as it was."""
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: tiny_model_files("st", seed=9)}, refs={})
    project.write_lock([lock_entry()])
    with frozen(tier):
        assert project.linker("--shared-cache", str(tier), "sync", "--offline").returncode == 0
        manifest = project.view / ".locks" / "linker-manifest.json"
        before = manifest.stat().st_mtime_ns
        r = project.linker("--shared-cache", str(tier), "sync", "--offline")
        assert r.returncode == 0 and "Already in sync" in r.stdout and notice(tier) in r.stderr
        assert manifest.stat().st_mtime_ns == before


def test_a_download_under_way_in_a_tier_is_reported_not_locked(project, tmp_path) -> None:
    """An unproven entry (no `files`, no listing) whose tier holds a `.incomplete` blob: sync says so and links
    what is there; it takes no lock there (a lock file would be a write: the frozen tier would refuse it)."""
    files = tiny_model_files("st", seed=10)
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: files}, refs={}, trees=False)
    (tier / "models--org--tiny" / "blobs" / f"{'a' * 64}.0badf00d.incomplete").write_bytes(b"half")
    project.write_lock([lock_entry()])
    with frozen(tier):
        r = project.linker("--shared-cache", str(tier), "sync", "--offline")
        assert r.returncode == 0, r.stdout + r.stderr
        assert f"shared cache {tier} holds a download in progress" in r.stderr
        assert load_file(project.view, "org/tiny", "config.json") == files["config.json"]


def test_the_record_names_the_tiers_it_was_synced_with(project, tmp_path) -> None:
    """For verify: a record of a sync through a tier matches the entry only with that tier list."""
    from linker.lockfile import load_lockfile
    from linker.sync.manifest import load_manifest, record_matches

    tier = tmp_path / "tier"
    info = build_repo(tier, "org/tiny", {OLD: tiny_model_files("st", seed=11)}, refs={})
    project.write_lock([lock_entry(files={p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()})])
    assert project.linker("--shared-cache", str(tier), "sync", "--offline").returncode == 0
    entry_ = load_lockfile(project.lock_path).entries[0]
    rec = load_manifest(project.view).repos["models--org--tiny"]
    assert rec.served == f"shared:{tier}" and rec.shared == [str(tier)] and rec.global_ref is None
    assert record_matches(entry_, rec, project.global_cache, [tier])
    assert not record_matches(entry_, rec, project.global_cache)


def test_an_unproven_split_pin_sees_a_file_the_tier_gains(project, tmp_path) -> None:
    """An entry with no `files` and no trees/ listing is proven in sync by folder stamps of the global snapshot
    only when no tier serves it: a file a tier's snapshot gains must be linked by the next sync, not hidden by the
    unchanged stamps of the global snapshot folder."""
    files = tiny_model_files("st", seed=5)
    names = sorted(files)
    tier = tmp_path / "tier"
    build_repo(tier, "org/tiny", {OLD: {p: files[p] for p in names[:4]}}, refs={}, trees=False)
    build_repo(project.global_cache, "org/tiny", {OLD: {p: files[p] for p in names[4:-1]}}, refs={}, trees=False)
    project.write_lock([lock_entry()])
    env = {"LINKER_SHARED_CACHES": str(tier)}
    r = project.linker("sync", "--offline", env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sorted(snapshot_files(project.view, "org/tiny", OLD)) == names[:-1]
    snap = tier / "models--org--tiny" / "snapshots" / OLD
    os.symlink(os.readlink(snap / names[0]), snap / "copy-of-first")  # a new path to a blob the tier holds:
    r = project.linker("sync", "--offline", env=env)  # only the tier's snapshot folder changed
    assert r.returncode == 0, r.stdout + r.stderr
    assert load_file(project.view, "org/tiny", "copy-of-first") == files[names[0]]
