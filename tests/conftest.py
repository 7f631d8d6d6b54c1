"""Shared fixtures. Every test runs with HOME, HF_HOME and XDG_CACHE_HOME inside tmp_path, so nothing can touch
the real Hub or the user's ~/.cache; linker itself runs in a subprocess, as users run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytest_plugins = ["testing.hubserver.pytest_plugin"]

_SCRUB = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE", "HF_HUB_DISABLE_SYMLINKS", "LINKER_CONFIG", "LINKER_LINK_MODE", "TRANSFORMERS_CACHE",
    "SENTENCE_TRANSFORMERS_HOME", "HF_XET_CACHE", "HF_ASSETS_CACHE",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    for var in _SCRUB:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(home / "hf_home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "xdg"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_UPDATE_CHECK", "1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # Nothing may reach the real Hub: an accidental online request goes to a closed local port. Online tests
    # pass `hub_env`, which points HF_ENDPOINT at the local Hub server.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


class Project:
    """A project folder with a lockfile, and a global cache of its own (`HF_HUB_CACHE`)."""

    def __init__(self, root: Path, global_cache: Path) -> None:
        self.root = root
        self.global_cache = global_cache
        self.lock_path = root / "project_cache.yaml"
        self.env: dict[str, str] = {}

    @property
    def view(self) -> Path:
        return self.root / "models_cache"

    def write_lock(self, models: list[dict[str, Any]], **top: Any) -> Path:
        doc = {"version": 1, **top, "models": models}
        self.lock_path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return self.lock_path

    def linker(
        self,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 120,
        input: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, "HF_HUB_CACHE": str(self.global_cache), **self.env, **(env or {})}
        full_env = {k: v for k, v in full_env.items() if v is not None}
        return subprocess.run(
            [sys.executable, "-m", "linker", *args],
            cwd=cwd or self.root,
            env=full_env,
            text=True,
            capture_output=True,
            timeout=timeout,
            input=input,
        )


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = tmp_path / "proj"
    root.mkdir()
    g = tmp_path / "global" / "hub"
    g.mkdir(parents=True)
    return Project(root, g)
