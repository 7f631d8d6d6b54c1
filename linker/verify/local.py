"""The checks of `linker verify`: lockfile + view + global cache -> findings (reads only; never writes).

Fast checks cost about two syscalls per pinned file (a `stat` that follows the links, a `readlink`), plus a few
per entry (the view ref, the project ref, `.no_exist`, the `blobs/` listings for leftovers). `full=True` also
hashes every blob the view resolves to, in parallel and streaming (linker/hashpool.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..errors import Verdict
from ..hashcheck import BlobToCheck, VerifiedBlobs, check_blobs
from ..hfcache import CacheRepo, migrate_journal_dir, project_ref_name
from ..lockfile import Entry, Lockfile
from ..pins import Listing, pinned_files
from ..problems import CORRUPT, ERROR, GLOBAL, JOURNAL, NOT_REGULAR, OUTSIDE, VIEW, Finding
from ..roots import Roots, check_usable, managed_roots
from ..sync.manifest import Manifest, RepoRecord, load_manifest, record_matches
from ..viewguard import check_view_location
from .entry import (
    FileScan,
    Hashable,
    ToHash,
    check_files,
    check_global_links,
    check_leftovers,
    check_listing,
    check_no_exist,
    check_project_ref,
    check_view_ref,
)
from .targets import global_not_regular, judge_hash
from .tiers import tier_aware, tier_of
from .unchanged import unchanged_size

#: progress(total_bytes) -> a context manager yielding an on_bytes(n) callback (linker.progress.byte_progress).
ProgressFactory = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass
class EntryCheck:
    repo: str
    type: str
    revision: str
    ref: str
    listing: Listing  # where the file list came from: lock | manifest | tree | view-tree | snapshot | none
    files: int = 0
    size: int = 0
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass
class VerifyReport(Verdict):
    view: Path
    global_cache: Path
    full: bool
    entries: list[EntryCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    hashed_files: int = 0
    hashed_bytes: int = 0
    remembered: int = 0  # blobs not hashed: verified before (the view's manifest) and unchanged since
    elapsed: float = 0.0
    tiers: list[Path] = field(default_factory=list)  # the usable shared tiers it was checked with
    unchanged: set[str] = field(default_factory=set)  # repo folders proven unchanged since synced from these caches

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "view": str(self.view),
            "global_cache": str(self.global_cache),
            "shared_caches": [str(t) for t in self.tiers],
            "full": self.full,
            "entries": [{**asdict(e), "ok": e.ok} for e in self.entries],
            "problems": [f.to_json() for f in self.findings],
            "hashed": {"files": self.hashed_files, "bytes": self.hashed_bytes},
            "remembered": self.remembered,
            "elapsed": round(self.elapsed, 3),
        }


# ---------------------------------------------------------------------------------------------------------------
# The checks


def verify(
    lock: Lockfile,
    global_cache: Path,
    *,
    full: bool = False,
    ids: Iterable[str] = (),
    global_blobs: bool = False,
    leftovers: bool | None = None,
    progress: ProgressFactory | None = None,
    workers: int | None = None,
    rehash: bool = False,
    tiers: Sequence[Path] = (),
    manifest: Manifest | None = None,
) -> VerifyReport:
    """Check the view (and the project's refs in the global cache) against the lock.

    `full` hashes every blob the view resolves to; `global_blobs` (repair) also hashes the global cache's
    blobs of the pinned files when they are other files than the view's (copy mode, or a view link that dangles).
    `leftovers` (default: `full`) also lists leftovers of interrupted runs and quarantined blobs (warnings).
    Hashing goes through linker/hashcheck.py: a blob that sync verified and that stats the same since is not
    hashed again, unless `rehash`. verify never writes that memory (it reads only).
    `tiers` are the usable shared read-only caches (linker/tiers.py): a view link into one of them is as good as
    one into the global cache (linker/verify/tiers.py). `manifest`: the view's, when the caller read it already.
    """
    start = time.perf_counter()
    view = lock.view
    check_usable(view, global_cache)
    check_view_location(view, [global_cache])
    report = VerifyReport(view, global_cache, full, tiers=list(tiers))
    ref_name = project_ref_name(view)
    to_hash: ToHash = {}
    manifest = manifest or load_manifest(view)
    records = manifest.repos
    roots = managed_roots(view, global_cache, *tiers)  # once: a realpath() per tree
    scan = full if leftovers is None else leftovers
    ref_name = "" if manifest.link_mode == "copy" else ref_name  # a copy view asks for no project ref
    for entry in lock.select(ids):
        before = len(report.findings)
        rec = records.get(CacheRepo(view, entry.id, entry.type).folder)
        check = _check_entry(
            entry,
            view,
            global_cache,
            ref_name,
            report.findings,
            to_hash if full else None,
            rec,
            scan,
            tiers,
            roots,
            manifest.stamp_ns,
            report.unchanged,
        )
        if full and global_blobs:
            _collect_global_blobs(entry, global_cache, view, to_hash, report.findings)
        check.errors = sum(f.severity == ERROR for f in report.findings[before:])
        report.entries.append(check)
    report.findings.extend(_journal_findings(global_cache))
    if full:
        _hash_all(report, to_hash, progress, workers, None if rehash else manifest.verified)
        for e in report.entries:
            e.errors = sum(1 for f in report.findings if f.repo == e.repo and f.severity == ERROR)
    report.elapsed = time.perf_counter() - start
    return report


def _check_entry(
    entry: Entry,
    view: Path,
    global_cache: Path,
    ref_name: str,
    out: list[Finding],
    to_hash: ToHash | None,
    record: RepoRecord | None = None,
    leftovers: bool = False,
    tiers: Sequence[Path] = (),
    roots: Roots | None = None,
    stamp_ns: int = 0,
    unchanged: set[str] | None = None,
) -> EntryCheck:
    """Check one entry, step by step (linker/verify/entry.py); the findings go to `out`. Without hashing, an entry
    whose matching record and folder stamps (`stamp_ns`: the manifest's mtime) prove its links unchanged has its
    blobs stat()ed instead of every link followed (linker/verify/unchanged.py)."""
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(view, entry.id, entry.type)
    vpath = str(v.path)  # strings, not Paths, on the fast path: this runs for every file of every entry
    matches = record is not None and record_matches(entry, record, global_cache, tiers)
    recorded = record.snapshot_sizes() if record is not None and matches else None
    pins = pinned_files(entry, g, v, recorded=recorded)
    check = EntryCheck(entry.label, entry.type, entry.revision, entry.ref, pins.listing, files=len(pins.files))
    found, synced = check_listing(entry, view, vpath, pins)
    out += found
    mark = len(out)
    if not synced:
        return check
    out += check_view_ref(entry, vpath)
    gref = str(g.ref(ref_name)) if ref_name else None
    size = None
    if to_hash is None and record is not None and matches:
        size = unchanged_size(record, vpath, stamp_ns, pins.files, gref)
    if size is not None:
        scan = FileScan(size=size)
        if unchanged is not None:
            unchanged.add(v.folder)
    else:
        scan = check_files(entry, v, g, pins.files, roots or managed_roots(view, global_cache, *tiers), to_hash)
    out += scan.findings
    check.size = scan.size
    if to_hash is not None or scan.dangling:  # checked with --full, and when a view link dangles
        out += check_global_links(entry, g, pins.files)
    out += check_no_exist(entry, v, g, pins.files)
    if ref_name:  # "": a copy view, which needs no protection in the global cache
        out += check_project_ref(entry, g, ref_name)
    if leftovers:
        out += check_leftovers(entry, v, g)
    if tiers:  # seen with the shared tiers: a ref-less entry they serve is a note, a file they hold is fixable
        out[mark:] = tier_aware(entry, v, pins.files, out[mark:], tiers)
    return check


def _journal_findings(global_cache: Path) -> list[Finding]:
    """Interrupted `linker migrate` runs (their journals), listed without acting on them."""
    if not os.path.isdir(migrate_journal_dir(global_cache)):
        return []  # the common case costs one stat, not an import of the migrate package
    from ..migrate.journal import pending  # lists regular journal files; [] when the folder cannot be read

    names = pending(global_cache)
    return [
        Finding(
            JOURNAL,
            "",
            str(n),
            "an interrupted `linker migrate` (resumed or rolled back by repair)",
            fix="linker repair",
            scope=GLOBAL,
            where=str(n),
        )
        for n in names
    ]


def _collect_global_blobs(entry: Entry, global_cache: Path, view: Path, to_hash: ToHash, out: list[Finding]) -> None:
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(view, entry.id, entry.type)
    files = pinned_files(entry, g, v).files
    known = {f.path for f in out if f.repo == entry.label and f.kind in (NOT_REGULAR, OUTSIDE)}  # said once
    for path, pf in files.items():
        etag = pf.etag or g.blob_of(entry.revision, path)
        if not etag or path in known:
            continue
        try:
            st = os.stat(g.blob(etag))
        except OSError:
            continue
        if not S_ISREG(st.st_mode):
            out.append(global_not_regular(entry.label, entry.revision, path, str(g.blob(etag)), etag, st.st_mode))
            continue
        item = to_hash.setdefault((st.st_dev, st.st_ino), Hashable(str(g.blob(etag)), etag, st.st_size))
        item.uses.append((entry, path, GLOBAL))


def _hash_all(
    report: VerifyReport,
    to_hash: ToHash,
    progress: ProgressFactory | None,
    workers: int | None,
    memory: VerifiedBlobs | None,
) -> None:
    items = list(to_hash.values())
    total = sum(i.size for i in items)
    cm = progress(total) if progress else contextlib.nullcontext(None)
    with cm as on_bytes:
        memory = VerifiedBlobs(memory.data) if memory is not None else None  # read, never written back
        run = check_blobs(
            (BlobToCheck(n, i.path, i.etag) for n, i in enumerate(items)),
            memory,
            workers=workers,
            on_bytes=on_bytes,
        )
    report.hashed_files = run.hashed_files
    report.hashed_bytes = run.hashed_bytes
    report.remembered = run.remembered
    roots = managed_roots(report.view, report.global_cache, *report.tiers)
    for n, item in enumerate(items):
        bad = run.bad.get(n)
        res = run.digests.get(n) or (bad if isinstance(bad, OSError) else None)
        if res is None:  # verified before and unchanged since
            continue
        judged = judge_hash(item.path, item.etag, res, roots)
        if judged is None:
            continue
        kind, where, detail = judged
        # a bad blob of a shared tier is never touched: the view's link to it is what repair replaces
        scope = VIEW if Path(where).is_relative_to(roots[0]) or tier_of(where, roots[2:]) else GLOBAL
        if kind != CORRUPT:  # the link to replace: the global blob's when repair hashed it, else the view's
            scope = GLOBAL if any(use == GLOBAL for _e, _p, use in item.uses) else VIEW
        seen: set[tuple[str, str]] = set()
        for entry, path, _use in item.uses:
            if (entry.label, path) in seen:
                continue
            seen.add((entry.label, path))
            report.findings.append(
                Finding(
                    kind,
                    entry.label,
                    path,
                    detail,
                    fix="linker repair",
                    scope=scope,
                    where=where,
                    etag=item.etag,
                    revision=entry.revision,
                )
            )
