"""A project is identified by where it is: a copied or renamed project gets its own ref in the global cache on its
next sync and never deletes another project's; judged by the real `hf cache prune` and huggingface_hub offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from testing.hfprobe import hf_cli, load_file, scan
from testing.synckit import NEW, OLD, lock_entry, two_revisions
from tests.conftest import Project

REFS = Path("models--org--tiny") / "refs" / "linker"


def linker_refs(project: Project) -> dict[str, str]:
    base = project.global_cache / REFS
    return {p.name: p.read_text() for p in base.iterdir()} if base.is_dir() else {}


def moved(project: Project, dest: Path) -> Project:
    other = Project(dest, project.global_cache)
    other.env = dict(project.env)
    return other


def synced_project(project: Project) -> dict[str, bytes]:
    _info, old, _new = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(linker_refs(project)) == 1
    return old


def test_a_copy_that_moves_its_pin_keeps_the_original_ref_and_prune_spares_it(project: Project, tmp_path: Path) -> None:
    old = synced_project(project)
    b = moved(project, tmp_path / "copy")
    shutil.copytree(project.root, b.root, symlinks=True)
    b.write_lock([lock_entry(revision=NEW)])  # as `linker lock --upgrade` in the copy would
    r = b.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    refs = linker_refs(project)
    assert sorted(refs.values()) == sorted([OLD, NEW]), refs  # A's ref survived, B has its own
    prune = hf_cli(["cache", "prune", "-y", "--cache-dir", str(project.global_cache)], hub_cache=project.global_cache)
    assert prune.returncode == 0, prune.stderr
    assert load_file(project.view, "org/tiny", "config.json") == old["config.json"]  # A still loads, offline
    assert project.linker("verify").returncode == 0


def test_a_renamed_project_is_not_in_sync_until_it_has_its_own_ref(project: Project, tmp_path: Path) -> None:
    synced_project(project)
    (before,) = linker_refs(project)
    b = moved(project, tmp_path / "renamed")
    shutil.move(project.root, b.root)
    check = b.linker("sync", "--check")
    assert check.returncode == 1, check.stdout + check.stderr
    r = b.linker("sync")
    assert r.returncode == 0 and "Already in sync" not in r.stdout, r.stdout
    refs = linker_refs(project)
    assert before in refs and len(refs) == 2  # the former path's ref is left to `linker gc`
    assert b.linker("verify").returncode == 0
    assert "Already in sync" in b.linker("sync").stdout


def test_repair_writes_a_missing_project_ref_for_real(project: Project, tmp_path: Path) -> None:
    synced_project(project)
    b = moved(project, tmp_path / "renamed")
    shutil.move(project.root, b.root)
    assert b.linker("verify").returncode == 1
    r = b.linker("repair", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0, doc
    assert b.linker("verify").returncode == 0
    assert len(linker_refs(project)) == 2


def test_the_owner_of_each_ref_is_recorded_where_scan_cache_dir_never_looks(project: Project) -> None:
    synced_project(project)
    (name,) = linker_refs(project)
    record = project.global_cache / ".locks" / "linker" / "projects" / f"{name}.json"
    assert json.loads(record.read_text())["lockfile"] == str(project.lock_path.resolve())
    assert scan(project.global_cache)["warnings"] == []
    g = str(project.global_cache)
    ls = hf_cli(["cache", "ls", "--revisions", "--cache-dir", g], hub_cache=g)
    assert ls.returncode == 0 and "warning" not in (ls.stdout + ls.stderr).lower(), ls.stdout + ls.stderr


def test_removing_an_entry_removes_only_this_projects_ref(project: Project, tmp_path: Path) -> None:
    synced_project(project)
    b = moved(project, tmp_path / "copy")
    shutil.copytree(project.root, b.root, symlinks=True)
    assert b.linker("sync").returncode == 0
    assert len(linker_refs(project)) == 2
    doc = yaml.safe_load(b.lock_path.read_text())
    doc["models"] = []
    b.lock_path.write_text(yaml.safe_dump(doc))
    assert b.linker("sync").returncode == 0
    assert list(linker_refs(project).values()) == [OLD]  # only the copy's own ref went
    assert project.linker("verify").returncode == 0


def test_a_ref_written_before_owner_records_existed_gets_its_record_on_the_next_sync(project: Project) -> None:
    synced_project(project)
    (name,) = linker_refs(project)
    record = project.global_cache / ".locks" / "linker" / "projects" / f"{name}.json"
    record.unlink()  # as a view synced by an older linker
    r = project.linker("sync")
    assert r.returncode == 0 and "Already in sync" in r.stdout, r.stdout
    assert json.loads(record.read_text())["lockfile"] == str(project.lock_path.resolve())
    gc = json.loads(project.linker("gc", "--dry-run", "--json").stdout)
    assert [ref["state"] for ref in gc["refs"]] == ["alive"]
