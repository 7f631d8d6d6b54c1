"""A bad download, a full disk, a Hub that never answers or asks us to wait, a token in HF_ENDPOINT: linker
links what it can, says what failed in one line, exits with the documented code, and never prints a secret."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest

from tests.fsfaults import small_tmpfs
from tests.hfprobe import load_file
from tests.hubhelpers import entry, push

HF_LOG_MARKERS = ("Consistency check failed", "Trying to resume", "Retrying in", "thrown while requesting", "Traceback")


def assert_no_raw_hf_output(text: str) -> None:
    for marker in HF_LOG_MARKERS:
        assert marker not in text, f"raw huggingface_hub output leaked: {marker!r}\n{text}"


def lines_naming(text: str, word: str) -> list[str]:
    return [line for line in text.splitlines() if word in line]


# ---------------------------------------------------------------------------------------------------------------
# Item 10: one bad download does not abort the sync


@pytest.mark.parametrize("fault", ["short", "cut", "wrong"])
def test_bad_download_links_the_rest_and_names_the_entry(project, hub_store, hub, hub_env, fault):
    good, bad = push(hub_store, "acme/good"), push(hub_store, "acme/bad", seed=3)
    project.write_lock([entry(hub_store, "acme/good", good)])
    assert project.linker("sync", env=hub_env).returncode == 0  # acme/good is in the global cache already
    fresh = push(hub_store, "acme/fresh", seed=4)
    project.write_lock(
        [entry(hub_store, "acme/bad", bad), entry(hub_store, "acme/good", good), entry(hub_store, "acme/fresh", fresh)]
    )
    hub.corrupt(hub_store.files_at("acme/bad", bad)["model.safetensors"].etag, fault)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    assert_no_raw_hf_output(r.stdout + r.stderr)
    named = lines_naming(r.stderr, "acme/bad")
    assert named and any("model.safetensors" in line for line in named), r.stderr
    for repo, sha in (("acme/good", good), ("acme/fresh", fresh)):
        assert load_file(project.view, repo, "config.json", revision=sha) == (
            hub_store.files_at(repo, sha)["config.json"].read_bytes()
        )
    status = json.loads(project.linker("status", "--json").stdout)
    states = {e["repo"]: e["state"] for e in status["entries"]}
    assert states["acme/good"] == states["acme/fresh"] == "linked" and states["acme/bad"] != "linked"
    # once the Hub serves the file well again, the next sync completes it
    hub.corrupt(hub_store.files_at("acme/bad", bad)["model.safetensors"].etag, None)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert load_file(project.view, "acme/bad", "model.safetensors", revision=bad) == (
        hub_store.files_at("acme/bad", bad)["model.safetensors"].read_bytes()
    )


def test_full_disk_while_downloading_links_the_rest(project, hub_store, hub, hub_env, tmp_path):
    from tests.cachefactory import tiny_model_files

    small = push(hub_store, "acme/small")
    big = push(hub_store, "acme/big", files={**tiny_model_files(seed=9, big=3 * 1024 * 1024)})
    with small_tmpfs(project.global_cache, "2m"):
        project.write_lock([entry(hub_store, "acme/small", small)])
        assert project.linker("sync", env=hub_env).returncode == 0
        project.write_lock([entry(hub_store, "acme/big", big), entry(hub_store, "acme/small", small)])
        r = project.linker("sync", env=hub_env)
        assert r.returncode == 1, r.stdout + r.stderr
        assert_no_raw_hf_output(r.stdout + r.stderr)
        named = lines_naming(r.stderr, "acme/big")
        assert any("No space left on device" in line for line in named), r.stderr
        assert load_file(project.view, "acme/small", "vocab.txt", revision=small) == (
            hub_store.files_at("acme/small", small)["vocab.txt"].read_bytes()
        )


@pytest.fixture
def silent_hub() -> Iterator[str]:
    """An endpoint on 127.0.0.1 that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
