"""Doctor's check that the view links into the global cache in use, not into another one that still exists."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..hfcache.linked import keep_using, linked_caches, was_shared_tier
from ..lockfile import Lockfile
from .report import WARN, Check


def former_cache_checks(global_cache: Path, lock: Lockfile, tiers: Sequence[Path] = ()) -> list[Check]:
    """A warning when the view links into a cache that is neither the global cache in use nor a shared tier."""
    known = {os.path.realpath(p) for p in (global_cache, *tiers)}
    old = next((c for c in linked_caches(lock.view) if os.path.realpath(c) not in known and c.is_dir()), None)
    if old is None:
        return []
    if was_shared_tier(lock.view, old):
        return [
            Check(
                "view-cache",
                WARN,
                f"the view {lock.view} links into the shared cache {old}, which is not configured now; "
                f"the next `linker sync` relinks it to {global_cache}, downloading what is missing",
                fix=keep_using(lock.view, old),
            )
        ]
    return [
        Check(
            "view-cache",
            WARN,
            f"the view {lock.view} links into {old}, not into the global cache in use ({global_cache}); "
            f"the next `linker sync` relinks it there, downloading what is missing",
            fix=f"pass --cache-dir {old} (or set HF_HUB_CACHE) to keep using it, or run `linker sync` to move over",
        )
    ]
