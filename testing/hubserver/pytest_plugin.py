"""pytest fixtures for the local Hub. Register with ``pytest_plugins = ["testing.hubserver.pytest_plugin"]``.

* ``hub_store``: an empty `HubStore` under tmp_path.
* ``hub``: a started `HubServer` on ``hub_store`` (stopped at teardown).
* ``hub_env``: environment for a subprocess that talks to ``hub`` (fresh HF_HOME, no token, no offline mode).
* ``hub_cache_dir``: the hub cache that ``hub_env`` implies (``$HF_HOME/hub``, not created).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .server import HubServer
from .store import HubStore

# Variables that would leak the developer's setup (tokens, caches, offline mode) into a test subprocess.
REMOVED_ENV_VARS = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HF_TOKEN_PATH",
    "HF_STORED_TOKENS_PATH",
    "HF_HUB_OFFLINE",
    "TRANSFORMERS_OFFLINE",
    "HF_HUB_CACHE",
    "HUGGINGFACE_HUB_CACHE",
    "HF_XET_CACHE",
    "HF_ASSETS_CACHE",
    "HUGGINGFACE_ASSETS_CACHE",
    "HUGGINGFACE_CO_STAGING",
    "TRANSFORMERS_CACHE",
    "SENTENCE_TRANSFORMERS_HOME",
)


def make_hub_env(endpoint: str, hf_home: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment variables for a process using the local hub at `endpoint` with a fresh `hf_home`."""
    env = dict(os.environ if base is None else base)
    for name in REMOVED_ENV_VARS:
        env.pop(name, None)
    hf_home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "HF_ENDPOINT": endpoint,
            "HF_HOME": str(hf_home),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "HF_HUB_DISABLE_UPDATE_CHECK": "1",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


@pytest.fixture
def hub_store(tmp_path: Path) -> HubStore:
    return HubStore(tmp_path / "hub-store")


@pytest.fixture
def hub(hub_store: HubStore) -> Iterator[HubServer]:
    server = HubServer(hub_store.root).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hub_env(hub: HubServer, tmp_path: Path) -> dict[str, str]:
    return make_hub_env(hub.endpoint, tmp_path / "hf-home")


@pytest.fixture
def hub_cache_dir(hub_env: dict[str, str]) -> Path:
    return Path(hub_env["HF_HOME"]) / "hub"
