"""What a program loads from the Hub, observed (`linker record`, `linker run --strict`).

The recorder is `_site/sitecustomize.py` (package data): linker puts its folder first on the program's
PYTHONPATH and names a file in LINKER_RECORD_FILE; every huggingface_hub lookup appends a JSON line there
(child processes inherit both variables). `read_lookups` reads them back as data; report.py compares them with
the lock; lockwrite.py turns them into lockfile edits.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

RECORD_ENV = "LINKER_RECORD_FILE"
SITE_DIR = Path(__file__).parent / "_site"

FOUND, ABSENT, MISSING, UNCACHED, INFO = "found", "absent", "missing", "uncached", "info"


@dataclass(frozen=True)
class Lookup:
    """One call the program made: which file of which repo, and what came of it."""

    fn: str  # hf_hub_download, try_to_load_from_cache, snapshot_download, model_info, ...
    repo_id: str
    repo_type: str
    revision: str | None  # as the program asked (None: the default branch)
    commit: str | None  # the commit it resolved to, when known
    path: str | None  # the file in the repo (None: the whole repo or its info)
    status: str  # found | absent | missing | uncached | info
    error: str | None = None
    files: tuple[str, ...] = ()  # snapshot_download: the files of the snapshot folder it returned


def recorder_env(base: dict[str, str], record_file: Path) -> dict[str, str]:
    """`base` with the recorder first on PYTHONPATH (the existing PYTHONPATH kept after it)."""
    path = os.pathsep.join(p for p in (str(SITE_DIR), base.get("PYTHONPATH", "")) if p)
    return {**base, "PYTHONPATH": path, RECORD_ENV: str(record_file)}


def read_lookups(record_file: Path) -> list[Lookup]:
    """The lookups recorded, in order; a line cut short (a killed child) is skipped."""
    try:
        data = record_file.read_bytes()
    except FileNotFoundError:
        return []
    out: list[Lookup] = []
    for line in data.splitlines():
        try:
            raw = json.loads(line)
            out.append(
                Lookup(
                    fn=str(raw["fn"]),
                    repo_id=str(raw["repo_id"]),
                    repo_type=str(raw.get("repo_type") or "model"),
                    revision=raw.get("revision"),
                    commit=raw.get("commit"),
                    path=raw.get("path"),
                    status=str(raw["status"]),
                    error=raw.get("error"),
                    files=tuple(raw.get("files") or ()),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return out
