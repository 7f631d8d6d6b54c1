"""Doctor's check that the view links into the global cache in use, not into another one that still exists."""

from __future__ import annotations

from pathlib import Path

from ..hfcache.linked import former_cache
from ..lockfile import Lockfile
from .report import WARN, Check


def former_cache_checks(global_cache: Path, lock: Lockfile) -> list[Check]:
    old = former_cache(lock.view, global_cache)
    if old is None:
        return []
    return [
        Check(
            "view-cache",
            WARN,
            f"the view {lock.view} links into {old}, not into the global cache in use ({global_cache}); "
            f"the next `linker sync` relinks it there, downloading what is missing",
            fix=f"pass --cache-dir {old} (or set HF_HUB_CACHE) to keep using it, or run `linker sync` to move over",
        )
    ]
