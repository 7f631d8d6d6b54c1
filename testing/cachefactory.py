"""Build Hugging Face caches on disk exactly as huggingface_hub 2.4 lays them out.

These fixtures are the yardstick for linker's code, so nothing here imports from `linker`, and every
name (blob etag, git oid, legacy file name) is computed independently with `hashlib`.
Reference: docs/hf-cache.md (§2 layout, §2.6 trees, §3.1 blob naming, §3.4 shared
store, §5 local_dir, §6 legacy layouts), checked against the installed huggingface_hub sources.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import random
import stat
import struct
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

# --------------------------------------------------------------------------------------------------
# Constants copied from huggingface_hub 2.4 (kept literal on purpose: the fixtures must not drift
# silently if the package changes).

# _local_folder.py:CACHEDIR_TAG_CONTENT
CACHEDIR_TAG_CONTENT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
# utils/_shared_blobs.py
SHARED_BLOBS_MARKER_NAME = ".huggingface-shared-blobs"
SHARED_BLOBS_MARKER_CONTENT = "1\n"
# _tree_cache.py
TREE_CACHE_FORMAT_VERSION = 1
# "X-Linked-Size" threshold above which the Hub stores a file in LFS even without a pattern.
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024

# The .gitattributes the Hub creates for a new model repo.
DEFAULT_GITATTRIBUTES = """\
*.7z filter=lfs diff=lfs merge=lfs -text
*.arrow filter=lfs diff=lfs merge=lfs -text
*.bin filter=lfs diff=lfs merge=lfs -text
*.bz2 filter=lfs diff=lfs merge=lfs -text
*.ckpt filter=lfs diff=lfs merge=lfs -text
*.ftz filter=lfs diff=lfs merge=lfs -text
*.gz filter=lfs diff=lfs merge=lfs -text
*.h5 filter=lfs diff=lfs merge=lfs -text
*.joblib filter=lfs diff=lfs merge=lfs -text
*.lfs.* filter=lfs diff=lfs merge=lfs -text
*.mlmodel filter=lfs diff=lfs merge=lfs -text
*.model filter=lfs diff=lfs merge=lfs -text
*.msgpack filter=lfs diff=lfs merge=lfs -text
*.npy filter=lfs diff=lfs merge=lfs -text
*.npz filter=lfs diff=lfs merge=lfs -text
*.onnx filter=lfs diff=lfs merge=lfs -text
*.ot filter=lfs diff=lfs merge=lfs -text
*.parquet filter=lfs diff=lfs merge=lfs -text
*.pb filter=lfs diff=lfs merge=lfs -text
*.pickle filter=lfs diff=lfs merge=lfs -text
*.pkl filter=lfs diff=lfs merge=lfs -text
*.pt filter=lfs diff=lfs merge=lfs -text
*.pth filter=lfs diff=lfs merge=lfs -text
*.rar filter=lfs diff=lfs merge=lfs -text
*.safetensors filter=lfs diff=lfs merge=lfs -text
saved_model/**/* filter=lfs diff=lfs merge=lfs -text
*.tar.* filter=lfs diff=lfs merge=lfs -text
*.tar filter=lfs diff=lfs merge=lfs -text
*.tflite filter=lfs diff=lfs merge=lfs -text
*.tgz filter=lfs diff=lfs merge=lfs -text
*.wasm filter=lfs diff=lfs merge=lfs -text
*.xz filter=lfs diff=lfs merge=lfs -text
*.zip filter=lfs diff=lfs merge=lfs -text
*.zst filter=lfs diff=lfs merge=lfs -text
*tfevents* filter=lfs diff=lfs merge=lfs -text
"""

DEFAULT_LFS_PATTERNS: tuple[str, ...] = tuple(
    line.split()[0] for line in DEFAULT_GITATTRIBUTES.splitlines() if "filter=lfs" in line
)

LfsSpec = set[str] | frozenset[str] | Callable[[str, bytes], bool] | None


# --------------------------------------------------------------------------------------------------
# Hashing


def git_blob_sha1(data: bytes) -> str:
    """Git object id of a blob: sha1(b"blob <len>\\0" + data) (hub `utils/sha.py:git_hash`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lfs_pointer(data: bytes) -> bytes:
    """The git-lfs pointer text committed in git in place of an LFS file."""
    return (f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256_hex(data)}\nsize {len(data)}\n").encode()


def fake_xet_hash(data: bytes) -> str:
    """A deterministic 64-hex stand-in for a Xet file hash (deliberately NOT the sha256)."""
    return hashlib.blake2b(b"fake-xet:" + data, digest_size=32).hexdigest()


def _match_gitattributes(pattern: str, path: str) -> bool:
    if "/" in pattern:  # anchored to the repo root, e.g. saved_model/**/*
        prefix = pattern.split("/**", 1)[0]
        return path.startswith(prefix + "/") or fnmatch.fnmatchcase(path, pattern)
    return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)


def is_lfs_default(path: str, data: bytes) -> bool:
    """Whether the Hub stores `path` in LFS by default (default .gitattributes pattern, or > 10 MB)."""
    if len(data) > LFS_SIZE_THRESHOLD:
        return True
    return any(_match_gitattributes(p, path) for p in DEFAULT_LFS_PATTERNS)


def etag_for(path: str, data: bytes, lfs: bool | None = None) -> str:
    """Blob name in the cache: sha256 of the content for LFS files, the git blob sha1 otherwise.

    `lfs=None` applies `is_lfs_default(path, data)`.
    """
    if lfs is None:
        lfs = is_lfs_default(path, data)
    return sha256_hex(data) if lfs else git_blob_sha1(data)


def fake_commit(*parts: object) -> str:
    """Deterministic 40-hex lowercase commit sha derived from `parts`."""
    return hashlib.sha1(("fake-commit:" + "\x1f".join(map(str, parts))).encode()).hexdigest()


def _resolve_lfs(lfs: LfsSpec, path: str, data: bytes) -> bool:
    if lfs is None:
        return is_lfs_default(path, data)
    if callable(lfs):
        return bool(lfs(path, data))
    return path in lfs


# --------------------------------------------------------------------------------------------------
# Tiny generated models


def _json_bytes(obj: object) -> bytes:
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode()


_VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]",
    "the", "a", "cat", "dog", "sat", "on", "mat", "hello", "world", ".", ",",
]  # fmt: skip
_HIDDEN = 8


def safetensors_bytes(tensors: Mapping[str, tuple[str, list[int], bytes]], metadata: dict | None = None) -> bytes:
    """Serialize `{name: (dtype, shape, raw little-endian bytes)}` as a valid safetensors file."""
    header: dict[str, object] = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    payload = []
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        payload.append(raw)
        offset += len(raw)
    hdr = json.dumps(header, separators=(",", ":")).encode()
    hdr += b" " * (-len(hdr) % 8)  # safetensors pads the header to 8-byte alignment with spaces
    return struct.pack("<Q", len(hdr)) + hdr + b"".join(payload)


def parse_safetensors_header(data: bytes) -> dict:
    """Parse and sanity-check a safetensors header (used by tests)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = len(data) - 8 - n
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        assert 0 <= start <= end <= body, (name, info, body)
    return header


def _f32(rng: random.Random, count: int) -> bytes:
    return struct.pack(f"<{count}f", *(round(rng.uniform(-1, 1), 6) for _ in range(count)))


def tiny_model_files(kind: str = "bert", seed: int = 0, big: int = 0) -> dict[str, bytes]:
    """Small generated model repos.

    "bert": config.json, tokenizer_config.json, vocab.txt, special_tokens_map.json, model.safetensors,
    .gitattributes (Hub default), README.md. "st": the bert files plus the sentence-transformers files
    (modules.json, config_sentence_transformers.json, sentence_bert_config.json, 1_Pooling/config.json).
    Only model.safetensors depends on `seed`; `big` appends a U8 tensor of exactly that many bytes.
    """
    if kind not in ("bert", "st"):
        raise ValueError(f"unknown kind {kind!r}")
    rng = random.Random(seed)
    config = {
        "architectures": ["BertModel"],
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": _HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": 2 * _HIDDEN,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": 16,
        "model_type": "bert",
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "pad_token_id": 0,
        "torch_dtype": "float32",
        "transformers_version": "4.45.0",
        "type_vocab_size": 2,
        "vocab_size": len(_VOCAB),
    }
    tensors: dict[str, tuple[str, list[int], bytes]] = {
        "embeddings.word_embeddings.weight": (
            "F32",
            [len(_VOCAB), _HIDDEN],
            _f32(rng, len(_VOCAB) * _HIDDEN),
        ),
        "embeddings.LayerNorm.weight": ("F32", [_HIDDEN], _f32(rng, _HIDDEN)),
    }
    if big:
        tensors["extra.big"] = ("U8", [big], rng.randbytes(big))
    files = {
        ".gitattributes": DEFAULT_GITATTRIBUTES.encode(),
        "README.md": b"---\nlicense: apache-2.0\nlibrary_name: transformers\n---\n\n# tiny test model\n",
        "config.json": _json_bytes(config),
        "model.safetensors": safetensors_bytes(tensors, {"format": "pt"}),
        "special_tokens_map.json": _json_bytes(
            {
                "cls_token": "[CLS]",
                "mask_token": "[MASK]",
                "pad_token": "[PAD]",
                "sep_token": "[SEP]",
                "unk_token": "[UNK]",
            }
        ),
        "tokenizer_config.json": _json_bytes(
            {
                "clean_up_tokenization_spaces": True,
                "cls_token": "[CLS]",
                "do_lower_case": True,
                "mask_token": "[MASK]",
                "model_max_length": 16,
                "pad_token": "[PAD]",
                "sep_token": "[SEP]",
                "tokenize_chinese_chars": True,
                "tokenizer_class": "BertTokenizer",
                "unk_token": "[UNK]",
            }
        ),
        "vocab.txt": ("\n".join(_VOCAB) + "\n").encode(),
    }
    if kind == "st":
        files["modules.json"] = _json_bytes(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
        files["config_sentence_transformers.json"] = _json_bytes(
            {"__version__": {"pytorch": "2.4.0", "sentence_transformers": "3.0.1", "transformers": "4.45.0"}}
        )
        files["sentence_bert_config.json"] = _json_bytes({"do_lower_case": False, "max_seq_length": 16})
        files["1_Pooling/config.json"] = _json_bytes(
            {
                "pooling_mode_cls_token": False,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
                "pooling_mode_mean_tokens": True,
                "word_embedding_dimension": _HIDDEN,
            }
        )
        files["README.md"] = (
            b"---\nlibrary_name: sentence-transformers\npipeline_tag: sentence-similarity\n---\n\n# tiny st model\n"
        )
    return dict(sorted(files.items()))


# --------------------------------------------------------------------------------------------------
# Cache layout


@dataclass(frozen=True)
class FileInfo:
    """One file of a commit, with every name the Hub / cache derives from it."""

    path: str  # repo path, "/"-separated
    size: int
    lfs: bool
    etag: str  # blob name: sha256 (LFS) or git sha1
    sha256: str  # sha256 of the content (always)
    blob_id: str  # git oid as in the /tree API (of the LFS pointer for LFS files)
    xet_hash: str | None = None  # only with shared_store, LFS files

    def tree_entry(self) -> dict:
        entry: dict = {"size": self.size, "blob_id": self.blob_id}
        if self.lfs:
            entry["lfs_sha256"] = self.sha256
            entry["lfs_size"] = self.size
        if self.xet_hash is not None:
            entry["xet_hash"] = self.xet_hash
        return entry


def file_info(path: str, data: bytes, lfs: bool, xet: bool = False) -> FileInfo:
    return FileInfo(
        path=path,
        size=len(data),
        lfs=lfs,
        etag=sha256_hex(data) if lfs else git_blob_sha1(data),
        sha256=sha256_hex(data),
        blob_id=git_blob_sha1(lfs_pointer(data)) if lfs else git_blob_sha1(data),
        xet_hash=fake_xet_hash(data) if (xet and lfs) else None,
    )


@dataclass
class RepoInfo:
    cache_dir: Path
    repo_id: str
    repo_type: str
    repo_folder: Path  # <cache>/<type>s--org--name
    commits: list[str]  # in the order given
    refs: dict[str, str]  # ref name -> commit
    files: dict[str, dict[str, FileInfo]]  # commit -> repo path -> info (ALL files of the commit)
    present: dict[str, list[str]]  # commit -> repo paths present in snapshots/<commit>
    contents: dict[str, dict[str, bytes]]  # commit -> repo path -> bytes
    blobs: dict[str, Path] = field(default_factory=dict)  # etag -> <repo>/blobs/<etag> (exists on disk)
    # etag -> <cache>/blobs/xx/<xet> (shared store payloads)
    store_blobs: dict[str, Path] = field(default_factory=dict)
    symlinks: bool = True
    shared_store: bool = False

    @property
    def folder_name(self) -> str:
        return self.repo_folder.name

    def snapshot(self, commit: str) -> Path:
        return self.repo_folder / "snapshots" / commit

    def pointer(self, commit: str, path: str) -> Path:
        return self.snapshot(commit).joinpath(*path.split("/"))

    def blob_path(self, commit: str, path: str) -> Path:
        return self.repo_folder / "blobs" / self.files[commit][path].etag

    def etag(self, commit: str, path: str) -> str:
        return self.files[commit][path].etag

    def tree_path(self, commit: str) -> Path:
        return self.repo_folder / "trees" / f"{commit}.json"

    def ref_path(self, ref: str) -> Path:
        return self.repo_folder.joinpath("refs", *ref.split("/"))

    def lock_path(self, etag: str) -> Path:
        return self.cache_dir / ".locks" / self.folder_name / f"{etag}.lock"


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    """`file_download.py:repo_folder_name`."""
    return "--".join([f"{repo_type}s", *repo_id.split("/")])


def relative_link_target(target: str | os.PathLike, link: str | os.PathLike) -> str:
    """Link text as `file_download._create_symlink` computes it (lexical abspath, not realpath)."""
    abs_src = os.path.abspath(os.path.expanduser(os.fspath(target)))
    abs_dst = os.path.abspath(os.path.expanduser(os.fspath(link)))
    return os.path.relpath(abs_src, os.path.dirname(abs_dst))


def _symlink_like_hub(target: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(relative_link_target(target, link), link)


def _write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(path):
        os.remove(path)  # never write through an existing file or link (it may be shared)
    path.write_bytes(data)
    os.chmod(path, mode)


def _ensure_cachedir_tag(cache_dir: Path) -> None:
    tag = cache_dir / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text(CACHEDIR_TAG_CONTENT)


def write_tree(folder: Path, commit: str, infos: Iterable[FileInfo]) -> Path:
    """`<folder>/trees/<commit>.json` in the `_tree_cache.py` format (indent=1, sorted, mode 0600)."""
    infos = {i.path: i for i in infos}
    data = {
        "format_version": TREE_CACHE_FORMAT_VERSION,
        "files": {p: infos[p].tree_entry() for p in sorted(infos)},
    }
    path = folder / "trees" / f"{commit}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.chmod(path, 0o600)
    return path


def _shared_dir_mode(cache_dir: Path) -> int:
    return stat.S_IMODE(cache_dir.stat().st_mode) & (0o777 | stat.S_ISGID | stat.S_ISVTX)


def _ensure_shared_store(cache_dir: Path) -> Path:
    store = cache_dir / "blobs"
    store.mkdir(exist_ok=True)
    os.chmod(store, _shared_dir_mode(cache_dir))
    marker = store / SHARED_BLOBS_MARKER_NAME
    if not marker.exists():
        marker.write_text(SHARED_BLOBS_MARKER_CONTENT)
        os.chmod(marker, 0o444)
    return store


def _publish_shared(cache_dir: Path, repo_blob: Path, data: bytes, xet_hash: str) -> Path:
    """Store payload + manifest line + lock file, and turn `repo_blob` into a relative link to it."""
    store = _ensure_shared_store(cache_dir)
    prefix = store / xet_hash[:2]
    prefix.mkdir(exist_ok=True)
    os.chmod(prefix, _shared_dir_mode(cache_dir))
    payload = prefix / xet_hash
    if not payload.exists():
        payload.write_bytes(data)
        os.chmod(payload, 0o444)
    lock = prefix / f"{xet_hash}.lock"
    if not lock.exists():
        lock.touch()
        os.chmod(lock, 0o666)
    manifest = prefix / f"{xet_hash}.refs"
    line = repo_blob.relative_to(cache_dir).as_posix()
    existing = manifest.read_text().splitlines() if manifest.exists() else []
    if line not in existing:
        with open(manifest, "a") as f:
            f.write(line + "\n")
        os.chmod(manifest, 0o666)
    repo_blob.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(repo_blob):
        os.remove(repo_blob)
    os.symlink(os.path.relpath(os.path.abspath(payload), os.path.abspath(repo_blob.parent)), repo_blob)
    return payload


def write_ref(repo_folder: Path, ref: str, commit: str) -> Path:
    """`refs/<ref>` = commit, no trailing newline (`refs/pr/1` -> refs/refs/pr/1)."""
    path = repo_folder.joinpath("refs", *ref.split("/"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(commit)
    return path


def build_repo(
    cache_dir: str | os.PathLike,
    repo_id: str,
    revisions: Mapping[str, Mapping[str, bytes]],
    *,
    refs: Mapping[str, str] | None = None,
    repo_type: str = "model",
    lfs: LfsSpec = None,
    trees: bool = True,
    shared_store: bool = False,
    symlinks: bool = True,
    partial: Mapping[str, Iterable[str]] | None = None,
) -> RepoInfo:
    """Lay out `repo_id` in `cache_dir` as huggingface_hub 2.4 leaves it after downloading.

    `revisions`: commit (40-hex) -> {repo path: bytes}. `refs` defaults to {"main": last commit};
    pass `{}` for a repo with only detached (sha-downloaded) revisions. `lfs`: set of LFS paths, a
    predicate `(path, data) -> bool`, or None for `is_lfs_default`. `partial`: commit -> paths present
    in that snapshot (trees/ still list every file). `shared_store`: LFS blobs live in the cache-wide
    Xet store. `symlinks=False`: HF_HUB_DISABLE_SYMLINKS layout (real snapshot files, empty blobs/).
    Calling it again for the same repo adds revisions/refs to the existing folder.
    """
    cache_dir = Path(cache_dir)
    if shared_store and not symlinks:
        raise ValueError("the shared blob store is only used when symlinks are supported")
    commits = list(revisions)
    for c in commits:
        if len(c) != 40 or any(ch not in "0123456789abcdef" for ch in c):
            raise ValueError(f"commit must be 40 lowercase hex: {c!r}")
    if refs is None:
        refs = {"main": commits[-1]} if commits else {}
    partial = {c: list(paths) for c, paths in (partial or {}).items()}

    cache_dir.mkdir(parents=True, exist_ok=True)
    _ensure_cachedir_tag(cache_dir)
    folder = cache_dir / repo_folder_name(repo_id, repo_type)
    locks = cache_dir / ".locks" / folder.name
    locks.mkdir(parents=True, exist_ok=True)
    (folder / "blobs").mkdir(parents=True, exist_ok=True)
    (folder / "snapshots").mkdir(parents=True, exist_ok=True)
    if refs:
        (folder / "refs").mkdir(parents=True, exist_ok=True)

    info = RepoInfo(
        cache_dir=cache_dir,
        repo_id=repo_id,
        repo_type=repo_type,
        repo_folder=folder,
        commits=commits,
        refs=dict(refs),
        files={},
        present={},
        contents={},
        symlinks=symlinks,
        shared_store=shared_store,
    )
    for commit in commits:
        files = dict(revisions[commit])
        for p in partial.get(commit, []):
            if p not in files:
                raise ValueError(f"partial path {p!r} not in commit {commit}")
        infos = {p: file_info(p, data, _resolve_lfs(lfs, p, data), xet=shared_store) for p, data in files.items()}
        present = sorted(partial[commit]) if commit in partial else sorted(files)
        info.files[commit] = infos
        info.present[commit] = present
        info.contents[commit] = files
        snap = folder / "snapshots" / commit
        snap.mkdir(parents=True, exist_ok=True)
        for p in present:
            fi = infos[p]
            data = files[p]
            pointer = snap.joinpath(*p.split("/"))
            lock = locks / f"{fi.etag}.lock"
            if not lock.exists():
                lock.touch()
                os.chmod(lock, 0o664)
            if not symlinks:
                _write_bytes(pointer, data)
                continue
            blob = folder / "blobs" / fi.etag
            if fi.xet_hash is not None:
                info.store_blobs[fi.etag] = _publish_shared(cache_dir, blob, data, fi.xet_hash)
            elif not os.path.lexists(blob):
                _write_bytes(blob, data)
            info.blobs[fi.etag] = blob
            _symlink_like_hub(blob, pointer)
        if trees:
            write_tree(folder, commit, infos.values())
    for name, commit in refs.items():
        write_ref(folder, name, commit)
    return info


# --------------------------------------------------------------------------------------------------
# Damage helpers (what old hubs / crashes / hand edits leave behind)


def add_ref_newline(repo_path: str | os.PathLike, ref: str = "main") -> Path:
    """Append "\\n" to refs/<ref> (hand-edited or `echo sha > refs/main`)."""
    path = Path(repo_path).joinpath("refs", *ref.split("/"))
    path.write_text(path.read_text() + "\n")
    return path


def _snapshot_links(repo_path: Path, commit: str) -> list[Path]:
    snap = repo_path / "snapshots" / commit
    out = []
    for dirpath, _dirnames, filenames in os.walk(snap):
        for name in filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                out.append(p)
    return sorted(out)


def make_absolute_links(repo_path: str | os.PathLike, commit: str) -> list[Path]:
    """Rewrite snapshot links as absolute paths to `<repo>/blobs/<etag>` (hub 0.13.2 style)."""
    repo_path = Path(repo_path)
    links = _snapshot_links(repo_path, commit)
    for link in links:
        target = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(link)), os.readlink(link)))
        os.remove(link)
        os.symlink(target, link)
    return links


def make_cwd_relative_links(repo_path: str | os.PathLike, commit: str, cwd: str | os.PathLike) -> list[Path]:
    """Rewrite snapshot links relative to `cwd` (hub 0.13.0/0.13.1 with a relative cache_dir, issue #1388)."""
    repo_path = Path(repo_path)
    links = _snapshot_links(repo_path, commit)
    for link in links:
        target = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(link)), os.readlink(link)))
        os.remove(link)
        os.symlink(os.path.relpath(target, os.path.abspath(cwd)), link)
    return links


def add_no_exist(repo_path: str | os.PathLike, commit: str, path: str) -> Path:
    """0-byte `.no_exist/<commit>/<path>` marker ("file not in this commit")."""
    marker = Path(repo_path).joinpath(".no_exist", commit, *path.split("/"))
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return marker


def add_incomplete(
    repo_path: str | os.PathLike, etag: str, data: bytes = b"partial download", *, legacy: bool = False
) -> Path:
    """An interrupted download.

    `blobs/<etag>.<8hex>.incomplete` (2.x), or `blobs/<etag>.incomplete` (hub 0.23 to 1.x) with `legacy=True`.
    """
    blobs = Path(repo_path) / "blobs"
    blobs.mkdir(parents=True, exist_ok=True)
    suffix = "" if legacy else "." + hashlib.sha1(f"{etag}{data!r}".encode()).hexdigest()[:8]
    path = blobs / f"{etag}{suffix}.incomplete"
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------------------------------
# Legacy layouts (migration sources)


@dataclass
class LocalDirInfo:
    local_dir: Path
    commit: str
    files: dict[str, FileInfo]
    metadata: dict[str, Path]  # repo path -> .cache/huggingface/download/<path>.metadata


def build_local_dir(
    local_dir: str | os.PathLike,
    files: Mapping[str, bytes],
    commit: str,
    *,
    lfs: LfsSpec = None,
    trees: bool = True,
    timestamp: float | None = None,
) -> LocalDirInfo:
    """An `hf download --local-dir` folder (hub >= 0.23): plain files + `.cache/huggingface/` bookkeeping.

    Each `download/<path>.metadata` has 3 lines: commit, etag, time.time() (written after the file so
    `read_download_metadata`'s mtime rule accepts it), plus the `<path>.lock` left by WeakFileLock.
    """
    local_dir = Path(local_dir)
    local_dir.mkdir(parents=True, exist_ok=True)
    hf_dir = local_dir / ".cache" / "huggingface"
    hf_dir.mkdir(parents=True, exist_ok=True)
    _ensure_cachedir_tag(hf_dir)
    if not (hf_dir / ".gitignore").exists():
        (hf_dir / ".gitignore").write_text("*")
    infos: dict[str, FileInfo] = {}
    metadata: dict[str, Path] = {}
    for p, data in files.items():
        fi = file_info(p, data, _resolve_lfs(lfs, p, data))
        infos[p] = fi
        _write_bytes(local_dir.joinpath(*p.split("/")), data)
    for p, fi in infos.items():
        meta = hf_dir.joinpath("download", *p.split("/")).with_name(p.split("/")[-1] + ".metadata")
        meta.parent.mkdir(parents=True, exist_ok=True)
        ts = time.time() if timestamp is None else timestamp
        meta.write_text(f"{commit}\n{fi.etag}\n{ts}\n")
        meta.with_suffix(".lock").touch()
        metadata[p] = meta
    if trees:
        write_tree(hf_dir, commit, infos.values())
    return LocalDirInfo(local_dir=local_dir, commit=commit, files=infos, metadata=metadata)


def st_legacy_folder_name(repo_id: str) -> str:
    """sentence-transformers 2.0-2.2 folder name: `repo_id.replace("/", "_")`."""
    return repo_id.replace("/", "_")


def build_st_legacy(root: str | os.PathLike, repo_id: str, files: Mapping[str, bytes]) -> Path:
    """sentence-transformers 2.2 cache folder `<root>/<org>_<name>`: plain files, no metadata, no commit."""
    folder = Path(root) / st_legacy_folder_name(repo_id)
    for p, data in files.items():
        _write_bytes(folder.joinpath(*p.split("/")), data)
    return folder


@dataclass
class TransformersLegacyEntry:
    path: str  # repo path
    url: str
    etag: str  # normalized (no quotes)
    file: Path  # <dir>/<sha256(url)>.<sha256('"etag"')>[.h5]
    sidecar: Path  # file + ".json"


def legacy_url(repo_id: str, revision: str, path: str, endpoint: str = "https://huggingface.co") -> str:
    """`hf_hub_url` as used by transformers < 4.22 (model repos only)."""
    return f"{endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"


def legacy_filename(url: str, raw_etag: str) -> str:
    """transformers `url_to_filename`: sha256(url).sha256(etag-with-quotes) (+ ".h5")."""
    name = sha256_hex(url.encode()) + "." + sha256_hex(raw_etag.encode())
    if url.endswith(".h5"):
        name += ".h5"
    return name


def build_transformers_legacy(
    directory: str | os.PathLike,
    repo_id: str,
    revision: str,
    files: Mapping[str, bytes],
    *,
    lfs: LfsSpec = None,
    endpoint: str = "https://huggingface.co",
    locks: bool = True,
) -> dict[str, TransformersLegacyEntry]:
    """The pre-4.22 flat transformers cache: `<hash>.<hash>` files + `.json` sidecars (+ `.lock`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out: dict[str, TransformersLegacyEntry] = {}
    for p, data in files.items():
        etag = etag_for(p, data, _resolve_lfs(lfs, p, data))
        url = legacy_url(repo_id, revision, p, endpoint)
        raw = f'"{etag}"'
        target = directory / legacy_filename(url, raw)
        _write_bytes(target, data)
        sidecar = Path(str(target) + ".json")
        sidecar.write_text(json.dumps({"url": url, "etag": raw}))
        if locks:
            Path(str(target) + ".lock").touch()
        out[p] = TransformersLegacyEntry(path=p, url=url, etag=etag, file=target, sidecar=sidecar)
    return out


def build_plain_folder(directory: str | os.PathLike, files: Mapping[str, bytes]) -> Path:
    """A `save_pretrained` / ST `save()` style folder: plain files, no metadata."""
    directory = Path(directory)
    for p, data in files.items():
        _write_bytes(directory.joinpath(*p.split("/")), data)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
