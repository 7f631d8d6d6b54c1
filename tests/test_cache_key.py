"""`linker cache-key`: a CI cache key that only the pins change (issue 13, CI)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import yaml

from tests.conftest import Project

SHA_A = "a" * 40
SHA_B = "b" * 40
SHA_C = "c" * 40

LOCK = f"""\
version: 1
cache_dir: models_cache
models:
  - id: org/alpha
    revision: {SHA_A}
    include: ["*.json", "*.safetensors"]
  - id: org/beta
    type: dataset
    revision: {SHA_B}
    ref: v1
    files:
      data.csv: {{size: 3, hash: {"d" * 40}}}
"""

# The same pins: entries and globs reordered, comments, another style, a link mode.
REFORMATTED = f"""\
# the team's models
version: 1
link_mode: copy
cache_dir: ./models_cache   # the view
models:
- type: dataset
  files: {{data.csv: {{hash: {"d" * 40}, size: 3}}}}
  ref: v1
  revision: {SHA_B}
  id: org/beta
- revision: {SHA_A}   # pinned
  include:
  - "*.safetensors"
  - "*.json"
  id: org/alpha
"""


def _key(project: Project, *args: str, cwd: Path | None = None) -> str:
    r = project.linker("cache-key", *args, cwd=cwd)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_key_is_stable_across_order_comments_formatting(project: Project) -> None:
    project.lock_path.write_text(LOCK)
    key = _key(project)
    assert len(key) == 64 and all(c in "0123456789abcdef" for c in key)
    project.lock_path.write_text(REFORMATTED)
    assert _key(project) == key


def test_key_changes_with_a_pin_or_an_include(project: Project) -> None:
    project.lock_path.write_text(LOCK)
    key = _key(project)
    project.lock_path.write_text(LOCK.replace(f"revision: {SHA_A}", f"revision: {SHA_C}"))
    repinned = _key(project)
    project.lock_path.write_text(LOCK.replace('"*.json", ', ""))
    narrowed = _key(project)
    project.lock_path.write_text(LOCK.replace("ref: v1", "ref: v2"))
    reref = _key(project)
    assert len({key, repinned, narrowed, reref}) == 4


def test_two_checkouts_in_different_folders_get_the_same_key(project: Project, tmp_path: Path) -> None:
    project.lock_path.write_text(LOCK)
    other = tmp_path / "elsewhere" / "clone"
    other.mkdir(parents=True)
    shutil.copy(project.lock_path, other / "project_cache.yaml")
    assert _key(project) == _key(project, cwd=other)


def test_json_names_the_key(project: Project) -> None:
    project.lock_path.write_text(LOCK)
    doc = json.loads(project.linker("cache-key", "--json").stdout)
    assert doc["key"] == _key(project)
    assert doc["entries"] == 2


def test_unresolved_entry_is_refused(project: Project) -> None:
    project.lock_path.write_text("version: 1\nmodels:\n  - id: org/alpha\n")
    r = project.linker("cache-key")
    assert r.returncode == 2
    assert "linker lock" in r.stderr


def test_ci_examples_parse_as_yaml_and_use_the_key() -> None:
    root = Path(__file__).resolve().parent.parent / "examples" / "ci"
    github = yaml.safe_load((root / "github-actions.yml").read_text())
    gitlab = yaml.safe_load((root / "gitlab-ci.yml").read_text())
    steps = [s for job in github["jobs"].values() for s in job["steps"]]
    runs = "\n".join(str(s.get("run", "")) for s in steps)
    assert "linker cache-key" in runs and "linker sync" in runs and "linker verify --remote" in runs
    assert any(str(s.get("uses", "")).startswith("actions/cache") for s in steps)
    triggers = github.get("on", github.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "schedule" in triggers
    jobs = {k: v for k, v in gitlab.items() if isinstance(v, dict) and "script" in v}
    assert any("files" in j.get("cache", {}).get("key", {}) for j in jobs.values())
    scripts = "\n".join("\n".join(j.get("before_script", []) + j["script"]) for j in jobs.values())
    assert "linker cache-key" in scripts and "linker sync" in scripts and "linker verify --remote" in scripts
