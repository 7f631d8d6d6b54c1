"""The checks of one lock entry (reads only): each step returns the findings it made.

Steps, in report order: the pin's listing, the view's ref, every pinned file (present, resolving, the locked blob
and size, the link huggingface_hub writes), hub-0.13 links in the global snapshot, stale `.no_exist` markers,
the project's ref in the global cache and, on request, leftovers of interrupted runs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
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
    read_small,
    ref_rel,
    snapshot_link_target,
    snapshot_rel,
    view_ref_names,
)
from ..hub.commands import fetch_command
from ..lockfile import Entry
from ..pins import PinnedFile, Pins
from ..problems import (
    BAD_REF,
    DANGLING,
    GLOBAL,
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
    FindingKind,
)
from ..roots import Roots, resolves_inside
from .targets import not_regular_detail, outside_detail


@dataclass
class Hashable:
    """One blob file to hash in --full, and every (entry, path) that resolves to it."""

    path: str
    etag: str
    size: int
    uses: list[tuple[Entry, str, str]] = field(default_factory=list)  # (entry, repo path, scope)


#: (st_dev, st_ino) -> the blob file to hash; None when not hashing
ToHash = dict[tuple[int, int], Hashable]


def finding(entry: Entry, kind: FindingKind, path: str, detail: str, **kw: Any) -> Finding:
    """A finding about `entry`, fixed by `linker repair` unless `fix` says otherwise."""
    kw.setdefault("fix", "linker repair")
    return Finding(kind, entry.label, path, detail, revision=entry.revision, **kw)


def check_listing(entry: Entry, view: Path, vpath: str, pins: Pins) -> tuple[list[Finding], bool]:
    """What the listing says of the entry: (findings, whether the view has the entry's folder at all)."""
    rev, listing = entry.revision, pins.listing
    if not os.path.isdir(vpath):
        where = "" if listing != "none" else f" (and revision {rev[:12]} is not in the global cache)"
        fix = "linker sync" if listing != "none" else f"{fetch_command(entry)}, then linker sync"
        return [finding(entry, NOT_SYNCED, "", f"not in the view {view}{where}", fix=fix, where=vpath)], False
    if listing == "none":
        detail = f"revision {rev[:12]} is in neither the view nor the global cache"
        return [finding(entry, MISSING_FILE, "", detail, fix=f"{fetch_command(entry)}, then linker sync")], True
    if listing == "snapshot":
        detail = (
            "completeness unproven: no `files` in the lock and no trees/ listing, so the file list is whatever the "
            "snapshot folders hold (a file missing from both goes unnoticed)"
        )
        fix = f"linker lock {entry.id} (records the commit's file list)"
        return [finding(entry, UNPROVEN, "", detail, severity=WARNING, fix=fix)], True
    return [], True


def check_view_ref(entry: Entry, vpath: str) -> list[Finding]:
    """refs/main (what a load without `revision=` reads) and refs/<ref> in the view hold exactly the pin."""
    out = []
    for name in view_ref_names(entry.ref):
        ref_path = f"{vpath}/{ref_rel(name)}"
        raw = read_small(ref_path)
        if raw != entry.revision:
            out.append(finding(entry, BAD_REF, ref_rel(name), ref_problem(raw, entry.revision), where=ref_path))
    return out


@dataclass
class FileScan:
    """What the pass over the pinned files of the view found."""

    findings: list[Finding] = field(default_factory=list)
    size: int = 0  # bytes the view's pinned files resolve to
    dangling: bool = False  # some view link dangles


def check_files(
    entry: Entry, v: CacheRepo, g: CacheRepo, files: dict[str, PinnedFile], roots: Roots, to_hash: ToHash | None
) -> FileScan:
    """Every pinned file: present, resolving, the locked blob, the locked size, a hub-style relative link. With
    `to_hash`, collect the blob each one resolves to (for --full). About two syscalls per file."""
    scan = FileScan()
    out = scan.findings
    snap = f"{v.path}/{snapshot_rel(entry.revision)}/"
    stat, readlink = os.stat, os.readlink
    prefixes = [f"../../{BLOBS}/", f"../../../{BLOBS}/"]
    for path, pf in files.items():
        p = snap + path
        try:
            st = stat(p)
        except OSError:
            missing = missing_or_dangling(entry, v, g, path, pf)
            scan.dangling |= missing.kind == DANGLING
            out.append(missing)
            continue
        if not S_ISREG(st.st_mode):  # a device or a FIFO: never hashed, never moved
            detail = not_regular_detail(p, file_type(st.st_mode))
            out.append(finding(entry, NOT_REGULAR, path, detail, where=p, etag=pf.etag or ""))
            continue
        outside = False
        if pf.size is not None and st.st_size != pf.size:
            real = os.path.realpath(p)
            why = f"is {st.st_size} bytes, the lock says {pf.size}"
            if resolves_inside(real, roots):
                out.append(finding(entry, SIZE, path, why, where=real, etag=pf.etag or ""))
            else:
                out.append(finding(entry, OUTSIDE, path, outside_detail(real, why), where=p, etag=pf.etag or ""))
                outside = True
        scan.size += st.st_size
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
            etag, odd = odd_link(entry, path, p, target, etag)
            out.append(odd)
        if to_hash is not None and etag and etag_kind(etag) and not outside:
            item = to_hash.setdefault((st.st_dev, st.st_ino), Hashable(p, etag, st.st_size))
            item.uses.append((entry, path, VIEW))
    return scan


def check_global_links(entry: Entry, g: CacheRepo, files: dict[str, PinnedFile]) -> list[Finding]:
    """hub-0.13 style links in the global snapshot (absolute or CWD-relative): they break when a cache moves."""
    out = []
    for path, pf in files.items():
        gp = g.snapshot_file(entry.revision, path)
        try:
            target = os.readlink(gp)
        except OSError:
            continue
        etag = pf.etag or link_etag(target)
        if etag and link_etag(target) == etag and target != snapshot_link_target(path, etag):
            detail = f"global snapshot link is {target!r} (old huggingface_hub): it breaks when the cache moves"
            out.append(finding(entry, LINK_FORM, path, detail, scope=GLOBAL, where=str(gp), etag=etag))
    return out


def check_no_exist(entry: Entry, v: CacheRepo, g: CacheRepo, files: dict[str, PinnedFile]) -> list[Finding]:
    """Stale `.no_exist` markers (view and global) for files that exist."""
    out = []
    rev = entry.revision
    for repo, scope in ((v, VIEW), (g, GLOBAL)):
        base = str(repo.no_exist(rev))
        for rel in names(base, True):
            if rel in files or os.path.lexists(repo.snapshot_file(rev, rel)):
                detail = (
                    f"a `.no_exist` marker in the {scope} hides this file from try_to_load_from_cache and transformers"
                )
                out.append(finding(entry, STALE_NO_EXIST, rel, detail, scope=scope, where=f"{base}/{rel}"))
    return out


def check_project_ref(entry: Entry, g: CacheRepo, ref_name: str) -> list[Finding]:
    """The project's ref in the global cache protects the pin from `hf cache prune`."""
    gref = g.ref(ref_name)
    graw = read_small(str(gref))
    if graw == entry.revision:
        return []
    where, rel = str(gref), ref_rel(ref_name)
    if writable_dir(gref.parent):
        detail = ref_problem(graw, entry.revision) + "; `hf cache prune` may delete the pin"
        return [finding(entry, PROJECT_REF, rel, detail, scope=GLOBAL, where=where)]
    detail = "the global cache is read-only, so the pin has no project ref there"
    return [finding(entry, PROJECT_REF, rel, detail, scope=GLOBAL, severity=WARNING, fix="", where=where)]


def odd_link(entry: Entry, path: str, p: str, target: str | None, etag: str | None) -> tuple[str | None, Finding]:
    """A snapshot entry that is not exactly `../../blobs/<etag>`: the blob it names, and what it is."""
    if target is None:
        detail = "is a real file, not a link linker made: it loads, but linker does not manage it"
        return etag, finding(entry, LINK_FORM, path, detail, severity=WARNING, fix="", where=p)
    named = link_etag(target)
    etag = etag or named
    if etag is None:
        return etag, finding(entry, LINK_FORM, path, f"link is {target!r}, not a link to a blob", where=p)
    if named == etag:
        detail = f"link is {target!r}, not the relative link huggingface_hub writes"
        return etag, finding(entry, LINK_FORM, path, detail, where=p, etag=etag)
    detail = f"links to blob {(named or target)[:16]}, the lock says {etag[:16]}"
    return etag, finding(entry, WRONG_BLOB, path, detail, where=p, etag=etag)


def ref_problem(raw: str | None, rev: str) -> str:
    if raw is None:
        return "missing"
    if raw.strip() == rev:
        return "has whitespace or a trailing newline (huggingface_hub then misses it)"
    shown = raw.strip()[:40] if SHA40.fullmatch(raw.strip()) else repr(raw[:50])
    return f"holds {shown}, the pin is {rev}"


def missing_or_dangling(entry: Entry, v: CacheRepo, g: CacheRepo, path: str, pf: PinnedFile) -> Finding:
    """A pinned file that does not resolve in the view: say which hop is broken (`DANGLING` for a link)."""
    p = v.snapshot_file(entry.revision, path)
    try:
        target = os.readlink(p)
    except OSError:
        fix = {} if _in_global(g, entry.revision, path, pf.etag) else {"fix": _fetch_fix(entry)}
        detail = "is not in the view" + (" (nor in the global cache)" if fix else "")
        return finding(entry, MISSING_FILE, path, detail, where=str(p), etag=pf.etag or "", **fix)
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
    return finding(entry, DANGLING, path, detail, where=str(p), etag=etag, **fix)


def _in_global(g: CacheRepo, rev: str, path: str, etag: str | None) -> bool:
    return os.path.exists(g.snapshot_file(rev, path)) or bool(etag and os.path.exists(g.blob(etag)))


def _fetch_fix(entry: Entry) -> str:
    return f"linker repair (downloads it when online), or {fetch_command(entry)}"


def check_leftovers(entry: Entry, v: CacheRepo, g: CacheRepo) -> list[Finding]:
    """Leftovers of interrupted runs, and blobs repair (or `sync --force`) quarantined: warnings."""
    out = []
    for repo, scope in ((v, VIEW), (g, GLOBAL)):
        base = str(repo.path)
        for sub in (BLOBS, REFS, snapshot_rel(entry.revision)):
            for rel in names(os.path.join(base, sub), sub != BLOBS):
                name = rel.rpartition("/")[2]
                if not ("." in name and (name.endswith((QUARANTINE_SUFFIX, ".incomplete")) or is_tmp_name(name))):
                    continue  # the common case: a plain name, decided without building a path
                p = os.path.join(base, sub, rel)
                if name.endswith(QUARANTINE_SUFFIX):
                    detail = (
                        f"moved aside by `linker repair` (corrupt) or `sync --force` ({scope}); delete it when done"
                    )
                    kw: dict[str, Any] = {"fix": f"rm {p}"}
                    out.append(
                        finding(
                            entry, QUARANTINED, f"{sub}/{rel}", detail, scope=scope, severity=WARNING, where=p, **kw
                        )
                    )
                elif is_tmp_name(name) or (sub == BLOBS and incomplete_etag(name)):
                    what = "an interrupted download" if name.endswith(".incomplete") else "an interrupted linker run"
                    detail = f"left by {what} ({scope})"
                    out.append(finding(entry, LEFTOVER, f"{sub}/{rel}", detail, scope=scope, severity=WARNING, where=p))
    return out


def names(base: str, recurse: bool, prefix: str = "") -> list[str]:
    """Relative names of the files and links under `base` (never following a linked directory)."""
    out: list[str] = []
    try:
        with os.scandir(base) as it:
            for e in it:
                if recurse and e.is_dir(follow_symlinks=False):
                    out.extend(names(e.path, True, prefix + e.name + "/"))
                elif not e.is_dir(follow_symlinks=False):
                    out.append(prefix + e.name)
    except OSError:
        pass
    return out
