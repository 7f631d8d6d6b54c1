"""Blobs: their names (etag kinds), hashing a file the way its name was computed, guessing whether the Hub stores a
path in LFS, and the cache-wide shared blob store."""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path

from ..hashpool import hash_file

SHA40 = re.compile(r"[0-9a-f]{40}")
SHA256 = re.compile(r"[0-9a-f]{64}")
BLOBS = "blobs"  # a repo folder's blob store, and (one level up) the cache-wide shared store
SHARED_STORE_MARKER = ".huggingface-shared-blobs"
#: Patterns of the Hub's default `.gitattributes` that store a file in LFS.
DEFAULT_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*", "*.gguf", "*.mar",
)  # fmt: skip
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub refuses non-LFS files over 10 MiB


def etag_kind(etag: str) -> str | None:
    """'sha256' for LFS blob names, 'sha1' for git blob names, None for anything else."""
    if SHA256.fullmatch(etag):
        return "sha256"
    if SHA40.fullmatch(etag):
        return "sha1"
    return None


def hash_as(path: str | os.PathLike[str], etag: str) -> str:
    """Hash a file the way `etag` was computed (sha256 for 64 hex, git sha1 for 40 hex)."""
    kind = etag_kind(etag)
    if kind is None:
        raise ValueError(f"not a blob name: {etag!r}")
    digest = hash_file(path, kind)
    return digest.sha256 if kind == "sha256" else digest.sha1  # type: ignore[return-value]


def blob_matches(path: str | os.PathLike[str], etag: str) -> bool:
    """Whether a file's content hashes to the blob name `etag` (False when it cannot be read)."""
    try:
        return hash_as(path, etag) == etag
    except (OSError, ValueError):
        return False


def compute_etag(path: str | os.PathLike[str], lfs: bool) -> str:
    return hash_file(path, "sha256" if lfs else "sha1").etag(lfs)


def lfs_patterns_from_gitattributes(text: str) -> list[str]:
    """The patterns of a `.gitattributes` that carry `filter=lfs`."""
    patterns = []
    for line in text.splitlines():
        parts = line.strip().split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def is_lfs_path(path: str, size: int, patterns: list[str] | tuple[str, ...] | None = None) -> bool:
    """Guess whether the Hub stores `path` in LFS: a matching pattern, or over 10 MB.

    Used only when the Hub cannot tell (offline). `patterns` come from the folder's `.gitattributes`, else the
    Hub's defaults.
    """
    if size > LFS_SIZE_THRESHOLD:
        return True
    name = path.rsplit("/", 1)[-1]
    for pattern in patterns if patterns is not None else DEFAULT_LFS_PATTERNS:
        target = path if "/" in pattern else name
        if fnmatch.fnmatchcase(target, pattern):
            return True
    return False


def shared_store(cache: Path) -> Path | None:
    """The cache-wide shared blob store `<cache>/blobs/`, only when it carries huggingface_hub's marker."""
    store = cache / BLOBS  # the same name as a repo's blobs/, one level up
    return store if (store / SHARED_STORE_MARKER).is_file() else None


def store_payloads_for(cache: Path, etag: str) -> list[Path]:
    """Shared-store payloads whose `.refs` manifest names a repo blob `<etag>` (content-addressed by etag)."""
    store = shared_store(cache)
    if store is None:
        return []
    out = []
    suffix = f"/blobs/{etag}"
    for prefix in sorted(store.iterdir()):
        if not prefix.is_dir() or prefix.is_symlink():
            continue
        for manifest in prefix.glob("*.refs"):
            try:
                lines = manifest.read_text(errors="replace").splitlines()
            except OSError:
                continue
            if any(line.strip().endswith(suffix) for line in lines):
                payload = manifest.with_suffix("")
                if payload.is_file() and not payload.is_symlink():
                    out.append(payload)
    return out
