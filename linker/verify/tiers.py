"""What verify and repair ask of the shared read-only tiers (linker/tiers.py): which tier serves a view's blob,
and where a tier holds a blob. Reads only: a tier is never written, never a root of a destructive step."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from stat import S_ISREG

from ..hfcache import CacheRepo
from ..lockfile import Entry, Lockfile
from ..pins import PinnedFile, pinned_files
from ..problems import DANGLING, ERROR, MISSING_FILE, PROJECT_REF, WARNING, Finding

Tiers = Sequence[Path]
REPAIR = "linker repair"


def tier_of(real: str, tiers: Iterable[str]) -> str | None:
    """The tier (one of the real paths `tiers`) that the real path `real` lies in, or None."""
    for t in tiers:
        if real.startswith(t.rstrip(os.sep) + os.sep):
            return t
    return None


def real_tiers(tiers: Tiers) -> list[str]:
    return [os.path.realpath(t) for t in tiers]


def tier_blob(tiers: Tiers, entry: Entry, etag: str, size: int | None) -> str | None:
    """The first tier's `blobs/<etag>` of `entry` that is a regular file of the locked size (followed to its
    real path), or None. Its content is not hashed here."""
    for t in tiers:
        p = CacheRepo(t, entry.id, entry.type).blob(etag)
        try:
            st = os.stat(p)
        except OSError:
            continue
        if S_ISREG(st.st_mode) and (size is None or st.st_size == size):
            return os.path.realpath(p)
    return None


def serving_tiers(entry: Entry, v: CacheRepo, files: dict[str, PinnedFile], tiers: Tiers) -> set[str] | None:
    """The tiers that serve the view's pinned files of `entry` when tiers serve every one of them: each resolves
    into a tier, or (a broken link repair relinks into a tier first) a tier holds its blob. None when any resolves
    elsewhere (the writable cache) or no tier has it."""
    reals = real_tiers(tiers)
    found: set[str] = set()
    for path, pf in files.items():
        p = v.snapshot_file(entry.revision, path)
        t = tier_of(os.path.realpath(p), reals)
        if t is None and not os.path.exists(p) and pf.etag:
            held = tier_blob(tiers, entry, pf.etag, pf.size)
            t = tier_of(held, reals) if held is not None else None
        if t is None:
            return None
        found.add(t)
    return found or None


def tier_aware(
    entry: Entry, v: CacheRepo, files: dict[str, PinnedFile], found: list[Finding], tiers: Tiers
) -> list[Finding]:
    """verify's findings of one entry, seen with the tiers: a missing or dangling file that a tier holds is fixed
    by `linker repair` (a link into the tier); a missing project ref of an entry served wholly by tiers is a
    note, not an error (the writable cache holds none of its data, so a ref there protects nothing)."""
    if not tiers:
        return found
    out = []
    for f in found:
        if f.kind in (DANGLING, MISSING_FILE) and f.fix != REPAIR and f.etag:
            held = tier_blob(tiers, entry, f.etag, None)
            if held is not None:
                f = replace(f, fix=REPAIR, detail=f"{f.detail}; the shared tier has it: {held}")
        elif f.kind == PROJECT_REF and f.severity == ERROR:
            served = serving_tiers(entry, v, files, tiers)
            if served:
                where = ", ".join(sorted(served))
                detail = f"pinned data in {where} is protected by no ref of yours (its owners decide what is pruned)"
                f = replace(f, detail=detail, severity=WARNING, fix="")
        out.append(f)
    return out


def unnamed_tier_advice(lock: Lockfile, global_cache: Path, found: list[Finding], unnamed: Tiers) -> list[Finding]:
    """verify's findings, with the advice for a missing project ref of an entry served wholly by `unnamed`: tiers
    the view links into that no source names now (tiers.view_tiers). It stays an error (a sync in this shell
    would relink the pin to the writable cache, downloading it), but the fix is naming the tier, not a repair
    that downloads what the tier holds, and `hf cache prune` cannot delete data the writable cache lacks."""
    if not unnamed:
        return found
    by_label = {e.label: e for e in lock.entries}
    out = []
    for f in found:
        entry = by_label.get(f.repo)
        if f.kind == PROJECT_REF and f.severity == ERROR and entry is not None:
            v = CacheRepo(lock.view, entry.id, entry.type)
            files = pinned_files(entry, CacheRepo(global_cache, entry.id, entry.type), v).files
            served = serving_tiers(entry, v, files, unnamed)
            if served:
                where = ", ".join(sorted(served))
                detail = (
                    f"pinned data in {where}, a shared cache no LINKER_SHARED_CACHES, --shared-cache or "
                    "`shared_caches:` names now; `linker sync` here would download it into the writable cache"
                )
                fix = " ".join(f"--shared-cache {shlex.quote(t)}" for t in sorted(served))
                f = replace(f, detail=detail, fix=f"pass {fix} (or set LINKER_SHARED_CACHES)")  # fmt: skip
        out.append(f)
    return out
