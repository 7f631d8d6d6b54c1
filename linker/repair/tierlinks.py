"""Repair from the shared read-only tiers: a broken view link is relinked to the first tier holding a sound copy
of its blob (the right name and size, hash-verified unless `--fast`), before the writable cache is considered.

A tier is only ever a link target: the fixes planned here replace links inside the view (`view-link`), never
anything in a tier or in the global cache."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..hfcache import CacheRepo, blob_matches, repo_folder_name, snapshot_link_target
from ..lockfile import Entry, Lockfile
from ..pins import PinnedFile, pinned_files
from ..problems import (
    BAD_REF,
    CORRUPT,
    DANGLING,
    LINK_FORM,
    MISSING_FILE,
    NOT_REGULAR,
    OUTSIDE,
    SIZE,
    VIEW,
    WARNING,
    WRONG_BLOB,
    Finding,
)
from ..verify.tiers import serving_tiers
from .fixes import VIEW_LINK, VIEW_REF, Fix, RepairPlan

#: view findings about one file that a link into a tier fixes
FILE_KINDS = {MISSING_FILE, DANGLING, WRONG_BLOB, LINK_FORM, SIZE, CORRUPT, NOT_REGULAR, OUTSIDE}


class TierSources:
    """Sound tier copies of blobs, found once per (entry folder, etag): the first tier, in order, whose
    `blobs/<etag>` is a regular file of the locked size, not known bad, and (with `hash_blobs`) hashes to its name."""

    def __init__(self, tiers: Sequence[Path], bad: set[tuple[int, int]], hash_blobs: bool) -> None:
        self.tiers, self.bad, self.hash_blobs = tiers, bad, hash_blobs
        self._found: dict[tuple[str, str], str | None] = {}

    def find(self, entry: Entry, etag: str, size: int | None) -> str | None:
        """The tier's blob path (as configured, not resolved), or None."""
        key = (repo_folder_name(entry.id, entry.type), etag)
        if key not in self._found:
            self._found[key] = self._first(entry, etag, size)
        return self._found[key]

    def _first(self, entry: Entry, etag: str, size: int | None) -> str | None:
        for t in self.tiers:
            p = CacheRepo(t, entry.id, entry.type).blob(etag)
            try:
                st = os.stat(p)
            except OSError:
                continue
            if not os.path.isfile(p) or (size is not None and st.st_size != size):
                continue
            if (st.st_dev, st.st_ino) in self.bad or (self.hash_blobs and not blob_matches(str(p), etag)):
                self.bad.add((st.st_dev, st.st_ino))
                continue
            return str(p)
        return None


def plan_tier_links(
    plan: RepairPlan, lock: Lockfile, findings: list[Finding], sources: TierSources
) -> set[tuple[str, str]]:
    """Plan `view-link` fixes for the view's broken files that a tier holds; returns the (entry label, path)
    pairs so handled (they need no relink from the writable cache)."""
    by_label = {e.label: e for e in lock.entries}
    handled: set[tuple[str, str]] = set()
    files_of: dict[str, dict[str, PinnedFile]] = {}
    refs: list[Finding] = []
    for f in findings:
        entry = by_label.get(f.repo)
        if entry is None or f.scope != VIEW or f.severity == WARNING:
            continue
        if f.kind == BAD_REF:
            refs.append(f)
        if f.kind not in FILE_KINDS or not f.path or (f.repo, f.path) in handled:
            continue
        v = CacheRepo(lock.view, entry.id, entry.type)
        if f.repo not in files_of:
            files_of[f.repo] = pinned_files(entry, CacheRepo(plan.global_cache, entry.id, entry.type), v).files
        pf = files_of[f.repo].get(f.path)
        etag = (pf.etag if pf else None) or f.etag
        if not etag:
            continue
        source = sources.find(entry, etag, pf.size if pf else None)
        if source is None:
            continue
        handled.add((f.repo, f.path))
        _link(plan, f, v, str(v.blob(etag)), source, etag, "from the shared tier")
        snap = v.snapshot_file(entry.revision, f.path)
        want = snapshot_link_target(f.path, etag)
        try:
            current: str | None = os.readlink(snap)
        except OSError:
            current = None
        if current != want:
            _link(plan, f, v, str(snap), want, etag, "snapshot link")
    for f in refs:  # a view ref of an entry the tiers serve: written here (a relink would look in the writable cache)
        entry = by_label[f.repo]
        v = CacheRepo(lock.view, entry.id, entry.type)
        files = files_of.get(f.repo) or pinned_files(entry, CacheRepo(plan.global_cache, entry.id, entry.type), v).files
        if serving_tiers(entry, v, files, sources.tiers):
            plan.fixes.append(
                Fix(VIEW_REF, f.repo, v.folder, f.where, target=entry.revision, reason=f.path, finding=BAD_REF)
            )
            handled.add((f.repo, f.path))
    return handled


def _link(plan: RepairPlan, f: Finding, v: CacheRepo, path: str, target: str, etag: str, reason: str) -> None:
    if any(x.kind == VIEW_LINK and x.path == path for x in plan.fixes):
        return  # two files of one blob: one link
    try:
        if os.readlink(path) == target:
            return
    except OSError:
        pass
    plan.fixes.append(Fix(VIEW_LINK, f.repo, v.folder, path, target=target, etag=etag, reason=reason, finding=f.kind))
