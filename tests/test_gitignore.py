"""A lockfile linker creates keeps its view out of git (issue 10, section 8): `add` and `migrate --lock` add the
view folder to the project's `.gitignore` (created if needed, never a duplicate line), say so, and never put a
file at the top of the view, where `scan_cache_dir` would warn."""

from __future__ import annotations

import json

from testing.cachefactory import build_plain_folder, tiny_model_files
from testing.hubhelpers import push

REPO = "acme/tiny"


def test_add_creating_the_lockfile_ignores_the_view(project, hub_store, hub, hub_env):
    from huggingface_hub import scan_cache_dir

    push(hub_store, REPO)
    r = project.linker("add", REPO, env=hub_env)
    assert r.returncode == 0, r.stderr
    gitignore = project.root / ".gitignore"
    assert gitignore.read_text().splitlines()[-1] == "/models_cache/"
    assert ".gitignore" in r.stderr and "/models_cache/" in r.stderr
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert scan_cache_dir(project.view).warnings == []
    # a second `add` (the lockfile exists) leaves .gitignore alone
    before = gitignore.read_bytes()
    push(hub_store, "acme/other", seed=2)
    assert project.linker("add", "acme/other", env=hub_env).returncode == 0
    assert gitignore.read_bytes() == before


def test_existing_gitignore_is_appended_to_once(project, hub_store, hub, hub_env):
    push(hub_store, REPO)
    gitignore = project.root / ".gitignore"
    gitignore.write_text("__pycache__/\n*.pyc")  # no newline at the end
    r = project.linker("add", REPO, "--json", env=hub_env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["gitignore"]["added"] is True
    lines = gitignore.read_text().splitlines()
    assert lines[:2] == ["__pycache__/", "*.pyc"] and lines[-1] == "/models_cache/"


def test_a_line_already_naming_the_view_is_not_duplicated(project, hub_store, hub, hub_env):
    push(hub_store, REPO)
    gitignore = project.root / ".gitignore"
    gitignore.write_text("models_cache/\n")
    r = project.linker("add", REPO, env=hub_env)
    assert r.returncode == 0, r.stderr
    assert gitignore.read_text() == "models_cache/\n"


def test_migrate_lock_creating_the_lockfile_ignores_the_view(project, tmp_path):
    src = build_plain_folder(tmp_path / "acme" / "legacy", tiny_model_files("bert", seed=5))
    r = project.linker("migrate", str(src), "--lock", "--offline", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert project.lock_path.is_file()
    assert (project.root / ".gitignore").read_text().splitlines()[-1] == "/models_cache/"
    assert json.loads(r.stdout)["gitignore"]["created"] is True
