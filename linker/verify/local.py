"""The checks of `linker verify`: lockfile + view + global cache -> findings (reads only; never writes).

Fast checks cost about two syscalls per pinned file (a `stat` that follows the links, a `readlink`), plus a few
per entry (the view ref, the project ref, `.no_exist`, the `blobs/` listings for leftovers). `full=True` also
hashes every blob the view resolves to, in parallel and streaming (linker/hashpool.py).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from stat import S_ISREG
from typing import Any

from ..fsutil import is_tmp_name, writable_dir
from ..hashpool import file_type
from ..hfcache import (
    BLOBS,
    QUARANTINE_SUFFIX,
    REFS,
    SHA40,
    CacheRepo,
    etag_kind,
    incomplete_etag,
    link_etag,
    matches_patterns,
    project_ref_name,
    read_small,
    read_tree,
    ref_rel,
    snapshot_link_target,
    snapshot_rel,
)
from ..lockfile import Entry, Lockfile
from ..problems import (
    BAD_REF,
    CORRUPT,
    DANGLING,
    ERROR,
    GLOBAL,
    JOURNAL,
    LEFTOVER,
    LINK_FORM,
    MISSING_FILE,
    NOT_REGULAR,
    NOT_SYNCED,
    OUTSIDE,
    PROJECT_REF,
    QUARANTINED,
    SIZE,
    STALE_NO_EXIST,
    UNPROVEN,
    VIEW,
    WARNING,
    WRONG_BLOB,
    Finding,
)
from ..roots import check_usable, managed_roots, resolves_inside
from ..sync.diff import SyncOptions, entry_spec, fetch_command
from ..sync.manifest import RepoRecord, load_manifest
from ..viewguard import check_view_location
from .targets import global_not_regular, judge_hash, not_regular_detail, outside_detail

#: progress(total_bytes) -> a context manager yielding an on_bytes(n) callback (linker.progress.byte_progress).
ProgressFactory = Callable[[int], AbstractContextManager[Callable[[int], None]]]


@dataclass(frozen=True)
class PinnedFile:
    """One file an entry pins, with what is known of it (the lock knows both; a tree listing too)."""

    path: str
    etag: str | None = None
    size: int | None = None


@dataclass
class EntryCheck:
    repo: str
    type: str
    revision: str
    ref: str
    listing: str  # where the file list came from: lock | tree | view-tree | snapshot | none
    files: int = 0
    size: int = 0
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass
class VerifyReport:
    view: Path
    global_cache: Path
    full: bool
    entries: list[EntryCheck] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    hashed_files: int = 0
    hashed_bytes: int = 0
    elapsed: float = 0.0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "view": str(self.view),
            "global_cache": str(self.global_cache),
            "full": self.full,
            "entries": [{**asdict(e), "ok": e.ok} for e in self.entries],
            "problems": [f.to_json() for f in self.findings],
            "hashed": {"files": self.hashed_files, "bytes": self.hashed_bytes},
            "elapsed": round(self.elapsed, 3),
        }


# ---------------------------------------------------------------------------------------------------------------
# What an entry pins


def pinned_files(
    entry: Entry, g: CacheRepo, v: CacheRepo, record: RepoRecord | None = None
) -> tuple[dict[str, PinnedFile], str]:
    """The files an entry pins: the lock's `files`; else what the last complete sync of this very entry linked
    (`record`, from the view's manifest); else the global `trees/<sha>.json`, else the view's copy of it, else
    the union of the global and view snapshot listings (include/exclude applied to listings)."""
    if entry.files is not None:
        return {p: PinnedFile(p, f.hash, f.size) for p, f in entry.files.items()}, "lock"
    if record is not None and (files := _manifest_files(entry, record)):
        return files, "manifest"
    inc, exc = list(entry.include), list(entry.exclude)
    for repo, name in ((g, "tree"), (v, "view-tree")):
        tree = read_tree(repo.tree(entry.revision))
        if tree is not None:
            files = {p: PinnedFile(p, f.etag, f.size) for p, f in tree.items() if matches_patterns(p, inc, exc)}
            return files, name
    out: dict[str, PinnedFile] = {}
    for repo in (g, v):
        for p, _ in repo.snapshot_files(entry.revision):
            if p not in out and matches_patterns(p, inc, exc) and not is_tmp_name(p.rsplit("/", 1)[-1]):
                out[p] = PinnedFile(p)
    return out, ("snapshot" if out else "none")


def record_matches(entry: Entry, rec: RepoRecord | None, global_cache: Path) -> bool:
    """Whether the manifest record is of a complete sync of exactly this entry (revision, ref, patterns, locked
    files, global cache), in any link mode."""
    if rec is None or not rec.in_sync or not rec.proven or rec.revision != entry.revision:
        return False
    return any(entry_spec(entry, SyncOptions(global_cache, m)) == rec.spec for m in ("symlink", "hardlink", "copy"))


def _manifest_files(entry: Entry, rec: RepoRecord) -> dict[str, PinnedFile] | None:
    """The snapshot files the last sync linked (a record that `record_matches`), with the size each resolved to.
    Saves reading `trees/<sha>.json` on the fast path."""
    prefix = snapshot_rel(entry.revision) + "/"
    n = len(prefix)
    return {
        rel[n:]: PinnedFile(rel[n:], None, ident[2] if ident else None)
        for rel, ident in rec.paths.items()
        if rel.startswith(prefix)
    }


# ---------------------------------------------------------------------------------------------------------------
# The checks


@dataclass
class _Hashable:
    """One blob file to hash in --full, and every (entry, path) that resolves to it."""

    path: str
    etag: str
    size: int
    uses: list[tuple[Entry, str, str]] = field(default_factory=list)  # (entry, repo path, scope)


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
) -> VerifyReport:
    """Check the view (and the project's refs in the global cache) against the lock.

    `full` hashes every blob the view resolves to; `global_blobs` (repair) also hashes the global cache's
    blobs of the pinned files when they are other files than the view's (copy mode, or a view link that dangles).
    `leftovers` (default: `full`) also lists leftovers of interrupted runs and quarantined blobs (warnings).
    """
    start = time.perf_counter()
    view = lock.view
    check_usable(view, global_cache)
    check_view_location(view, [global_cache])
    report = VerifyReport(view, global_cache, full)
    ref_name = project_ref_name(view)
    to_hash: dict[tuple[int, int], _Hashable] = {}
    records = load_manifest(view).repos
    scan = full if leftovers is None else leftovers
    for entry in lock.select(ids):
        before = len(report.findings)
        rec = records.get(CacheRepo(view, entry.id, entry.type).folder)
        check = _check_entry(entry, view, global_cache, ref_name, report.findings, to_hash if full else None, rec, scan)
        if full and global_blobs:
            _collect_global_blobs(entry, global_cache, view, to_hash, report.findings)
        check.errors = sum(f.severity == ERROR for f in report.findings[before:])
        report.entries.append(check)
    report.findings.extend(_journal_findings(global_cache))
    if full:
        _hash_all(report, to_hash, progress, workers)
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
    to_hash: dict[tuple[int, int], _Hashable] | None,
    record: RepoRecord | None = None,
    leftovers: bool = False,
) -> EntryCheck:
    label, rev = entry.label, entry.revision
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(view, entry.id, entry.type)
    vpath = str(v.path)  # strings, not Paths, on the fast path: this runs for every file of every entry
    if not record_matches(entry, record, global_cache):
        record = None
    files, listing = pinned_files(entry, g, v, record)
    check = EntryCheck(label, entry.type, rev, entry.ref, listing, files=len(files))

    def add(kind: str, path: str, detail: str, **kw: Any) -> None:
        kw.setdefault("fix", "linker repair")
        out.append(Finding(kind, label, path, detail, revision=rev, **kw))

    if not os.path.isdir(vpath):
        where = "" if listing != "none" else f" (and revision {rev[:12]} is not in the global cache)"
        fix = "linker sync" if listing != "none" else f"{fetch_command(entry)}, then linker sync"
        add(NOT_SYNCED, "", f"not in the view {view}{where}", fix=fix, where=vpath)
        return check
    if listing == "none":
        add(
            MISSING_FILE,
            "",
            f"revision {rev[:12]} is in neither the view nor the global cache",
            fix=f"{fetch_command(entry)}, then linker sync",
        )
    elif listing == "snapshot":
        add(
            UNPROVEN,
            "",
            "completeness unproven: no `files` in the lock and no trees/ listing, so the file list is whatever the "
            "snapshot folders hold (a file missing from both goes unnoticed)",
            severity=WARNING,
            fix=f"linker lock {entry.id} (records the commit's file list)",
        )

    # 1. refs/<ref> in the view holds exactly the pin
    ref_path = f"{vpath}/{ref_rel(entry.ref)}"
    raw = read_small(ref_path)
    if raw != rev:
        add(BAD_REF, ref_rel(entry.ref), _ref_problem(raw, rev), where=ref_path)

    # 2. every pinned file: present, resolving, the locked blob, the locked size, a hub-style relative link
    dangling = False
    snap = f"{vpath}/{snapshot_rel(rev)}/"
    stat, readlink = os.stat, os.readlink
    prefixes = ["../../blobs/", "../../../blobs/"]
    for path, pf in files.items():
        p = snap + path
        try:
            st = stat(p)
        except OSError:
            dangling |= _missing_or_dangling(entry, v, global_cache, path, pf, add)
            continue
        if not S_ISREG(st.st_mode):  # a device or a FIFO: never hashed, never moved
            add(NOT_REGULAR, path, not_regular_detail(p, file_type(st.st_mode)), where=p, etag=pf.etag or "")
            continue
        outside = False
        if pf.size is not None and st.st_size != pf.size:
            real = os.path.realpath(p)
            why = f"is {st.st_size} bytes, the lock says {pf.size}"
            if resolves_inside(real, managed_roots(view, global_cache)):
                add(SIZE, path, why, where=real, etag=pf.etag or "")
            else:
                add(OUTSIDE, path, outside_detail(real, why), where=p, etag=pf.etag or "")
                outside = True
        check.size += st.st_size
        try:
            target = readlink(p)
        except OSError:
            target = None
        depth = path.count("/")
        while depth >= len(prefixes):
            prefixes.append("../" + prefixes[-1])
        prefix = prefixes[depth]
        etag = pf.etag
        if (
            target is not None
            and target.startswith(prefix)
            and (
                etag_kind(target[len(prefix) :])
                if etag is None
                else len(target) == len(prefix) + len(etag) and target.endswith(etag)
            )
        ):
            etag = etag or target[len(prefix) :]  # the common case: exactly the link huggingface_hub writes
        else:
            etag = _odd_link(path, p, target, etag, add)
        if to_hash is not None and etag and etag_kind(etag) and not outside:
            item = to_hash.setdefault((st.st_dev, st.st_ino), _Hashable(p, etag, st.st_size))
            item.uses.append((entry, path, VIEW))

    # 3. hub-0.13 style links in the global snapshot (absolute or CWD-relative): checked with --full, and when a
    #    view link dangles (they are what breaks when a cache moves)
    if to_hash is not None or dangling:
        for path, pf in files.items():
            gp = g.snapshot_file(rev, path)
            try:
                target = os.readlink(gp)
            except OSError:
                continue
            etag = pf.etag or link_etag(target)
            if etag and link_etag(target) == etag and target != snapshot_link_target(path, etag):
                add(
                    LINK_FORM,
                    path,
                    f"global snapshot link is {target!r} (old huggingface_hub): it breaks when the cache moves",
                    scope=GLOBAL,
                    where=str(gp),
                    etag=etag,
                )

    # 4. stale .no_exist markers (view and global) for files that exist
    for repo, scope in ((v, VIEW), (g, GLOBAL)):
        base = str(repo.no_exist(rev))
        for rel in _names(base, True):
            if rel in files or os.path.lexists(repo.snapshot_file(rev, rel)):
                add(
                    STALE_NO_EXIST,
                    rel,
                    f"a `.no_exist` marker in the {scope} hides this file from try_to_load_from_cache and transformers",
                    scope=scope,
                    where=f"{base}/{rel}",
                )

    # 5. the project's ref in the global cache protects the pin from `hf cache prune`
    gref = g.ref(ref_name)
    graw = read_small(str(gref))
    if graw != rev:
        if writable_dir(gref.parent):
            add(
                PROJECT_REF,
                ref_rel(ref_name),
                _ref_problem(graw, rev) + "; `hf cache prune` may delete the pin",
                scope=GLOBAL,
                where=str(gref),
            )
        else:
            add(
                PROJECT_REF,
                ref_rel(ref_name),
                "the global cache is read-only, so the pin has no project ref there",
                scope=GLOBAL,
                severity=WARNING,
                fix="",
                where=str(gref),
            )

    # 6. (--full, repair) leftovers of interrupted runs, and blobs repair quarantined
    if leftovers:
        _leftovers(label, rev, v, g, add)
    return check


def _odd_link(path: str, p: str, target: str | None, etag: str | None, add: Callable[..., None]) -> str | None:
    """A snapshot entry that is not exactly `../../blobs/<etag>`: say what it is; return the blob it names."""
    if target is None:
        add(
            LINK_FORM,
            path,
            "is a real file, not a link linker made: it loads, but linker does not manage it",
            severity=WARNING,
            fix="",
            where=p,
        )
        return etag
    named = link_etag(target)
    etag = etag or named
    if etag is None:
        add(LINK_FORM, path, f"link is {target!r}, not a link to a blob", where=p)
    elif named == etag:
        add(LINK_FORM, path, f"link is {target!r}, not the relative link huggingface_hub writes", where=p, etag=etag)
    else:
        add(
            WRONG_BLOB,
            path,
            f"links to blob {(named or target)[:16]}, the lock says {etag[:16]}",
            where=p,
            etag=etag,
        )
    return etag


def _ref_problem(raw: str | None, rev: str) -> str:
    if raw is None:
        return "missing"
    if raw.strip() == rev:
        return "has whitespace or a trailing newline (huggingface_hub then misses it)"
    shown = raw.strip()[:40] if SHA40.fullmatch(raw.strip()) else repr(raw[:50])
    return f"holds {shown}, the pin is {rev}"


def _missing_or_dangling(
    entry: Entry, v: CacheRepo, global_cache: Path, path: str, pf: PinnedFile, add: Callable[..., None]
) -> bool:
    """A pinned file that does not resolve in the view: say which hop is broken. True for a dangling link."""
    p = v.snapshot_file(entry.revision, path)
    g = CacheRepo(global_cache, entry.id, entry.type)
    try:
        target = os.readlink(p)
    except OSError:
        fix = {} if _in_global(g, entry.revision, path, pf.etag) else {"fix": _fetch_fix(entry)}
        add(
            MISSING_FILE,
            path,
            "is not in the view" + (" (nor in the global cache)" if fix else ""),
            where=str(p),
            etag=pf.etag or "",
            **fix,
        )
        return False
    etag = pf.etag or link_etag(target) or ""
    blob = v.blob(link_etag(target) or etag) if (link_etag(target) or etag) else None
    if blob is not None and os.path.islink(blob) and target == snapshot_link_target(path, blob.name):
        detail = f"dangles: blobs/{blob.name[:16]}… -> {os.readlink(blob)} is gone (the global cache moved, or "
        detail += "`hf cache rm`/`prune` removed it)"
    elif blob is not None and not os.path.lexists(blob):
        detail = f"dangles: the view has no blobs/{blob.name[:16]}…"
    else:
        detail = f"dangles: {target} does not resolve"
    fix = {} if _in_global(g, entry.revision, path, etag) else {"fix": _fetch_fix(entry)}
    if fix:
        detail += f"; {g.folder} in the global cache has no copy either"
    add(DANGLING, path, detail, where=str(p), etag=etag, **fix)
    return True


def _in_global(g: CacheRepo, rev: str, path: str, etag: str | None) -> bool:
    return os.path.exists(g.snapshot_file(rev, path)) or bool(etag and os.path.exists(g.blob(etag)))


def _fetch_fix(entry: Entry) -> str:
    return f"linker repair (downloads it when online), or {fetch_command(entry)}"


def _leftovers(label: str, rev: str, v: CacheRepo, g: CacheRepo, add: Callable[..., None]) -> None:
    for repo, scope in ((v, VIEW), (g, GLOBAL)):
        base = str(repo.path)
        for sub in (BLOBS, REFS, snapshot_rel(rev)):
            for rel in _names(os.path.join(base, sub), sub != BLOBS):
                name = rel.rpartition("/")[2]
                if not ("." in name and (name.endswith((QUARANTINE_SUFFIX, ".incomplete")) or is_tmp_name(name))):
                    continue  # the common case: a plain name, decided without building a path
                p = os.path.join(base, sub, rel)
                if name.endswith(QUARANTINE_SUFFIX):
                    add(
                        QUARANTINED,
                        f"{sub}/{rel}",
                        f"moved aside by `linker repair` (corrupt) or `sync --force` ({scope}); delete it when done",
                        scope=scope,
                        severity=WARNING,
                        fix=f"rm {p}",
                        where=p,
                    )
                elif is_tmp_name(name) or (sub == "blobs" and incomplete_etag(name)):
                    what = "an interrupted download" if name.endswith(".incomplete") else "an interrupted linker run"
                    add(LEFTOVER, f"{sub}/{rel}", f"left by {what} ({scope})", scope=scope, severity=WARNING, where=p)


def _names(base: str, recurse: bool, prefix: str = "") -> list[str]:
    """Relative names of the files and links under `base` (never following a linked directory)."""
    out: list[str] = []
    try:
        with os.scandir(base) as it:
            for e in it:
                if recurse and e.is_dir(follow_symlinks=False):
                    out.extend(_names(e.path, True, prefix + e.name + "/"))
                elif not e.is_dir(follow_symlinks=False):
                    out.append(prefix + e.name)
    except OSError:
        pass
    return out


def _journal_findings(global_cache: Path) -> list[Finding]:
    """Interrupted `linker migrate` runs, when the migrate package can list them without acting."""
    from .. import hfcache

    journal_dir = getattr(hfcache, "migrate_journal_dir", None)
    if journal_dir is not None and not os.path.isdir(journal_dir(global_cache)):
        return []  # the common case costs one stat, not an import of the migrate package
    try:
        from ..migrate import journal  # type: ignore[attr-defined]
    except ImportError:
        return []
    pending = getattr(journal, "pending", None)
    if not callable(pending):
        return []
    try:
        names = list(pending(global_cache))
    except Exception:  # the journal module's own trouble must not break verify
        return []
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


def _collect_global_blobs(
    entry: Entry, global_cache: Path, view: Path, to_hash: dict[tuple[int, int], _Hashable], out: list[Finding]
) -> None:
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(view, entry.id, entry.type)
    files, _ = pinned_files(entry, g, v)
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
        item = to_hash.setdefault((st.st_dev, st.st_ino), _Hashable(str(g.blob(etag)), etag, st.st_size))
        item.uses.append((entry, path, GLOBAL))


def _hash_all(
    report: VerifyReport,
    to_hash: dict[tuple[int, int], _Hashable],
    progress: ProgressFactory | None,
    workers: int | None,
) -> None:
    from ..hashpool import hash_many

    items = list(to_hash.values())
    total = sum(i.size for i in items)
    cm = progress(total) if progress else contextlib.nullcontext(None)
    with cm as on_bytes:
        results = hash_many(
            ((n, i.path, etag_kind(i.etag) or "sha256") for n, i in enumerate(items)),
            workers=workers,
            on_bytes=on_bytes,
        )
    report.hashed_files = len(items)
    report.hashed_bytes = total
    roots = managed_roots(report.view, report.global_cache)
    for n, item in enumerate(items):
        judged = judge_hash(item.path, item.etag, results[n], roots)
        if judged is None:
            continue
        kind, where, detail = judged
        scope = VIEW if Path(where).is_relative_to(roots[0]) else GLOBAL
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
