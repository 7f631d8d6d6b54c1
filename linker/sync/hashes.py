"""`sync --verify-hashes`: hash every blob the plan links (or the view already serves), against its blob name,
before anything is linked; quarantine a blob that fails, so that no link serves it (linker/hashcheck.py).

A blob verified before and unchanged since (same device, inode, size, mtime_ns in the manifest's memory) is not
hashed again: a repeated run costs a stat per file.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..filelocks import blob_lock
from ..hashcheck import FROM_CACHE, BlobToCheck, HashMismatch, VerifiedBlobs, check_blobs, quarantine
from ..hfcache import BLOBS, CacheRepo, link_etag, snapshot_rel
from ..lockfile import Entry
from .plan import SyncPlan


@dataclass
class HashReport:
    """What sync's hash checks did: the files hashed (and their bytes), those remembered, the mismatches."""

    verified: bool = False  # every linked blob was checked (`--verify-hashes`), not only downloads
    hashed_files: int = 0
    hashed_bytes: int = 0
    remembered: int = 0
    mismatches: list[HashMismatch] = field(default_factory=list)
    bad_tier_blobs: set[tuple[int, int]] = field(default_factory=set)  # (inode, device): failed, in a shared tier

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "hashed": {"files": self.hashed_files, "bytes": self.hashed_bytes},
            "remembered": self.remembered,
            "mismatches": [m.to_json() for m in self.mismatches],
        }


def planned_blobs(planned: SyncPlan, view: Path) -> dict[str, tuple[str, list[tuple[str, str]]]]:
    """file to hash -> (its blob name, the (repo, path) that link it), for every pinned file of every entry: the
    global source of the plan, or (an entry the fast path proved in sync, so its links are as recorded) the blob
    its view link leads to, by name: the global blob (symlink mode) or the view's own (hardlink, copy)."""
    out: dict[str, tuple[str, list[tuple[str, str]]]] = {}
    for ep in planned.entry_plans:
        label = ep.entry.label
        if ep.want is not None:
            for path, wf in ep.want.files.items():
                out.setdefault(wf.source, (wf.etag, []))[1].append((label, path))
            continue
        v = CacheRepo(view, ep.entry.id, ep.entry.type)
        # by name in the global cache (symlink mode), else the view's own blobs (a tier serves some: links followed)
        by_global = planned.link_mode == "symlink" and not ep.record.shared
        home = Path(planned.global_cache) if by_global and planned.global_cache else view
        blobs = f"{home / v.folder}/{BLOBS}/"
        snaps = f"{v.path}/{snapshot_rel(ep.entry.revision)}/"
        locked = ep.entry.files or {}
        for path in ep.record.snapshot_sizes():
            pinned = locked.get(path)
            etag = pinned.hash if pinned is not None else None
            if etag is None:
                with contextlib.suppress(OSError):
                    etag = link_etag(os.readlink(snaps + path))
            if etag is not None:
                out.setdefault(blobs + etag, (etag, []))[1].append((label, path))
    return out


def verify_planned(
    planned: SyncPlan,
    view: Path,
    memory: VerifiedBlobs,
    on_bytes: Callable[[int], None] | None = None,
    tiers: Sequence[Path] = (),
) -> HashReport:
    """Hash what `planned` links (skipping what `memory` knows unchanged); quarantine each blob that fails and
    drop its other names, so a re-plan no longer links it. A blob in a shared tier (`tiers`) is never touched:
    its (inode, device) goes to `bad_tier_blobs`, for the re-plan to skip. A file that is gone is left to the
    plan (missing)."""
    roots = [os.path.realpath(t).rstrip(os.sep) + os.sep for t in tiers]
    blobs = planned_blobs(planned, view)
    run = check_blobs((BlobToCheck(p, p, etag) for p, (etag, _uses) in blobs.items()), memory, on_bytes=on_bytes)
    memory.retain(run.seen)  # sync covers the whole lock: blobs it no longer links are forgotten
    report = HashReport(True, run.hashed_files, run.hashed_bytes, run.remembered)
    entries = {ep.entry.label: ep.entry for ep in planned.entry_plans}
    for key, got in run.bad.items():
        path = str(key)
        etag, uses = blobs[path]
        if isinstance(got, OSError) and got.errno in (errno.ENOENT, errno.ENOTDIR):
            continue
        actual = got if isinstance(got, str) else ""
        real = os.path.realpath(path)
        tier = next((r.rstrip(os.sep) for r in roots if real.startswith(r)), None)
        if actual and tier is not None:  # a shared tier is never written
            with contextlib.suppress(OSError):
                st = os.stat(real)
                report.bad_tier_blobs.add((st.st_ino, st.st_dev))
            names = []
        else:
            names = [n for label, _f in uses for n in _blob_names(entries[label], etag, view, planned.global_cache)]
        where = _quarantine_all(path, etag, names) if actual and names else ""
        source = FROM_CACHE if tier is None else f"the shared cache {tier}, left as it is"
        for repo, file in uses:
            report.mismatches.append(HashMismatch(repo, file, etag, actual, source, where))
    return report


def _blob_names(entry: Entry, etag: str, view: Path, global_cache: str | None) -> list[tuple[Path, Path]]:
    """(blob name, its huggingface_hub lock) in the global cache (first) and in the view."""
    out = []
    if global_cache:
        g = CacheRepo(Path(global_cache), entry.id, entry.type)
        out.append((g.blob(etag), g.lock_path(etag)))
    v = CacheRepo(view, entry.id, entry.type)
    return [*out, (v.blob(etag), v.lock_path(etag))]


def _quarantine_all(path: str, etag: str, names: list[tuple[Path, Path]]) -> str:
    """Quarantine the data at `path` (under huggingface_hub's blob lock), then drop every other name of the same
    file among `names` (the global and view `blobs/<etag>` of the entries using it: a hardlink view), so nothing
    serves it; the data itself stays in quarantine."""
    try:
        st = os.stat(path)
        real = os.path.realpath(path)
    except OSError:
        return ""
    lock_path = names[0][1] if names else None
    with blob_lock(lock_path) if lock_path is not None else contextlib.nullcontext():
        where = quarantine(real, etag)
        for name, _lock in names:
            with contextlib.suppress(OSError):
                other = os.lstat(name)
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino) and not os.path.islink(name):
                    os.unlink(name)
    return where
