"""The cache factory is faithful to huggingface_hub 2.4: checked against the real library.

Three kinds of evidence:
* a mock Hub on loopback: the real `snapshot_download` / `hf_hub_download` write a cache, and the factory's
  cache for the same repo must be identical (paths, link texts, contents, modes);
* the real library (in a subprocess, `hfprobe`) reads, scans and prunes the factory's caches as expected;
* the damage helpers break exactly what the reference says they break.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from testing.cachefactory import (
    CACHEDIR_TAG_CONTENT,
    DEFAULT_GITATTRIBUTES,
    add_incomplete,
    add_no_exist,
    add_ref_newline,
    build_local_dir,
    build_plain_folder,
    build_repo,
    build_st_legacy,
    build_transformers_legacy,
    etag_for,
    fake_commit,
    file_info,
    git_blob_sha1,
    is_lfs_default,
    legacy_url,
    lfs_pointer,
    make_absolute_links,
    make_cwd_relative_links,
    parse_safetensors_header,
    repo_folder_name,
    sha256_hex,
    tiny_model_files,
)
from testing.hfprobe import hf_cli, load_file, run_hf, scan, snapshot_files, try_load

ST = "org/tiny-st"
DS = "org/tiny-ds"
C1 = fake_commit("st", 1)
C2 = fake_commit("st", 2)
D1 = fake_commit("ds", 1)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _dataset_files() -> dict[str, bytes]:
    return {
        ".gitattributes": DEFAULT_GITATTRIBUTES.encode(),
        "README.md": b"---\nlicense: mit\n---\n# tiny dataset\n",
        "data/train.parquet": b"PAR1" + bytes(range(256)) * 4 + b"PAR1",
        "data/labels.csv": b"id,label\n0,a\n1,b\n",
    }


# --------------------------------------------------------------------------------------------------
# Pure helpers


def test_hashes_match_hub_helpers():
    from huggingface_hub.utils.sha import git_hash

    for data in (b"", b"hello\n", os.urandom(3000)):
        assert git_blob_sha1(data) == git_hash(data)
        assert sha256_hex(data) == hashlib.sha256(data).hexdigest()
    assert etag_for("model.safetensors", b"x") == sha256_hex(b"x")
    assert etag_for("config.json", b"x") == git_blob_sha1(b"x")
    assert etag_for("config.json", b"x", lfs=True) == sha256_hex(b"x")
    # a known oid: `git hash-object` of "hello\n"
    assert git_blob_sha1(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    c = fake_commit("a", 1)
    assert c == fake_commit("a", 1) != fake_commit("a", 2)
    assert len(c) == 40 and all(ch in "0123456789abcdef" for ch in c)


@pytest.mark.parametrize(
    ("path", "size", "expected"),
    [
        ("model.safetensors", 10, True),
        ("sub/pytorch_model.bin", 10, True),
        ("tf_model.h5", 10, True),
        ("onnx/model.onnx", 10, True),
        ("spiece.model", 10, True),
        ("runs/events.out.tfevents.123.host", 10, True),
        ("archive.tar.gz", 10, True),
        ("saved_model/variables/variables.index", 10, True),
        ("data/train.parquet", 10, True),
        ("config.json", 10, False),
        ("tokenizer.json", 10, False),
        ("README.md", 10, False),
        ("1_Pooling/config.json", 10, False),
        ("tokenizer.json", 10 * 1024 * 1024 + 1, True),
    ],
)
def test_is_lfs_default(path, size, expected):
    assert is_lfs_default(path, b"\0" * size) is expected


def test_tiny_model_files():
    bert = tiny_model_files("bert")
    assert set(bert) == {
        ".gitattributes",
        "README.md",
        "config.json",
        "model.safetensors",
        "special_tokens_map.json",
        "tokenizer_config.json",
        "vocab.txt",
    }
    assert bert[".gitattributes"].decode() == DEFAULT_GITATTRIBUTES
    config = json.loads(bert["config.json"])
    assert config["model_type"] == "bert"
    assert config["vocab_size"] == len(bert["vocab.txt"].decode().splitlines())
    header = parse_safetensors_header(bert["model.safetensors"])
    tensors = {k: v for k, v in header.items() if k != "__metadata__"}
    assert len(tensors) >= 2 and all(v["dtype"] == "F32" for v in tensors.values())
    (hlen,) = __import__("struct").unpack("<Q", bert["model.safetensors"][:8])
    assert hlen % 8 == 0
    end = max(v["data_offsets"][1] for v in tensors.values())
    assert len(bert["model.safetensors"]) == 8 + hlen + end

    assert tiny_model_files("bert", seed=0) == bert  # deterministic
    other = tiny_model_files("bert", seed=1)
    assert other["model.safetensors"] != bert["model.safetensors"]
    assert other["config.json"] == bert["config.json"]

    big = tiny_model_files("bert", big=1000)
    assert len(big["model.safetensors"]) >= len(bert["model.safetensors"]) + 1000
    assert parse_safetensors_header(big["model.safetensors"])["extra.big"]["shape"] == [1000]

    st = tiny_model_files("st")
    assert set(st) - set(bert) == {
        "modules.json",
        "config_sentence_transformers.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
    }
    modules = json.loads(st["modules.json"])
    assert [m["path"] for m in modules] == ["", "1_Pooling"]
    assert json.loads(st["1_Pooling/config.json"])["pooling_mode_mean_tokens"] is True


def test_layout_details_in_process(tmp_path):
    """Link texts as `_create_symlink` makes them, tree files as `_tree_cache` reads them, refs, locks."""
    from huggingface_hub._tree_cache import read_tree_cache
    from huggingface_hub.file_download import _create_symlink

    cache = tmp_path / "hub"
    files = tiny_model_files("st")
    info = build_repo(cache, ST, {C1: files}, refs={"main": C1, "refs/pr/1": C1})
    folder = cache / "models--org--tiny-st"
    assert info.repo_folder == folder and info.folder_name == repo_folder_name(ST)
    assert (cache / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG_CONTENT
    assert (folder / "refs" / "main").read_bytes() == C1.encode()
    assert (folder / "refs" / "refs" / "pr" / "1").read_bytes() == C1.encode()

    for path, data in files.items():
        pointer = info.pointer(C1, path)
        fi = info.files[C1][path]
        assert fi.etag == etag_for(path, data)
        blob = folder / "blobs" / fi.etag
        assert stat.S_IMODE(blob.stat().st_mode) == 0o644 and blob.read_bytes() == data
        twin = tmp_path / "twin" / "snapshots" / C1 / path
        twin.parent.mkdir(parents=True, exist_ok=True)
        # the same relative layout in another folder: the hub's own link text must be identical
        (tmp_path / "twin" / "blobs").mkdir(exist_ok=True)
        shutil.copyfile(blob, tmp_path / "twin" / "blobs" / fi.etag)
        _create_symlink(str(tmp_path / "twin" / "blobs" / fi.etag), str(twin))
        assert os.readlink(pointer) == os.readlink(twin)
        assert (cache / ".locks" / folder.name / f"{fi.etag}.lock").stat().st_size == 0
    assert os.readlink(info.pointer(C1, "1_Pooling/config.json")).startswith("../../../blobs/")

    entries = read_tree_cache(str(folder), C1)
    assert entries is not None and set(entries) == set(files)
    st = entries["model.safetensors"]
    data = files["model.safetensors"]
    assert (st.lfs_sha256, st.lfs_size, st.size) == (sha256_hex(data), len(data), len(data))
    assert st.blob_id == git_blob_sha1(lfs_pointer(data))
    assert entries["config.json"].blob_id == git_blob_sha1(files["config.json"])
    assert entries["config.json"].lfs_sha256 is None
    assert stat.S_IMODE(info.tree_path(C1).stat().st_mode) == 0o600


def test_shared_store_layout_in_process(tmp_path):
    from huggingface_hub.utils import _shared_blobs

    cache = tmp_path / "hub"
    files = tiny_model_files("bert")
    info = build_repo(cache, ST, {C1: files}, shared_store=True)
    info2 = build_repo(cache, "org/copy", {C2: files}, shared_store=True)  # same LFS content, 2nd repo
    assert _shared_blobs.is_shared_blobs_dir(cache / "blobs")
    fi = info.files[C1]["model.safetensors"]
    assert fi.xet_hash and fi.xet_hash != fi.sha256
    repo_blob = info.blob_path(C1, "model.safetensors")
    store = _shared_blobs.shared_blob_target(repo_blob, cache)
    assert store == cache / "blobs" / fi.xet_hash[:2] / fi.xet_hash == info.store_blobs[fi.etag]
    assert os.readlink(repo_blob) == f"../../blobs/{fi.xet_hash[:2]}/{fi.xet_hash}"
    assert stat.S_IMODE(store.stat().st_mode) == 0o444
    manifest = store.with_name(fi.xet_hash + ".refs").read_text().splitlines()
    assert sorted(manifest) == sorted([f"models--org--tiny-st/blobs/{fi.etag}", f"models--org--copy/blobs/{fi.etag}"])
    refs = _shared_blobs._read_valid_manifest_references(store, cache)
    assert refs == {repo_blob, info2.blob_path(C2, "model.safetensors")}
    assert _shared_blobs.unreferenced_shared_blobs(cache) == {}
    assert json.loads(info.tree_path(C1).read_text())["files"]["model.safetensors"]["xet_hash"] == fi.xet_hash
    # regular files stay regular repo blobs
    assert not info.blob_path(C1, "config.json").is_symlink()


def test_shared_store_equals_real_publish(tmp_path):
    """The factory's store == a regular cache whose LFS blobs the real `publish_blob_to_shared_store` moved."""
    from huggingface_hub.utils import _shared_blobs

    files = tiny_model_files("bert")
    files["onnx/model.onnx"] = b"onnx bytes"
    copy_files = dict(files, **{"config.json": b"{}\n"})
    fake, real = tmp_path / "fake", tmp_path / "real"
    build_repo(fake, ST, {C1: files}, shared_store=True, trees=False)
    build_repo(fake, "org/copy", {C2: copy_files}, shared_store=True, trees=False)
    infos = [
        build_repo(real, ST, {C1: files}, trees=False),
        build_repo(real, "org/copy", {C2: copy_files}, trees=False),
    ]
    for info in infos:
        for fi in info.files[info.commits[0]].values():
            if fi.lfs:
                assert _shared_blobs.publish_blob_to_shared_store(
                    blob_path=str(info.repo_folder / "blobs" / fi.etag),
                    xet_hash=file_info(fi.path, info.contents[info.commits[0]][fi.path], True, xet=True).xet_hash,
                    cache_dir=real,
                    expected_size=fi.size,
                )
    real_listing, fake_listing = _listing(real), _listing(fake)
    # manifests are append-only logs: compare them as sets of lines
    for listing, root in ((real_listing, real), (fake_listing, fake)):
        for rel in listing:
            if rel.endswith(".refs"):
                listing[rel] = ("manifest", sorted((root / rel).read_text().splitlines()))
    assert real_listing == fake_listing


# --------------------------------------------------------------------------------------------------
# Mock Hub: the real library writes a cache, the factory must write the same one.


class MockHub:
    """Minimal Hub API: resolve (HEAD/GET), /api/<type>s/<id>/revision/<rev>, /api/<type>s/<id>/tree/<rev>."""

    def __init__(self, repos: dict[tuple[str, str], tuple[dict[str, dict[str, bytes]], dict[str, str]]]):
        self.repos = repos  # (repo_type, repo_id) -> (revisions, refs)
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                hub.handle(self, head=True)

            def do_GET(self):
                hub.handle(self, head=False)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _commit(self, key, rev):
        revisions, refs = self.repos[key]
        if rev in revisions:
            return rev
        return refs.get(rev)

    def _find_repo(self, parts):
        for key in self.repos:
            n = len(key[1].split("/"))
            if "/".join(parts[:n]) == key[1]:
                return key, parts[n:]
        return None, None

    def handle(self, req, head):
        path = urlsplit(req.path).path
        parts = [unquote(p) for p in path.strip("/").split("/")]
        body, headers, status = b"", {}, 404
        if parts[0] == "api":
            repo_type = parts[1][:-1]
            key, rest = self._find_repo(parts[2:])
            if key and key[0] == repo_type and rest and rest[0] in ("revision", "tree"):
                commit = self._commit(key, rest[1])
                if commit:
                    files = self.repos[key][0][commit]
                    if rest[0] == "revision":
                        obj = {"id": key[1], "sha": commit, "siblings": [{"rfilename": p} for p in files]}
                    else:
                        obj = []
                        dirs = sorted({p.rsplit("/", 1)[0] for p in files if "/" in p})
                        for d in dirs:
                            obj.append({"type": "directory", "oid": "0" * 40, "path": d})
                        for p, data in sorted(files.items()):
                            fi = file_info(p, data, is_lfs_default(p, data))
                            entry = {"type": "file", "oid": fi.blob_id, "size": fi.size, "path": p}
                            if fi.lfs:
                                entry["lfs"] = {
                                    "oid": fi.sha256,
                                    "size": fi.size,
                                    "pointerSize": len(lfs_pointer(data)),
                                }
                            obj.append(entry)
                    body, status = json.dumps(obj).encode(), 200
                    headers["Content-Type"] = "application/json"
        else:
            repo_type = "model"
            if parts[0] in ("datasets", "spaces"):
                repo_type, parts = parts[0][:-1], parts[1:]
            key, rest = self._find_repo(parts)
            if key and key[0] == repo_type and len(rest) >= 3 and rest[0] == "resolve":
                rev = rest[1]
                filename = "/".join(rest[2:])
                commit = self._commit(key, rev)
                if commit:
                    headers["X-Repo-Commit"] = commit
                    files = self.repos[key][0][commit]
                    if filename in files:
                        data = files[filename]
                        fi = file_info(filename, data, is_lfs_default(filename, data))
                        headers["ETag"] = f'"{fi.blob_id}"'
                        if fi.lfs:
                            headers["X-Linked-Etag"] = f'"{fi.sha256}"'
                            headers["X-Linked-Size"] = str(fi.size)
                        body, status = data, 200
                    else:
                        headers["X-Error-Code"] = "EntryNotFound"
                        body = b'{"error": "Entry not found"}'
        req.send_response(status)
        for k, v in headers.items():
            req.send_header(k, v)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        if not head:
            req.wfile.write(body)


def _listing(root: Path) -> dict[str, tuple]:
    """Everything under `root`: kind, link text, content hash and permission bits."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), _sha(p.read_bytes()))
    return out


_DOWNLOAD_ONLINE = """
from huggingface_hub import snapshot_download, hf_hub_download
from huggingface_hub.errors import EntryNotFoundError
for repo_id, repo_type, revision in params["snapshots"]:
    snapshot_download(repo_id, repo_type=repo_type, revision=revision)
missing = []
for repo_id, filename, revision in params["missing"]:
    try:
        hf_hub_download(repo_id, filename, revision=revision)
    except EntryNotFoundError as e:
        missing.append(type(e).__name__)
result = missing
"""


def test_factory_equals_real_hub_download(tmp_path):
    st1, st2 = tiny_model_files("st", seed=1), tiny_model_files("st", seed=2)
    st2["extra/notes.txt"] = b"deeper\n"
    ds = _dataset_files()
    repos = {
        ("model", ST): ({C1: st1, C2: st2}, {"main": C2, "v1.0": C1, "refs/pr/1": C1}),
        ("dataset", DS): ({D1: ds}, {"main": D1}),
    }
    real = tmp_path / "real"
    with MockHub(repos) as hub:
        missing = run_hf(
            _DOWNLOAD_ONLINE,
            hub_cache=real,
            offline=False,
            env={"HF_ENDPOINT": hub.endpoint, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
            params={
                "snapshots": [[ST, "model", "main"], [ST, "model", "v1.0"], [ST, "model", "refs/pr/1"],
                              [DS, "dataset", None]],
                "missing": [[ST, "tokenizer.json", "main"]],
            },
        )  # fmt: skip
    assert missing == ["RemoteEntryNotFoundError"]

    fake = tmp_path / "fake"
    info = build_repo(fake, ST, {C1: st1, C2: st2}, refs={"main": C2, "v1.0": C1, "refs/pr/1": C1})
    build_repo(fake, DS, {D1: ds}, repo_type="dataset")
    add_no_exist(info.repo_folder, C2, "tokenizer.json")

    real_listing, fake_listing = _listing(real), _listing(fake)
    assert real_listing.keys() == fake_listing.keys()
    assert real_listing == fake_listing


# --------------------------------------------------------------------------------------------------
# The real library reads the factory's caches


_READ_ALL = """
import hashlib, os
from huggingface_hub import hf_hub_download, snapshot_download, try_to_load_from_cache
def sha(p):
    with open(p, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
out = {"download": {}, "snapshot": {}, "try": {}}
for repo_id, repo_type, filename, revision in params["downloads"]:
    key = f"{repo_id}|{filename}|{revision}"
    try:
        out["download"][key] = sha(hf_hub_download(repo_id, filename, revision=revision, repo_type=repo_type))
    except Exception as e:
        out["download"][key] = type(e).__name__
    r = try_to_load_from_cache(repo_id, filename, revision=revision, repo_type=repo_type)
    out["try"][key] = sha(r) if isinstance(r, str) else repr(r)
for repo_id, repo_type, revision in params["snapshots"]:
    key = f"{repo_id}|{revision}"
    try:
        root = snapshot_download(repo_id, repo_type=repo_type, revision=revision)
        files = {}
        for dirpath, _, filenames in os.walk(root):
            for name in filenames:
                full = os.path.join(dirpath, name)
                files[os.path.relpath(full, root).replace(os.sep, "/")] = sha(full)
        out["snapshot"][key] = files
    except Exception as e:
        out["snapshot"][key] = type(e).__name__
result = out
"""


@pytest.mark.parametrize("layout", ["regular", "shared_store", "no_symlinks"])
def test_real_hub_reads_built_cache(tmp_path, layout):
    cache = tmp_path / "hub"
    kw = {"shared_store": layout == "shared_store", "symlinks": layout != "no_symlinks"}
    st1, st2 = tiny_model_files("st", seed=1), tiny_model_files("st", seed=2)
    ds = _dataset_files()
    gpt = tiny_model_files("bert", seed=3)
    g1 = fake_commit("gpt", 1)
    build_repo(cache, ST, {C1: st1, C2: st2}, refs={"main": C2, "v1.0": C1, "refs/pr/1": C1}, **kw)
    build_repo(cache, DS, {D1: ds}, repo_type="dataset", **kw)
    build_repo(cache, "gpt2", {g1: gpt}, **kw)

    s = scan(cache)
    assert s["warnings"] == []
    by_id = {(r["repo_type"], r["repo_id"]): r for r in s["repos"]}
    assert set(by_id) == {("model", ST), ("dataset", DS), ("model", "gpt2")}
    st_repo = by_id[("model", ST)]
    assert st_repo["refs"] == {"main": C2, "v1.0": C1, "refs/pr/1": C1}
    assert {r["commit_hash"]: r["nb_files"] for r in st_repo["revisions"]} == {C1: len(st1), C2: len(st2)}
    assert by_id[("dataset", DS)]["nb_files"] == len(ds)

    downloads = []
    expected = {}
    for rev, files in ((C1, st1), ("v1.0", st1), ("refs/pr/1", st1), (C2, st2), ("main", st2), (None, st2)):
        for f in ("config.json", "model.safetensors", "1_Pooling/config.json", "modules.json"):
            downloads.append([ST, "model", f, rev])
            expected[f"{ST}|{f}|{rev}"] = _sha(files[f])
    for f in ("data/train.parquet", "data/labels.csv"):
        downloads.append([DS, "dataset", f, "main"])
        expected[f"{DS}|{f}|main"] = _sha(ds[f])
    downloads.append(["gpt2", "model", "model.safetensors", None])
    expected["gpt2|model.safetensors|None"] = _sha(gpt["model.safetensors"])
    env = {"HF_HUB_DISABLE_SYMLINKS": "1"} if layout == "no_symlinks" else None
    out = run_hf(
        _READ_ALL,
        hub_cache=cache,
        env=env,
        params={
            "downloads": downloads,
            "snapshots": [[ST, "model", None], [ST, "model", "v1.0"], [ST, "model", C1], [DS, "dataset", None]],
        },
    )
    assert out["download"] == expected
    assert out["try"] == expected
    assert out["snapshot"][f"{ST}|None"] == {p: _sha(d) for p, d in st2.items()}
    assert out["snapshot"][f"{ST}|v1.0"] == {p: _sha(d) for p, d in st1.items()}
    assert out["snapshot"][f"{ST}|{C1}"] == {p: _sha(d) for p, d in st1.items()}
    assert out["snapshot"][f"{DS}|None"] == {p: _sha(d) for p, d in ds.items()}

    if layout == "no_symlinks":
        assert not any((cache / "models--org--tiny-st" / "blobs").iterdir())
        assert not (cache / "models--org--tiny-st" / "snapshots" / C1 / "config.json").is_symlink()
    if layout == "shared_store":
        assert (cache / "blobs" / ".huggingface-shared-blobs").read_text() == "1\n"


def test_partial_snapshot_with_and_without_trees(tmp_path):
    files = tiny_model_files("st")
    keep = ["config.json", "modules.json", "1_Pooling/config.json"]
    with_trees = tmp_path / "with"
    build_repo(with_trees, ST, {C1: files}, partial={C1: keep})
    assert not (with_trees / "models--org--tiny-st" / "snapshots" / C1 / "model.safetensors").exists()
    assert snapshot_files(with_trees, ST) == "IncompleteSnapshotError"
    assert snapshot_files(with_trees, ST, C1, local_files_only=True) == "IncompleteSnapshotError"
    # HF_HUB_OFFLINE alone + sha revision + cached tree: no API call is needed, so snapshot_download goes on
    # to "download" each file and the first missing one raises the parent class instead.
    assert snapshot_files(with_trees, ST, C1) == "LocalEntryNotFoundError"
    assert snapshot_files(with_trees, ST, allow_patterns=["*.json"]) == "IncompleteSnapshotError"
    # patterns covering only present files pass (the whole snapshot folder is returned)
    assert snapshot_files(with_trees, ST, allow_patterns=["config.json", "1_Pooling/*"]) == {
        p: _sha(files[p]) for p in keep
    }
    assert load_file(with_trees, ST, "config.json") == files["config.json"]
    assert load_file(with_trees, ST, "model.safetensors") == "LocalEntryNotFoundError"

    without = tmp_path / "without"
    build_repo(without, ST, {C1: files}, partial={C1: keep}, trees=False)
    assert not (without / "models--org--tiny-st" / "trees").exists()
    assert snapshot_files(without, ST) == {p: _sha(files[p]) for p in keep}


def test_prune_dry_run_selects_detached_revision(tmp_path):
    cache = tmp_path / "hub"
    info = build_repo(cache, ST, {C1: tiny_model_files("st", 1), C2: tiny_model_files("st", 2)}, refs={"main": C2})
    pinned = fake_commit("pinned")
    build_repo(cache, "org/pinned", {pinned: tiny_model_files("bert", 5)}, refs={"my-pin": pinned})
    incomplete = add_incomplete(info.repo_folder, info.etag(C2, "model.safetensors"))
    before = _listing(cache)
    proc = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(cache)])
    assert proc.returncode == 0, proc.stderr
    assert C1 in proc.stdout
    assert C2 not in proc.stdout and pinned not in proc.stdout
    proc = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(cache), "--format", "json"])
    assert json.loads(proc.stdout) == {
        "dry_run": True,
        "revisions": 1,
        "incomplete": 1,
        "shared_blobs": 0,
        "size": json.loads(proc.stdout)["size"],
    }
    assert _listing(cache) == before
    assert incomplete.name.startswith(info.etag(C2, "model.safetensors") + ".")
    assert str(incomplete) in scan(cache)["incomplete_files"]


# --------------------------------------------------------------------------------------------------
# Damage helpers break what the reference says they break


def test_ref_newline_breaks_hub_lookups(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("bert")
    info = build_repo(cache, ST, {C1: files})
    assert load_file(cache, ST, "config.json", "main") == files["config.json"]
    ref = add_ref_newline(info.repo_folder, "main")
    assert ref.read_text() == C1 + "\n"
    s = scan(cache)
    assert s["repos"] == []
    assert len(s["warnings"]) == 1 and "Reference(s) refer to missing commit hashes" in s["warnings"][0]
    assert load_file(cache, ST, "config.json", "main") == "LocalEntryNotFoundError"
    assert try_load(cache, ST, "config.json") is None
    assert snapshot_files(cache, ST) == "LocalEntryNotFoundError"
    assert load_file(cache, ST, "config.json", C1) == files["config.json"]  # by sha: no ref needed


def test_stale_no_exist_shadows_file(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("st")
    info = build_repo(cache, ST, {C1: files})
    assert try_load(cache, ST, "modules.json") == _sha(files["modules.json"])
    marker = add_no_exist(info.repo_folder, C1, "modules.json")
    assert marker == info.repo_folder / ".no_exist" / C1 / "modules.json" and marker.stat().st_size == 0
    assert try_load(cache, ST, "modules.json") == "NO_EXIST"
    assert try_load(cache, ST, "modules.json", revision=C1) == "NO_EXIST"
    assert load_file(cache, ST, "modules.json", C1) == files["modules.json"]  # hf_hub_download ignores it
    assert scan(cache)["warnings"] == []


def test_absolute_links_work_until_the_cache_moves(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("st")
    info = build_repo(cache, ST, {C1: files})
    links = make_absolute_links(info.repo_folder, C1)
    assert len(links) == len(files)
    for path in files:
        target = os.readlink(info.pointer(C1, path))
        assert os.path.isabs(target) and target == str(info.blob_path(C1, path))
    assert scan(cache)["warnings"] == []
    assert load_file(cache, ST, "1_Pooling/config.json", C1) == files["1_Pooling/config.json"]
    moved = tmp_path / "moved"
    os.rename(cache, moved)
    assert load_file(moved, ST, "1_Pooling/config.json", C1) == "LocalEntryNotFoundError"
    s = scan(moved)
    assert s["repos"] == [] and "Blob missing (broken symlink)" in s["warnings"][0]


def test_cwd_relative_links_dangle(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("bert")
    info = build_repo(cache, ST, {C1: files})
    make_cwd_relative_links(info.repo_folder, C1, tmp_path)
    target = os.readlink(info.pointer(C1, "config.json"))
    assert target == f"hub/models--org--tiny-st/blobs/{info.etag(C1, 'config.json')}"
    assert not info.pointer(C1, "config.json").exists()
    s = scan(cache)
    assert s["repos"] == [] and "Blob missing (broken symlink)" in s["warnings"][0]
    assert load_file(cache, ST, "config.json", C1) == "LocalEntryNotFoundError"


def test_shared_store_repo_copied_without_store_dangles(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("bert")
    build_repo(cache, ST, {C1: files}, shared_store=True)
    other = tmp_path / "other"
    other.mkdir()
    shutil.copytree(cache / "models--org--tiny-st", other / "models--org--tiny-st", symlinks=True)
    assert load_file(other, ST, "config.json", C1) == files["config.json"]
    assert load_file(other, ST, "model.safetensors", C1) == "LocalEntryNotFoundError"


# --------------------------------------------------------------------------------------------------
# Legacy layouts


def test_local_dir_metadata_is_accepted(tmp_path):
    from huggingface_hub._local_folder import read_download_metadata
    from huggingface_hub._tree_cache import read_tree_cache, tree_cache_folder_for_local_dir

    files = tiny_model_files("st")
    local = tmp_path / "local"
    info = build_local_dir(local, files, C1)
    hf_dir = local / ".cache" / "huggingface"
    assert (hf_dir / ".gitignore").read_text() == "*"
    assert (hf_dir / "CACHEDIR.TAG").read_text() == CACHEDIR_TAG_CONTENT
    assert (hf_dir / "download" / "1_Pooling" / "config.json.metadata").is_file()
    assert (hf_dir / "download" / "1_Pooling" / "config.json.lock").is_file()
    for path, data in files.items():
        assert (local / path).read_bytes() == data
        meta = read_download_metadata(local, path)
        assert meta is not None, path
        assert (meta.commit_hash, meta.etag) == (C1, etag_for(path, data))
        lines = info.metadata[path].read_text().split("\n")
        assert len(lines) == 4 and lines[3] == ""
    entries = read_tree_cache(tree_cache_folder_for_local_dir(str(local)), C1)
    assert entries is not None and set(entries) == set(files)

    stale = tmp_path / "stale"
    build_local_dir(stale, {"config.json": files["config.json"]}, C1, timestamp=1.0)
    assert read_download_metadata(stale, "config.json") is None  # the mtime rule rejects old metadata


def test_legacy_folders_as_scan_sees_them(tmp_path):
    cache = tmp_path / "hub"
    files = tiny_model_files("st")
    build_repo(cache, ST, {C1: files})
    st_dir = build_st_legacy(cache, "sentence-transformers/all-MiniLM-L6-v2", files)
    assert st_dir.name == "sentence-transformers_all-MiniLM-L6-v2"
    assert (st_dir / "1_Pooling" / "config.json").read_bytes() == files["1_Pooling/config.json"]

    entries = build_transformers_legacy(cache, "bert-base-uncased", "main", {"config.json": files["config.json"]})
    e = entries["config.json"]
    assert e.url == "https://huggingface.co/bert-base-uncased/resolve/main/config.json"
    assert e.url == legacy_url("bert-base-uncased", "main", "config.json")
    sha_url = hashlib.sha256(e.url.encode()).hexdigest()
    sha_etag = hashlib.sha256(f'"{git_blob_sha1(files["config.json"])}"'.encode()).hexdigest()
    assert e.file.name == f"{sha_url}.{sha_etag}"
    assert json.loads(e.sidecar.read_text()) == {"url": e.url, "etag": f'"{e.etag}"'}
    h5 = build_transformers_legacy(tmp_path / "flat", "org/m", "main", {"tf_model.h5": b"h5"})["tf_model.h5"]
    assert h5.file.name.endswith(".h5") and h5.etag == sha256_hex(b"h5")

    s = scan(cache)
    assert [r["repo_id"] for r in s["repos"]] == [ST]
    warnings = "\n".join(s["warnings"])
    assert "Repo path is not a valid HuggingFace cache directory" in warnings
    assert warnings.count("Repo path is not a directory") == 3  # file, .json, .lock

    plain = build_plain_folder(tmp_path / "plain" / "org" / "name", files)
    assert {p.relative_to(plain).as_posix() for p in plain.rglob("*") if p.is_file()} == set(files)
