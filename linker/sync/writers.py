"""Another process writing a global snapshot that sync is about to link from.

An entry's file list is *proven* when it comes from the lock's `files` or a `trees/<sha>.json` listing
(huggingface_hub 2.4's `snapshot_download` writes the listing before it downloads a file, so a completed or
running download always has one). Without one, sync can only link what the global snapshot folder holds, and
that folder may be half-written. Such an entry is linked but never recorded complete (no fast path, verify warns
"completeness unproven"), and before planning it sync waits for the writers it can see:

* a download or a migrate writing a blob of that repo: its temp file is in the repo's `blobs/`
  (`<etag>.<8hex>.incomplete` from huggingface_hub, `.<etag>.<8hex>.linker-tmp` from linker) and it holds
  huggingface_hub's lock `<global>/.locks/<repo folder>/<etag>.lock` until the blob and its snapshot link are in
  place; sync takes each such lock in turn, so it waits for them;
* a `linker migrate` whose journal names the repo: sync waits for the migrate lock; a journal still there
  afterwards is an interrupted run (`linker repair` finishes it), reported as a notice.

A crashed download's `*.incomplete` has no lock holder: nothing to wait for, and the entry stays unproven.

A shared read-only tier is only looked at, never locked (a lock file there would be a write): a listing there
proves the file list, and a download in progress there is reported, not waited for.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..filelocks import blob_lock, file_lock
from ..hfcache import (
    BLOBS,
    CacheRepo,
    incomplete_etag,
    migrate_journal_dir,
    migrate_lock_path,
    repo_folder_name,
    tmp_etag,
)
from ..lockfile import Entry

DOWNLOAD, MIGRATE = "download", "migrate"


@dataclass(frozen=True)
class Writer:
    kind: str  # DOWNLOAD (a blob lock of the repo) | MIGRATE (a migrate journal naming the repo)
    repo: str  # the entry label
    path: str  # the lock file or journal


def unproven(entry: Entry, global_cache: Path, tiers: Sequence[Path] = ()) -> bool:
    """No `files` in the lock and no `trees/<sha>.json` in the global cache (nor in a shared tier): the file list
    is the snapshot's."""
    return entry.files is None and not any(
        CacheRepo(c, entry.id, entry.type).tree(entry.revision).is_file() for c in (*tiers, global_cache)
    )


def wait_for_writers(entries: list[Entry], global_cache: Path, tiers: Sequence[Path] = ()) -> list[str]:
    """Wait (up to LINKER_LOCK_TIMEOUT each, then exit 4) for the processes writing the global snapshots of the
    unproven `entries`. Returns notices about interrupted migrates that still hold a journal for one of them, and
    about downloads under way in a shared tier (read-only there: nothing is locked or created)."""
    todo = {repo_folder_name(e.id, e.type): e for e in entries if unproven(e, global_cache, tiers)}
    if not todo:
        return []
    busy = [
        f"warning: {e.label}: shared cache {t} holds a download in progress; linked what is there (unproven)"
        for e in todo.values()
        for t in tiers
        if _blob_locks(CacheRepo(t, e.id, e.type))
    ]
    journaled = _journaled(global_cache, set(todo))
    if journaled:
        with contextlib.suppress(OSError), file_lock(migrate_lock_path(global_cache), what="migrate lock"):
            pass  # a running migrate finishes first
        journaled = _journaled(global_cache, set(todo))
    for entry in todo.values():
        for lock in _blob_locks(CacheRepo(global_cache, entry.id, entry.type)):
            with contextlib.suppress(OSError), blob_lock(lock):  # OSError: a lock we may not open (read-only)
                pass  # a download or migrate writing this blob finishes first
    return busy + [
        f"warning: {todo[f].label}: an interrupted `linker migrate` was writing it; linked what is there "
        "(`linker repair` finishes that migrate, then `linker sync` links the rest)"
        for f in sorted(journaled)
    ]


def _blob_locks(g: CacheRepo) -> list[Path]:
    """The blob locks of the blobs being written in `g`: those with a `<etag>[.<8hex>].incomplete` (a hub
    download) or a `.<etag>.<8hex>.linker-tmp` (migrate, repair) in its `blobs/` (one listing per repo)."""
    try:
        names = os.listdir(g.path / BLOBS)
    except OSError:
        return []
    etags = {e for n in names if "." in n and (e := incomplete_etag(n) or tmp_etag(n))}
    return [g.lock_path(e) for e in sorted(etags)]


def _journaled(global_cache: Path, folders: set[str]) -> set[str]:
    """The repo folders among `folders` that a pending migrate journal names."""
    if not migrate_journal_dir(global_cache).is_dir():
        return set()
    from ..migrate import journal  # only when a journal folder exists

    named: set[str] = set()
    for path in journal.pending(global_cache):
        plan = journal.load(path)
        if plan is None:
            return set(folders)  # unreadable: it may name any of them
        named |= {repo_folder_name(it.repo_id, it.repo_type) for it in plan.items}
    return named & folders
