"""Fast verify's shortcut: prove an entry's view links unchanged since sync recorded them in sync, without following
every link (what costs in a 15,000-file view).

The proof is sync's own fast path (linker/sync/fastpath.py): the record matches the entry exactly and every
recorded directory (the view's snapshot and blobs folders, the global blobs folders the links lead to, the global
ref's folder) keeps its mtime, older than the manifest: no link was added, removed or retargeted, no blob was
deleted or replaced. A blob truncated or rewritten in place leaves its folder's mtime alone, so every blob the view
links to is still stat()ed once (one link followed instead of two, and no readlink per file): each recorded
(inode, device, size) must still be there. Anything else, and the entry is checked file by file as before.
"""

from __future__ import annotations

import os
from pathlib import Path
from stat import S_ISREG

from ..hfcache import BLOBS, snapshot_rel
from ..pins import PinnedFile
from ..sync.fastpath import fast_in_sync
from ..sync.manifest import RepoRecord


def unchanged_size(
    rec: RepoRecord, vpath: str, stamp_ns: int, files: dict[str, PinnedFile], gref: str | None = None
) -> int | None:
    """The bytes the pinned `files` resolve to when the record (already matched to the entry) proves them
    unchanged; None when it cannot: the caller checks file by file. `gref`: the project's ref in the global
    cache (None: the recorded one)."""
    if not rec.in_sync or fast_in_sync(rec, rec.spec, Path(vpath), stamp_ns, gref) != "dirs":
        return None
    prefix = snapshot_rel(rec.revision) + "/"
    n = len(prefix)
    want: dict[str, list[int]] = {}
    for rel, ident in rec.paths.items():
        if rel.startswith(prefix):
            if ident is None:
                return None
            want[rel[n:]] = ident
    if want.keys() != files.keys():
        return None
    if any(pf.size is not None and pf.size != want[p][2] for p, pf in files.items()):
        return None
    have: set[tuple[int, int, int]] = set()
    try:
        with os.scandir(f"{vpath}/{BLOBS}") as it:
            for e in it:
                st = e.stat()  # follows the view's blob link to the blob (or is the copy itself)
                if not S_ISREG(st.st_mode):
                    return None
                have.add((st.st_ino, st.st_dev, st.st_size))
    except OSError:  # a blob link dangles, a folder went away: file by file says which
        return None
    if any((i[0], i[1], i[2]) not in have for i in want.values()):
        return None
    return sum(i[2] for i in want.values())
