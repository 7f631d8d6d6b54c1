"""`linker doctor` warns when datasets' own prepared cache could serve a pinned dataset at another revision."""

from __future__ import annotations

from pathlib import Path

from testing.cachefactory import build_repo, fake_commit
from testing.repairkit import run_json
from testing.synckit import lock_entry

DS = fake_commit("ds", 1)


def _project_with_dataset(project) -> None:
    build_repo(project.global_cache, "Org/DS", {DS: {"train.csv": b"a,b\n1,2\n"}}, repo_type="dataset")
    project.write_lock([lock_entry("Org/DS", DS, type="dataset")])
    assert project.linker("sync").returncode == 0


def _prepared(cache: Path, folder: str) -> Path:
    built = cache / folder / "default" / "0.0.0" / "0123abcd"
    built.mkdir(parents=True)
    (built / "dataset_info.json").write_text("{}")
    return cache / folder


def _datasets_checks(doc: dict) -> list[dict]:
    return [c for c in doc["checks"] if c["name"] == "datasets-cache"]


def test_a_prepared_datasets_cache_of_a_pinned_dataset_is_a_warning(project, tmp_path: Path) -> None:
    _project_with_dataset(project)
    code, doc = run_json(project, "doctor")
    assert code == 0 and [c["status"] for c in _datasets_checks(doc)] == ["ok"]

    hf_home = tmp_path / "hfhome"  # datasets' default: $HF_HOME/datasets; the folder is named org___name
    folder = _prepared(hf_home / "datasets", "org___ds")
    code, doc = run_json(project, "doctor", env={"HF_HOME": str(hf_home)})
    [check] = _datasets_checks(doc)
    assert code == 1 and check["status"] == "warn"
    assert str(folder) in check["summary"] and "Org/DS" in check["summary"] and "HF_HOME" in check["summary"]
    assert 'load_dataset(str(linker.path("Org/DS", type="dataset")))' in check["fix"]

    elsewhere = tmp_path / "dscache"  # HF_DATASETS_CACHE wins over HF_HOME
    folder = _prepared(elsewhere, "Org___DS")
    code, doc = run_json(project, "doctor", env={"HF_HOME": str(hf_home), "HF_DATASETS_CACHE": str(elsewhere)})
    [check] = _datasets_checks(doc)
    assert code == 1 and str(folder) in check["summary"] and "HF_DATASETS_CACHE" in check["summary"]


def test_no_datasets_line_without_a_pinned_dataset(project, tmp_path: Path) -> None:
    build_repo(project.global_cache, "org/m", {DS: {"config.json": b"{}"}})
    project.write_lock([lock_entry("org/m", DS)])
    assert project.linker("sync").returncode == 0
    _prepared(tmp_path / "hfhome" / "datasets", "org___m")
    code, doc = run_json(project, "doctor", env={"HF_HOME": str(tmp_path / "hfhome")})
    assert code == 0 and _datasets_checks(doc) == []
