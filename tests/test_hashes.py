"""Hashes (issue 12): every downloaded blob is hashed before it is linked; `--verify-hashes` hashes every blob
linked and remembers those verified; `--require-hashes` refuses an entry without `files`; a mismatch is
quarantined, never linked, and named in one line per file."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from testing.hfprobe import load_file
from testing.hubhelpers import entry, push


def quarantined(project, repo: str, etag: str) -> list[Path]:
    blobs = project.global_cache / f"models--{repo.replace('/', '--')}" / "blobs"
    return sorted(blobs.glob(f"{etag}.*.linker-quarantine"))


def view_links_to(view: Path, target: Path) -> list[Path]:
    out = []
    for dirpath, _dirs, files in os.walk(view):
        for name in files:
            p = Path(dirpath) / name
            if p.is_symlink() and os.path.realpath(p) == os.path.realpath(target):
                out.append(p)
    return out


def mismatch_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "hash mismatch" in line]


def test_tampering_hub_is_refused_quarantined_and_never_served(project, hub_store, hub, hub_env):
    sha = push(hub_store, "acme/tamper")
    project.write_lock([entry(hub_store, "acme/tamper", sha)])
    good = hub_store.files_at("acme/tamper", sha)["model.safetensors"]
    hub.corrupt(good.etag, "wrong")  # same size, other bytes, the expected etag header
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    [bad] = quarantined(project, "acme/tamper", good.etag)
    data = bad.read_bytes()
    assert len(data) == len(good.read_bytes()) and data != good.read_bytes()
    [line] = mismatch_lines(r.stderr)
    for part in (
        "acme/tamper",
        "model.safetensors",
        good.etag,
        hashlib.sha256(data).hexdigest(),
        hub_env["HF_ENDPOINT"],
    ):
        assert part in line, (part, line)
    assert not view_links_to(project.view, bad)
    assert not (project.global_cache / "models--acme--tamper" / "blobs" / good.etag).exists()
    loaded = load_file(project.view, "acme/tamper", "model.safetensors", revision=sha)
    assert isinstance(loaded, str), "hf_hub_download returned bytes for a tampered file"
    # the rest of the entry is linked; once the Hub serves the right bytes, the next sync completes it
    assert load_file(project.view, "acme/tamper", "config.json", revision=sha) == (
        hub_store.files_at("acme/tamper", sha)["config.json"].read_bytes()
    )
    hub.corrupt(good.etag, None)
    assert project.linker("sync", env=hub_env).returncode == 0
    assert load_file(project.view, "acme/tamper", "model.safetensors", revision=sha) == good.read_bytes()
    assert bad.exists()  # never deleted: inspect it, then delete it


def test_verify_hashes_finds_bit_rot_and_remembers_what_it_verified(project, hub_store, hub_env):
    sha = push(hub_store, "acme/rot")
    project.write_lock([entry(hub_store, "acme/rot", sha)])
    assert project.linker("sync", env=hub_env).returncode == 0
    files = hub_store.files_at("acme/rot", sha)
    r = project.linker("sync", "--verify-hashes", "--json", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    first = json.loads(r.stdout)["hashes"]
    assert first["hashed"]["files"] == len(files) and first["hashed"]["bytes"] > 0 and not first["mismatches"]
    r = project.linker("sync", "--verify-hashes", "--json", env=hub_env)
    again = json.loads(r.stdout)["hashes"]
    assert r.returncode == 0 and again["hashed"] == {"files": 0, "bytes": 0}, again
    assert again["remembered"] == len(files)
    # bit rot: same size, other bytes
    etag = files["model.safetensors"].etag
    blob = project.global_cache / "models--acme--rot" / "blobs" / etag
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    r = project.linker("sync", "--verify-hashes", "--json", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)["hashes"]
    assert doc["hashed"]["files"] == 1  # only the blob whose stat changed
    [bad] = doc["mismatches"]
    assert (bad["repo"], bad["path"], bad["expected"]) == ("acme/rot", "model.safetensors", etag)
    assert bad["actual"] == hashlib.sha256(data).hexdigest()
    [line] = mismatch_lines(r.stderr)
    assert "model.safetensors" in line and etag in line
    [moved] = quarantined(project, "acme/rot", etag)
    assert moved.read_bytes() == bytes(data) and not blob.exists()
    assert isinstance(load_file(project.view, "acme/rot", "model.safetensors", revision=sha), str)


def test_verify_hashes_key_in_the_lock(project, hub_store, hub_env):
    sha = push(hub_store, "acme/keyed")
    project.write_lock([entry(hub_store, "acme/keyed", sha)])
    assert project.linker("sync", env=hub_env).returncode == 0
    project.write_lock([entry(hub_store, "acme/keyed", sha)], verify_hashes=True)
    r = project.linker("sync", "--json", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["hashes"]["hashed"]["files"] > 0
    project.write_lock([entry(hub_store, "acme/keyed", sha)], verify_hashes="yes")
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 2 and "verify_hashes" in r.stderr


def test_require_hashes_refuses_an_entry_without_files(project, hub_store, hub_env):
    sha = push(hub_store, "acme/bare")
    project.write_lock([entry(hub_store, "acme/bare", sha, files=False)])
    r = project.linker("sync", "--require-hashes", env=hub_env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "acme/bare" in r.stderr and "linker lock" in r.stderr
    assert not project.view.exists() or not any(project.view.iterdir())
    project.write_lock([entry(hub_store, "acme/bare", sha, files=False)], require_hashes=True)
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 2 and "linker lock" in r.stderr
    project.write_lock([entry(hub_store, "acme/bare", sha)], require_hashes=True)
    assert project.linker("sync", env=hub_env).returncode == 0


def test_verify_full_shares_the_memory_and_rehash_ignores_it(project, hub_store, hub_env):
    sha = push(hub_store, "acme/mem")
    project.write_lock([entry(hub_store, "acme/mem", sha)])
    assert project.linker("sync", env=hub_env).returncode == 0
    n = len(hub_store.files_at("acme/mem", sha))
    before = json.loads(project.linker("verify", "--full", "--json").stdout)
    assert before["hashed"]["files"] == n and before["remembered"] == 0  # nothing verified yet
    assert project.linker("sync", "--verify-hashes", env=hub_env).returncode == 0
    doc = json.loads(project.linker("verify", "--full", "--json").stdout)
    assert doc["ok"] and doc["hashed"]["files"] == 0 and doc["remembered"] == n
    # rot that keeps the stat (same size, mtime put back): only --rehash reads the bytes again
    etag = hub_store.files_at("acme/mem", sha)["model.safetensors"].etag
    blob = project.global_cache / "models--acme--mem" / "blobs" / etag
    st = blob.stat()
    data = bytearray(blob.read_bytes())
    data[0] ^= 0xFF
    with open(blob, "r+b") as f:
        f.write(bytes(data))
    os.utime(blob, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert project.linker("verify", "--full").returncode == 0
    r = project.linker("verify", "--full", "--rehash", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["hashed"]["files"] == n
    assert any(p["path"] == "model.safetensors" for p in json.loads(r.stdout)["problems"])


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_verify_hashes_quarantines_a_blob_the_view_holds_itself(project, hub_store, hub_env, mode):
    sha = push(hub_store, "acme/own")
    project.write_lock([entry(hub_store, "acme/own", sha)], link_mode=mode)
    assert project.linker("sync", env=hub_env).returncode == 0
    etag = hub_store.files_at("acme/own", sha)["model.safetensors"].etag
    view_blob = project.view / "models--acme--own" / "blobs" / etag
    data = bytearray(view_blob.read_bytes())
    data[-1] ^= 0xFF
    with open(view_blob, "r+b") as f:  # in place: a hardlink view shares the inode with the global blob
        f.write(bytes(data))
    r = project.linker("sync", "--verify-hashes", "--offline", env=hub_env)
    assert r.returncode == 1, r.stdout + r.stderr
    [line] = mismatch_lines(r.stderr)
    assert "model.safetensors" in line and hashlib.sha256(data).hexdigest() in line
    loaded = load_file(project.view, "acme/own", "model.safetensors", revision=sha)
    assert loaded != bytes(data)  # raises (hardlink: both names were the bad file) or the re-copied good bytes
    if mode == "copy":  # the global blob was sound: the view holds a fresh copy of it
        assert loaded == hub_store.files_at("acme/own", sha)["model.safetensors"].read_bytes()
    else:  # the global name was the same bad file: dropped too, its data is in quarantine
        assert isinstance(loaded, str)
        assert not (project.global_cache / "models--acme--own" / "blobs" / etag).exists()
        [moved] = sorted(view_blob.parent.glob(f"{etag}.*.linker-quarantine"))
        assert moved.read_bytes() == bytes(data)


def test_the_memory_forgets_blobs_the_lock_no_longer_links(project, hub_store, hub_env):
    a, b = push(hub_store, "acme/kept"), push(hub_store, "acme/dropped", seed=5)
    project.write_lock([entry(hub_store, "acme/kept", a), entry(hub_store, "acme/dropped", b)], verify_hashes=True)
    assert project.linker("sync", env=hub_env).returncode == 0
    manifest = project.view / ".locks" / "linker-manifest.json"
    both = len(json.loads(manifest.read_text())["verified"])
    project.write_lock([entry(hub_store, "acme/kept", a)], verify_hashes=True)
    assert project.linker("sync", env=hub_env).returncode == 0
    kept = len(json.loads(manifest.read_text())["verified"])
    assert kept == len(hub_store.files_at("acme/kept", a)) < both
