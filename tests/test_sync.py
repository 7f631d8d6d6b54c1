"""`linker sync`: the view it writes, judged by the real huggingface_hub and the real `hf` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testing.cachefactory import RepoInfo, build_repo, fake_commit, sha256_hex, tiny_model_files
from testing.hfprobe import hf_cli, load_file, run_hf, scan
from testing.readonly import read_only
from testing.repairkit import view_repo

OLD, NEW = fake_commit("tiny", 1), fake_commit("tiny", 2)


def two_revisions(g: Path, repo_id: str = "org/tiny", kind: str = "st", **kw) -> tuple[RepoInfo, dict, dict]:
    """A global cache where `main` has moved on from OLD to NEW (OLD is detached, as after a pin by sha)."""
    old, new = tiny_model_files(kind, seed=1), tiny_model_files(kind, seed=2)
    new["config.json"] = old["config.json"].replace(b"}", b', "v": 2}', 1)
    info = build_repo(g, repo_id, {OLD: old, NEW: new}, refs={"main": NEW}, **kw)
    return info, old, new


def lock_entry(repo_id: str = "org/tiny", revision: str = OLD, **kw) -> dict:
    return {"id": repo_id, "revision": revision, **kw}


def test_sync_gives_the_pin_to_unmodified_offline_code(project) -> None:
    _info, old, _new = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    assert "Synced 1 repo" in r.stdout

    result = run_hf(
        """
import hashlib
from huggingface_hub import hf_hub_download, snapshot_download, try_to_load_from_cache
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
result = {
    "no_rev": sha(hf_hub_download("org/tiny", "config.json")),
    "ref": sha(hf_hub_download("org/tiny", "model.safetensors", revision="main")),
    "sha": sha(hf_hub_download("org/tiny", "1_Pooling/config.json", revision=params)),
    "try": sha(try_to_load_from_cache("org/tiny", "modules.json")),
    "snap": sorted(__import__("os").listdir(snapshot_download("org/tiny"))),
    "snap_sub": snapshot_download("org/tiny", allow_patterns="1_Pooling/**").endswith(params),
}
""",
        hub_cache=project.view,
        params=OLD,
    )
    assert result["no_rev"] == sha256_hex(old["config.json"])
    assert result["ref"] == sha256_hex(old["model.safetensors"])
    assert result["sha"] == sha256_hex(old["1_Pooling/config.json"])
    assert result["try"] == sha256_hex(old["modules.json"])
    assert set(result["snap"]) >= {"config.json", "modules.json", "1_Pooling", "model.safetensors"}
    assert result["snap_sub"]


def test_view_layout_is_exactly_what_huggingface_hub_writes(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    repo = view_repo(project)
    for d in ("refs", "blobs", f"snapshots/{OLD}"):
        assert (repo / d).is_dir() and not (repo / d).is_symlink()
    assert (repo / "refs" / "main").read_bytes() == OLD.encode()  # no newline
    nested = repo / "snapshots" / OLD / "1_Pooling" / "config.json"
    assert os.readlink(nested) == "../../../blobs/" + info.etag(OLD, "1_Pooling/config.json")
    for path in old:
        etag = info.etag(OLD, path)
        blob = repo / "blobs" / etag
        assert os.readlink(blob) == os.path.realpath(info.blob_path(OLD, path))
        assert os.path.isabs(os.readlink(blob))
    assert (repo / "trees" / f"{OLD}.json").is_file()
    top = sorted(os.listdir(project.view))
    assert top == [".locks", "CACHEDIR.TAG", "models--org--tiny"]
    assert sorted(os.listdir(project.view / ".locks")) == ["linker-manifest.json", "linker.lock"]


def test_scan_cache_dir_sees_every_repo_without_warnings(project) -> None:
    two_revisions(project.global_cache)
    build_repo(project.global_cache, "gpt2", {fake_commit("gpt2"): tiny_model_files("bert", seed=5)})
    build_repo(project.global_cache, "org/data", {fake_commit("d"): {"train.csv": b"a,b\n1,2\n"}}, repo_type="dataset")
    project.write_lock(
        [
            lock_entry(),
            lock_entry("gpt2", fake_commit("gpt2")),
            lock_entry("org/data", fake_commit("d"), type="dataset"),
        ]
    )
    assert project.linker("sync").returncode == 0
    result = scan(project.view)
    assert result["warnings"] == []
    assert sorted(r["repo_id"] for r in result["repos"]) == ["gpt2", "org/data", "org/tiny"]
    tiny = next(r for r in result["repos"] if r["repo_id"] == "org/tiny")
    assert tiny["nb_files"] == len(tiny_model_files("st")) and tiny["size_on_disk"] > 0
    assert load_file(project.view, "org/data", "train.csv", repo_type="dataset") == b"a,b\n1,2\n"


def test_hf_cache_prune_spares_pinned_revisions_and_forgets_them_after_removal(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])

    def prune_selects_old() -> bool:
        r = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(project.global_cache)])
        assert r.returncode == 0, r.stderr
        return OLD[:8] in r.stdout or OLD in r.stdout

    assert prune_selects_old()  # detached before linker protects it: the check can fail
    assert project.linker("sync").returncode == 0
    refs = list((project.global_cache / "models--org--tiny" / "refs" / "linker").iterdir())
    assert len(refs) == 1 and refs[0].read_text() == OLD
    assert not prune_selects_old()
    project.write_lock([])
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    assert not (project.global_cache / "models--org--tiny" / "refs" / "linker").exists()
    assert not view_repo(project).exists()
    assert prune_selects_old()


def test_deleting_through_the_view_leaves_the_global_cache_intact(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    before = {p: p.read_bytes() for p in info.blobs.values()}
    run_hf(
        """
from huggingface_hub import scan_cache_dir
scan_cache_dir().delete_revisions(params).execute()
result = True
""",
        hub_cache=project.view,
        params=OLD,
    )
    assert not (view_repo(project) / "snapshots" / OLD).exists()
    assert {p: p.read_bytes() for p in info.blobs.values()} == before
    r = hf_cli(["cache", "rm", "-y", "--cache-dir", str(project.view), "model/org/tiny"])
    assert r.returncode == 0, r.stderr
    assert {p: p.read_bytes() for p in info.blobs.values()} == before
    assert load_file(project.global_cache, "org/tiny", "config.json", revision=OLD) == old["config.json"]


@pytest.mark.parametrize("mode", ["symlink", "hardlink", "copy"])
def test_link_modes(project, mode: str) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()], link_mode=mode)
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    blob = view_repo(project) / "blobs" / info.etag(OLD, "model.safetensors")
    source = Path(os.path.realpath(info.blob_path(OLD, "model.safetensors")))
    assert blob.is_symlink() == (mode == "symlink")
    if mode != "symlink":
        assert os.path.samefile(blob, source) == (mode == "hardlink")
        # The view survives deletion from the global cache.
        for p in info.blobs.values():
            p.unlink()
        assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    else:
        assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    # Still in sync: a hardlink or copy view does not depend on the global blobs it was made from.
    assert project.linker("sync", "--check").returncode == 0


def test_cli_flag_and_env_choose_the_link_mode_and_switching_relinks(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(OLD, "config.json")
    assert blob.is_symlink()
    assert project.linker("sync", "--check", "--link-mode", "copy").returncode == 1
    assert project.linker("sync", env={"LINKER_LINK_MODE": "copy"}).returncode == 0
    assert not blob.is_symlink() and blob.read_bytes() == old["config.json"]
    assert project.linker("sync", "--link-mode", "auto").returncode == 0
    assert blob.is_symlink()


def test_second_sync_changes_nothing_and_says_so(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    snapshot = {p: (p.lstat().st_mtime_ns, p.lstat().st_ino) for p in project.view.rglob("*")}
    r = project.linker("sync")
    assert r.returncode == 0
    assert "Already in sync" in r.stdout
    assert {p: (p.lstat().st_mtime_ns, p.lstat().st_ino) for p in project.view.rglob("*")} == snapshot


def test_check_and_dry_run_change_nothing(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync", "--check")
    assert r.returncode == 1 and not project.view.exists()
    r = project.linker("sync", "--dry-run")
    assert r.returncode == 0 and "Would change" in r.stdout and not project.view.exists()
    assert project.linker("sync").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    # Drift: a snapshot link removed by hand, a ref rewritten.
    (view_repo(project) / "snapshots" / OLD / "config.json").unlink()
    assert project.linker("sync", "--check").returncode == 1
    assert not (view_repo(project) / "snapshots" / OLD / "config.json").exists()
    assert project.linker("sync").returncode == 0
    (view_repo(project) / "refs" / "main").write_text(NEW)
    assert project.linker("sync", "--check").returncode == 1
    assert project.linker("sync").returncode == 0
    assert (view_repo(project) / "refs" / "main").read_text() == OLD


def test_json_output_is_one_document_on_stdout(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["applied"] is True and doc["problems"] == []
    assert {a["kind"] for a in doc["actions"]} >= {"blob", "link", "ref", "global-ref"}
    assert doc["entries"][0]["state"] in ("stale", "linked")
    doc = json.loads(project.linker("sync", "--json", "--check").stdout)
    assert doc["in_sync"] is True and doc["actions"] == []


def test_pin_change_relinks_and_removes_the_old_revision(project) -> None:
    _info, _old, new = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    project.write_lock([lock_entry(revision=NEW)])
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    repo = view_repo(project)
    assert sorted(os.listdir(repo / "snapshots")) == [NEW]
    assert (repo / "refs" / "main").read_text() == NEW
    assert not (repo / "trees" / f"{OLD}.json").exists()
    linked_blobs = set(os.listdir(repo / "blobs"))
    assert linked_blobs == {
        os.readlink(p).rsplit("/", 1)[1] for p in (repo / "snapshots" / NEW).rglob("*") if p.is_symlink()
    }
    (gref,) = (project.global_cache / "models--org--tiny" / "refs" / "linker").iterdir()
    assert gref.read_text() == NEW
    assert load_file(project.view, "org/tiny", "config.json") == new["config.json"]


def test_custom_ref_is_written_and_loads_by_that_name(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry(ref="v1.0")])
    assert project.linker("sync").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json", revision="v1.0") == old["config.json"]
    project.write_lock([lock_entry(ref="stable")])
    assert project.linker("sync").returncode == 0
    assert sorted(os.listdir(view_repo(project) / "refs")) == ["stable"]


def test_include_exclude_link_a_subset_without_a_trees_file(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry(include=["*.json"], exclude=["1_Pooling/*"])])
    assert project.linker("sync").returncode == 0
    files = sorted(p.relative_to(view_repo(project) / "snapshots" / OLD).as_posix()
                   for p in (view_repo(project) / "snapshots" / OLD).rglob("*") if p.is_symlink())  # fmt: skip
    assert files and all(f.endswith(".json") and not f.startswith("1_Pooling") for f in files)
    # A partial view must not carry trees/<sha>.json, or offline snapshot_download would raise.
    assert not (view_repo(project) / "trees").exists()
    result = run_hf(
        "from huggingface_hub import snapshot_download\nresult = bool(snapshot_download('org/tiny'))",
        hub_cache=project.view,
    )
    assert result is True


def test_stale_entries_are_removed_but_foreign_files_are_refused(project) -> None:
    two_revisions(project.global_cache)
    build_repo(project.global_cache, "org/other", {fake_commit("o"): {"a.json": b"{}"}})
    project.write_lock([lock_entry(), lock_entry("org/other", fake_commit("o"))])
    assert project.linker("sync").returncode == 0
    # A file the user put inside a linker-made repo folder, and a repo folder linker never made.
    foreign = view_repo(project, "org/other") / "notes.txt"
    foreign.write_text("mine")
    own_repo = project.view / "models--me--own"
    (own_repo / "snapshots").mkdir(parents=True)
    project.write_lock([lock_entry()])
    r = project.linker("sync")
    assert r.returncode == 1
    assert "notes.txt" in r.stdout and "linker did not create" in r.stdout
    assert foreign.read_text() == "mine"
    assert not (view_repo(project, "org/other") / "snapshots").exists()
    assert own_repo.exists()
    r = project.linker("sync", "--force")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not foreign.exists() and own_repo.exists()
    moved = list((view_repo(project, "org/other") / "blobs").glob("notes.txt.*.linker-quarantine"))
    assert [m.read_text() for m in moved] == ["mine"] and str(moved[0]) in r.stderr  # moved aside, not deleted
    assert project.linker("sync").returncode == 0


def test_sync_refuses_to_replace_real_files_it_did_not_create(project) -> None:
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    blob = view_repo(project) / "blobs" / info.etag(OLD, "config.json")
    blob.parent.mkdir(parents=True)
    blob.write_bytes(b"someone's real data")
    r = project.linker("sync")
    assert r.returncode == 1 and "linker did not create" in r.stdout and "linker migrate" in r.stdout
    assert blob.read_bytes() == b"someone's real data"
    assert project.linker("sync", "--force").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_missing_revision_is_reported_with_the_fetch_command_and_the_rest_is_linked(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock(
        [lock_entry(), lock_entry("org/absent", "f" * 40, include=["*.json"]), lock_entry("org/tiny2", "e" * 40)]
    )
    r = project.linker("sync", "--offline")
    assert r.returncode == 1
    assert f"hf download org/absent --revision {'f' * 40} --include '*.json'" in r.stdout
    assert f"hf download org/tiny2 --revision {'e' * 40}" in r.stdout
    assert view_repo(project).is_dir()
    assert not view_repo(project, "org/absent").exists()


def test_partial_global_snapshot_links_what_exists_and_reports_the_rest(project) -> None:
    files = tiny_model_files("bert")
    build_repo(project.global_cache, "org/p", {OLD: files}, partial={OLD: ["config.json"]})
    project.write_lock([lock_entry("org/p")])
    r = project.linker("sync", "--offline")
    assert r.returncode == 1 and "not in the global cache" in r.stdout
    st = json.loads(project.linker("status", "--json").stdout)
    assert st["entries"][0]["state"] == "partial"
    assert load_file(project.view, "org/p", "config.json") == files["config.json"]


def test_shared_blob_store_is_resolved_to_the_payload(project) -> None:
    info, old, _ = two_revisions(project.global_cache, shared_store=True)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    blob = view_repo(project) / "blobs" / info.etag(OLD, "model.safetensors")
    target = os.readlink(blob)
    assert f"{os.sep}blobs{os.sep}" in target and "models--org--tiny" not in target  # the store payload itself
    assert load_file(project.view, "org/tiny", "model.safetensors") == old["model.safetensors"]
    assert scan(project.view)["warnings"] == []


def test_global_cache_written_without_symlinks(project) -> None:
    files = tiny_model_files("bert", seed=3)
    build_repo(project.global_cache, "org/win", {OLD: files}, symlinks=False)
    project.write_lock([lock_entry("org/win")])
    assert project.linker("sync").returncode == 0
    assert load_file(project.view, "org/win", "model.safetensors") == files["model.safetensors"]
    assert scan(project.view)["warnings"] == []


def test_global_cache_choice_follows_huggingface_hub(project, tmp_path: Path) -> None:
    """HF_HUB_CACHE > HUGGINGFACE_HUB_CACHE > HF_HOME/hub > XDG_CACHE_HOME, compared with the real constant."""
    from linker.hfcache import global_cache_dir

    cases = [
        {"HF_HUB_CACHE": str(tmp_path / "a"), "HUGGINGFACE_HUB_CACHE": str(tmp_path / "b")},
        {"HUGGINGFACE_HUB_CACHE": "~/legacy", "HF_HOME": str(tmp_path / "h")},
        {"HF_HOME": str(tmp_path / "h")},
        {"XDG_CACHE_HOME": str(tmp_path / "x")},
        {},
    ]
    for case in cases:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HOME", "XDG_CACHE_HOME")
        }
        env.update(case)
        real = subprocess.run(
            [sys.executable, "-c", "from huggingface_hub import constants; print(constants.HF_HUB_CACHE)"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        ours = subprocess.run(
            [sys.executable, "-c", "from linker.hfcache import global_cache_dir; print(global_cache_dir()[0])"],
            env=env, capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert os.path.abspath(real) == ours, case
    assert global_cache_dir("/x/y")[1] == "--cache-dir"


def test_cache_dir_option_overrides_the_environment(project, tmp_path: Path) -> None:
    other = tmp_path / "other-hub"
    _info, old, _ = two_revisions(other)
    project.write_lock([lock_entry()])
    assert project.linker("sync", "--offline").returncode == 1  # not in $HF_HUB_CACHE
    assert project.linker("--cache-dir", str(other), "sync").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_eight_concurrent_syncs_end_with_a_valid_view(project) -> None:
    two_revisions(project.global_cache)
    for i in range(3):
        build_repo(project.global_cache, f"org/m{i}", {fake_commit("m", i): tiny_model_files("bert", seed=i)})
    project.write_lock([lock_entry(), *(lock_entry(f"org/m{i}", fake_commit("m", i)) for i in range(3))])
    env = {**os.environ, "HF_HUB_CACHE": str(project.global_cache)}
    procs = [
        subprocess.Popen([sys.executable, "-m", "linker", "sync"], cwd=project.root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]  # fmt: skip
    results = [(p.wait(timeout=120), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _ in results), results
    assert project.linker("sync", "--check").returncode == 0
    assert scan(project.view)["warnings"] == []
    assert not [p for p in project.view.rglob("*.linker-tmp")]


def test_lock_timeout_exits_4(project) -> None:
    from filelock import FileLock

    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    lock_file = project.view / ".locks" / "linker.lock"
    lock_file.parent.mkdir(parents=True)
    with FileLock(str(lock_file)):
        r = project.linker("sync", env={"LINKER_LOCK_TIMEOUT": "0.3"})
    assert r.returncode == 4 and "project lock" in r.stderr


def test_read_only_global_cache_still_syncs_in_symlink_mode(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    dirs = [project.global_cache, *[p for p in project.global_cache.rglob("*") if p.is_dir() and not p.is_symlink()]]
    with read_only(*dirs):
        r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "read-only" in r.stderr
    assert not (project.global_cache / "models--org--tiny" / "refs" / "linker").exists()
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


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


def test_env_and_run_point_code_at_the_view(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    r = project.linker("env")
    assert r.stdout.splitlines() == [f"export HF_HUB_CACHE={project.view}", "export HF_HUB_OFFLINE=1"]
    code = (
        "import sys; from huggingface_hub import hf_hub_download, constants;"
        "sys.stdout.write(open(hf_hub_download('org/tiny','config.json')).read());"
        "sys.exit(0 if constants.HF_HUB_OFFLINE else 5)"
    )
    r = project.linker("run", "--", sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.encode() == old["config.json"]
    assert project.linker("run", "--", sys.executable, "-c", "raise SystemExit(7)").returncode == 7


def test_version_help_and_usage_errors() -> None:
    run = lambda *a: subprocess.run([sys.executable, "-m", "linker", *a], capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout.startswith("linker, version")
    r = run("--help")
    assert r.returncode == 0 and "sync" in r.stdout and "status" in r.stdout
    assert run("sync", "--bogus").returncode == 2
    assert run("nosuchcommand").returncode == 2


def test_project_reached_through_a_symlink_is_one_project(project, tmp_path: Path) -> None:
    """hub resolve()s cache_dir (pitfall 14): the view must work, and stay one project, through either path."""
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    alias = tmp_path / "alias"
    alias.symlink_to(project.root, target_is_directory=True)
    assert project.linker("sync", cwd=alias).returncode == 0
    r = project.linker("sync", cwd=project.root)
    assert r.returncode == 0 and "Already in sync" in r.stdout
    refs = list((project.global_cache / "models--org--tiny" / "refs" / "linker").iterdir())
    assert len(refs) == 1
    assert load_file(alias / "models_cache", "org/tiny", "config.json") == old["config.json"]
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_a_blob_gone_from_the_global_cache_keeps_its_view_link_until_it_is_back(project) -> None:
    """Sync must not forget which blob a file had: repair relinks or re-fetches it by that name."""
    info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    link = view_repo(project) / "snapshots" / OLD / "config.json"
    target = os.readlink(link)
    blob = info.blob_path(OLD, "config.json")
    saved = blob.read_bytes()
    blob.unlink()
    r = project.linker("sync", "--offline")
    assert r.returncode == 1 and "not in the global cache" in r.stdout
    assert os.readlink(link) == target and not link.exists()  # dangling, but kept
    assert json.loads(project.linker("status", "--json").stdout)["entries"][0]["state"] == "broken"
    blob.write_bytes(saved)
    assert project.linker("sync", "--offline").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]


def test_directory_stamps_prove_a_noop_yet_catch_any_change(project) -> None:
    """The no-op fast path trusts directory mtimes (like git's index); each kind of change must still show."""
    from linker.sync.diff import _fast_in_sync
    from linker.sync.manifest import load_manifest

    info, _old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    assert project.linker("sync").returncode == 0  # refreshes stamps that were racy
    manifest = load_manifest(project.view)
    (rec,) = manifest.repos.values()
    assert rec.dirs and all(m < manifest.stamp_ns for m in rec.dirs.values())
    assert any(d.startswith(str(project.global_cache)) for d in rec.dirs)
    assert _fast_in_sync(rec, rec.spec, view_repo(project), manifest.stamp_ns) == "dirs"

    info.blob_path(OLD, "modules.json").unlink()  # a global blob disappears
    assert project.linker("sync", "--check").returncode == 1
    info.blob_path(OLD, "modules.json").write_bytes(_old["modules.json"])
    assert project.linker("sync").returncode == 0
    assert project.linker("sync", "--check").returncode == 0
    link = view_repo(project) / "snapshots" / OLD / "1_Pooling" / "config.json"
    link.unlink()  # a view link in a nested folder disappears
    link.symlink_to("../../../blobs/" + "0" * 40)
    assert project.linker("sync", "--check").returncode == 1
