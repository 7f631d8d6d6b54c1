"""The fast tier: planners called in-process on caches built by the cache factory; assertions on plan data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from linker.lockfile import Lockfile, load_lockfile
from testing.cachefactory import RepoInfo, build_repo, fake_commit, tiny_model_files

REV = fake_commit("plans", 1)
REPO = "org/tiny"


class Setup:
    """A project (lockfile, view) and its global cache, built in-process."""

    def __init__(self, project: Any) -> None:
        self.project = project
        self.global_cache: Path = project.global_cache

    def repo(self, repo_id: str = REPO, revision: str = REV, **build: Any) -> RepoInfo:
        return build_repo(self.global_cache, repo_id, {revision: tiny_model_files("st", seed=1)}, refs={}, **build)

    def lock(self, *entries: dict[str, Any]) -> Lockfile:
        self.project.write_lock(list(entries))
        return load_lockfile(self.project.lock_path)


def entry(info: RepoInfo, revision: str = REV, files: bool = True, **extra: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"id": info.repo_id, "revision": revision, **extra}
    if files:
        e["files"] = {p: {"size": fi.size, "hash": fi.etag} for p, fi in info.files[revision].items()}
    return e


@pytest.fixture
def setup(project: Any, monkeypatch: pytest.MonkeyPatch) -> Setup:
    monkeypatch.setenv("HF_HUB_CACHE", str(project.global_cache))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    os.environ.pop("LINKER_LINK_MODE", None)
    return Setup(project)
