"""The `hf` command lines linker prints as fixes (text only: nothing here imports huggingface_hub)."""

from __future__ import annotations

import shlex
from collections.abc import Collection
from pathlib import Path

from ..lockfile import Entry

#: a fix names the files to fetch one by one up to this many; beyond, it fetches the whole revision
MAX_INCLUDES = 20


def fetch_command(entry: Entry, files: Collection[str] = (), *, cache_dir: Path | None = None) -> str:
    """The `hf download` that puts the pinned revision of `entry` (only `files`, when 1 to 20 are named) into the
    global cache (`cache_dir`, when given: the one linker actually used), each argument quoted for a POSIX shell."""
    parts = ["hf", "download", entry.id, "--revision", entry.revision]
    if entry.type != "model":
        parts += ["--repo-type", entry.type]
    for p in entry.include:
        parts += ["--include", p]
    for p in entry.exclude:
        parts += ["--exclude", p]
    if 0 < len(files) <= MAX_INCLUDES:
        for p in sorted(files):
            parts += ["--include", p]
    if cache_dir is not None:
        parts += ["--cache-dir", str(cache_dir)]
    return " ".join(shlex.quote(p) for p in parts)
