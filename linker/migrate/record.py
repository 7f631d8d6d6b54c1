"""What `linker migrate` finished, per source folder, so that a rerun on a source that has moved says it was
already migrated (and `--lock` still writes its entry). Kept in `<global>/.locks/linker-migrated.json`, written
atomically under the migrate lock; losing it only loses that message."""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from ..hfcache import migrate_record_path
from .plandata import Item
from .units import inside


@dataclass(frozen=True)
class Done:
    source: str
    label: str
    revision: str
    lock_entry: dict[str, Any] | None


def _read(global_cache: Path) -> dict[str, Any]:
    try:
        data = json.loads(migrate_record_path(global_cache).read_text())
    except (OSError, ValueError):
        return {}
    return data.get("sources", {}) if isinstance(data, dict) else {}


def remember(global_cache: Path, items: list[Item]) -> None:
    """Record the completed items (best effort: a full disk must not fail a migration that is done)."""
    if not items:
        return
    sources = _read(global_cache)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for it in items:
        rev = it.revisions[0] if len(it.revisions) == 1 else ""
        sources[it.source] = {"label": it.label, "revision": rev, "lock_entry": it.lock_entry, "at": stamp}
    with contextlib.suppress(OSError):
        atomic_write_text(migrate_record_path(global_cache), json.dumps({"version": 1, "sources": sources}))


def lookup(global_cache: Path, src: Path) -> list[Done]:
    """What was migrated from `src` or from below it, that is no longer there."""
    out = []
    for source, d in sorted(_read(global_cache).items()):
        if isinstance(d, dict) and inside(source, os.path.abspath(src)) and not os.path.lexists(source):
            out.append(Done(source, str(d.get("label", "")), str(d.get("revision", "")), d.get("lock_entry")))
    return out
