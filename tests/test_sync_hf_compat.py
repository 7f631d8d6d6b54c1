"""`linker sync`: the view it writes, judged by the real huggingface_hub and the real `hf` CLI."""

from __future__ import annotations

import os

from testing.cachefactory import build_repo, fake_commit, sha256_hex, tiny_model_files
from testing.hfprobe import hf_cli, load_file, run_hf, scan
from testing.repairkit import view_repo
from testing.synckit import OLD, lock_entry, two_revisions


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
