"""Where repair finds a copy of a blob on this machine: real files inside the view and the global cache only
(the view's own hardlink or copy, any repo of the global cache, the shared blob store)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from ..hfcache import CacheRepo, blob_rel, repo_folders, store_payloads_for
from ..roots import Roots, resolves_inside


def same_device(a: str, b: Path) -> bool:
    cur = b
    while not os.path.exists(cur) and cur.parent != cur:
        cur = cur.parent
    try:
        return os.stat(a).st_dev == os.stat(cur).st_dev
    except OSError:
        return False


def local_copies(global_cache: Path, v: CacheRepo, etag: str, roots: Roots) -> Iterable[str]:
    """Real files that may hold blob `etag`: the view's own hardlink or copy, any repo of the global cache,
    the shared blob store; never a file outside them. Each is hash-verified by the caller before it is trusted."""
    seen: set[str] = set()

    def fresh(p: str) -> bool:
        if p in seen or not resolves_inside(p, roots):
            return False
        seen.add(p)
        return True

    vb = v.blob(etag)
    try:
        if stat.S_ISREG(os.lstat(vb).st_mode) and fresh(str(vb)):
            yield str(vb)
    except OSError:
        pass
    for _type, _id, folder in repo_folders(global_cache):
        p = folder / blob_rel(etag)
        if os.path.exists(p) and fresh(real := os.path.realpath(p)):
            yield real
    for payload in store_payloads_for(global_cache, etag):
        real = os.path.realpath(payload)
        if fresh(real):
            yield real
