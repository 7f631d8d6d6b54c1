"""Plan a repair: verify's findings + the disk -> a list of fixes (plain data), and what cannot be fixed, and why.

The planner reads only (it hashes candidate copies of a blob before trusting them). The order of the fixes is
the order the executor (linker/repair/apply.py) applies them:

1. finish or roll back interrupted `linker migrate` runs;
2. remove stale `.no_exist` markers and leftovers of interrupted runs;
3. quarantine corrupt blobs (moved aside, never deleted) inside the caches; a link that leads to a device, a
   FIFO or a wrong file outside the caches is replaced (steps 4-7) and what it points at is left alone;
4. restore missing or quarantined global blobs from a verified copy the machine already has (another repo of the
   global cache, the shared blob store, the view's own hardlinks or copies): content-addressed by etag;
5. rewrite global snapshot links that are missing, absolute or CWD-relative (hub 0.13) as relative links;
6. fetch from the Hub what no local copy can restore (online only);
7. relink the view, as `linker sync` does (refs, project refs, blob and snapshot links).
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path

from ..fsutil import file_id
from ..hfcache import (
    BLOBS,
    CacheRepo,
    blob_matches,
    incomplete_etag,
    link_etag,
    quarantine_path,
    snapshot_link_target,
    tmp_etag,
)
from ..hub.commands import fetch_command
from ..lockfile import Entry, Lockfile
from ..pins import pinned_files
from ..problems import (
    BAD_REF,
    CORRUPT,
    DANGLING,
    GLOBAL,
    JOURNAL,
    LEFTOVER,
    LINK_FORM,
    MISSING,
    MISSING_FILE,
    NOT_REGULAR,
    NOT_SYNCED,
    OUTSIDE,
    PROJECT_REF,
    SIZE,
    STALE_NO_EXIST,
    VIEW,
    WARNING,
    WRONG_BLOB,
    Finding,
)
from ..roots import managed_roots, resolves_inside
from ..verify.local import ProgressFactory, verify
from .fixes import (
    DROP_LINK,
    DROP_NAME,
    FETCH,
    GLOBAL_LINK,
    QUARANTINE,
    RECOVER,
    RELINK,
    REMOVE_LEFTOVER,
    REMOVE_MARKER,
    RESTORE,
    Fix,
    RepairPlan,
)
from .sources import local_copies, same_device
from .tierlinks import TierSources, plan_tier_links

#: view findings the final relink (sync) fixes
VIEW_KINDS = {NOT_SYNCED, MISSING_FILE, DANGLING, WRONG_BLOB, LINK_FORM, BAD_REF, PROJECT_REF, SIZE, CORRUPT}
VIEW_KINDS |= {NOT_REGULAR, OUTSIDE}
#: leftovers in the global cache other than blob temp files are removed only when this old (another process may
#: be about to rename them)
LEFTOVER_MIN_AGE = 600.0


def utc_stamp() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def plan_repair(
    lock: Lockfile,
    global_cache: Path,
    *,
    online: bool,
    hash_blobs: bool = True,
    progress: ProgressFactory | None = None,
    workers: int | None = None,
    tiers: Sequence[Path] = (),
    link_mode: str = "symlink",
) -> RepairPlan:
    """`tiers`: the usable shared read-only caches, consulted first for a blob the view lacks (symlink views
    only); they are link targets, never changed."""
    report = verify(
        lock,
        global_cache,
        full=hash_blobs,
        global_blobs=True,
        leftovers=True,
        progress=progress,
        workers=workers,
        tiers=tiers,
    )
    plan = RepairPlan(lock.view, global_cache, before=report, online=online)
    stamp = utc_stamp()
    findings = report.findings
    by_label = {e.label: e for e in lock.entries}

    # 1. interrupted migrate runs (listed when the migrate package can list them; always attempted on apply)
    for f in findings:
        if f.kind == JOURNAL:
            plan.fixes.append(Fix(RECOVER, "", "", f.where, reason="interrupted migrate", finding=JOURNAL))

    # 2. stale markers and leftovers
    for f in findings:
        if f.kind == STALE_NO_EXIST:
            plan.fixes.append(Fix(REMOVE_MARKER, f.repo, "", f.where, finding=f.kind, reason=f.scope))
        elif f.kind == LEFTOVER:
            _plan_leftover(plan, f, by_label.get(f.repo))

    # 3. corrupt blobs: every name of the bad file (global blob, the view's hardlink or copy) is moved aside
    bad: set[tuple[int, int]] = set()
    corrupt = [f for f in findings if f.kind == CORRUPT or (f.kind == SIZE and not hash_blobs)]
    quarantined: set[tuple[int, int]] = set()
    for f in corrupt:
        entry = by_label.get(f.repo)
        ident = file_id(f.where)
        if entry is None or ident is None or not f.etag:
            continue
        bad.add(ident)
        if ident in quarantined:
            continue
        quarantined.add(ident)
        _plan_quarantine(plan, entry, f, ident, global_cache, stamp)
    # ...and what a link leads to outside the caches, or a device or a FIFO: never opened, never moved; the links
    # to it are replaced below from a verified copy (or a fetch)
    for f in findings:
        if f.kind in (NOT_REGULAR, OUTSIDE) and (ident := file_id(f.where)) is not None:
            bad.add(ident)

    # 4. (shared tiers first) a broken view link whose blob a tier holds is relinked into the tier
    sources = TierSources(tiers, bad, hash_blobs) if tiers and link_mode == "symlink" else None
    handled = plan_tier_links(plan, lock, findings, sources) if sources is not None else set()

    # 4-6. every pinned file's blob and snapshot link in the global cache (what a tier holds is not fetched)
    fetch: dict[str, list[str] | None] = {}
    restored: dict[str, Fix | None] = {}  # etag -> the restore fix (None: no verified copy here)
    for entry in lock.entries:
        _plan_global_entry(plan, entry, global_cache, bad, restored, fetch, sources)
    for label, paths in fetch.items():
        entry = by_label[label]
        if online:
            plan.fixes.append(
                Fix(FETCH, label, "", "", paths=tuple(paths or ()), revision=entry.revision, finding=MISSING)
            )
        else:
            shown = ", ".join(sorted(paths)[:3]) + ("…" if paths and len(paths) > 3 else "") if paths else ""
            cmd = fetch_command(entry, paths or ())
            plan.problems.append(
                Finding(
                    MISSING,
                    label,
                    shown,
                    "no copy of "
                    + (f"{len(paths)} file(s)" if paths else f"revision {entry.revision[:12]}")
                    + " is left on this machine, and repair is offline",
                    fix=f"{cmd} (online), then linker repair",
                    scope=GLOBAL,
                    revision=entry.revision,
                )
            )

    # 7. the view: one relink (a sync) fixes refs, project refs, and every blob and snapshot link
    for f in findings:
        if (f.repo, f.path) in handled:
            continue
        if f.kind in VIEW_KINDS and (f.scope == VIEW or f.kind == PROJECT_REF) and f.severity != WARNING:
            what = f.path or "the entry"
            plan.fixes.append(Fix(RELINK, f.repo, "", f.where, target=what, reason=f.kind, finding=f.kind))
    if any(x.kind in (RESTORE, FETCH, GLOBAL_LINK, QUARANTINE) for x in plan.fixes) and not any(
        x.kind == RELINK for x in plan.fixes
    ):
        plan.fixes.append(Fix(RELINK, "", "", str(lock.view), target="the view", reason="after the global fixes"))
    for f in findings:
        if f.kind == PROJECT_REF and f.severity == WARNING:
            plan.notices.append(f"note: {f.repo}: {f.detail}")
    return plan


def _plan_leftover(plan: RepairPlan, f: Finding, entry: Entry | None) -> None:
    name = os.path.basename(f.where)
    etag = incomplete_etag(name) or tmp_etag(name)
    lock = ""
    if f.scope == GLOBAL:
        if etag and entry is not None and os.path.basename(os.path.dirname(f.where)) == BLOBS:
            lock = str(CacheRepo(plan.global_cache, entry.id, entry.type).lock_path(etag))
        else:
            try:
                age = time.time() - os.lstat(f.where).st_mtime
            except OSError:
                return
            if age < LEFTOVER_MIN_AGE:
                plan.notices.append(f"note: kept {f.where}: it is recent, another process may be using it")
                return
    plan.fixes.append(Fix(REMOVE_LEFTOVER, f.repo, "", f.where, lock=lock, etag=etag or "", finding=LEFTOVER))


def _plan_quarantine(
    plan: RepairPlan, entry: Entry, f: Finding, ident: tuple[int, int], global_cache: Path, stamp: str
) -> None:
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(plan.view, entry.id, entry.type)
    names: list[tuple[str, CacheRepo]] = []
    for repo, path in ((g, os.path.realpath(g.blob(f.etag))), (v, str(v.blob(f.etag)))):
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) == ident and path not in (n for n, _ in names):
            names.append((path, repo))
    if not names:  # the file is elsewhere (the view resolves through an unexpected link): move it by its own name
        names.append((f.where, g if f.scope == GLOBAL else v))
    roots = managed_roots(plan.view, global_cache)
    names = [(n, r) for n, r in names if resolves_inside(n, roots)]
    if not names:  # outside the caches: left alone; the links to it are replaced (it is in `bad`)
        return
    first, repo = names[0]
    dest = quarantine_path(repo.path, f.etag, stamp)
    lock = str(g.lock_path(f.etag)) if repo is g else ""
    plan.fixes.append(
        Fix(QUARANTINE, f.repo, repo.folder, first, target=str(dest), etag=f.etag, lock=lock, finding=CORRUPT)
    )
    for other, orepo in names[1:]:
        plan.fixes.append(Fix(DROP_NAME, f.repo, orepo.folder, other, target=first, etag=f.etag, finding=CORRUPT))


def _plan_global_entry(
    plan: RepairPlan,
    entry: Entry,
    global_cache: Path,
    bad: set[tuple[int, int]],
    restored: dict[str, Fix | None],
    fetch: dict[str, list[str] | None],
    sources: TierSources | None = None,
) -> None:
    """Make sure the global cache holds every pinned file of `entry`: blob present and sound, relative link;
    except a file it lacks that a shared tier holds (`sources`): the view links into the tier instead."""
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(plan.view, entry.id, entry.type)
    rev = entry.revision
    pins = pinned_files(entry, g, v)
    files = pins.files
    if pins.listing == "none":
        fetch[entry.label] = None
        return
    for path, pf in files.items():
        etag = pf.etag or g.blob_of(rev, path) or v.blob_of(rev, path)
        gp = g.snapshot_file(rev, path)
        if etag is None:
            if not os.path.exists(gp) and not os.path.exists(v.snapshot_file(rev, path)):
                _want_fetch(fetch, entry.label, path)
            continue
        if os.path.lexists(gp) and not os.path.islink(gp):
            continue  # a cache written without symlinks: the snapshot file is the data; never touch it
        gblob = g.blob(etag)
        try:
            gst: os.stat_result | None = os.stat(gblob)
        except OSError:
            gst = None
        if (
            gst is None
            or (gst.st_dev, gst.st_ino) in bad
            or not stat.S_ISREG(gst.st_mode)
            or (pf.size is not None and gst.st_size != pf.size)
        ):
            if sources is not None and sources.find(entry, etag, pf.size) is not None:
                continue  # served by a shared tier: nothing to restore or fetch into the writable cache
            if etag not in restored:
                restored[etag] = _plan_restore(plan, entry, g, v, etag, pf.size, bad)
                if restored[etag] is None and gst is not None and plan.online and os.path.islink(gblob):
                    _plan_drop_link(plan, entry.label, g, etag)
            if restored[etag] is None:
                _want_fetch(fetch, entry.label, path)
                continue
        want = snapshot_link_target(path, etag)
        try:
            current = os.readlink(gp)
        except OSError:
            current = None
        if current == want:
            continue
        if current is not None and link_etag(current) not in (None, etag):
            continue  # the global snapshot says another blob than the lock: sync reports it (`linker lock`)
        reason = (
            "missing"
            if current is None
            else (
                "hub 0.13 absolute link" if os.path.isabs(current) else "not the relative link huggingface_hub writes"
            )
        )
        plan.fixes.append(
            Fix(
                GLOBAL_LINK,
                entry.label,
                g.folder,
                str(gp),
                target=want,
                etag=etag,
                reason=reason,
                lock=str(g.lock_path(etag)),
                finding=LINK_FORM,
            )
        )


def _plan_drop_link(plan: RepairPlan, label: str, g: CacheRepo, etag: str) -> None:
    """Before a fetch: huggingface_hub takes an existing blob link for the blob, so the bad link goes first."""
    link = g.blob(etag)
    reason = "it leads to a bad copy"
    plan.fixes.append(
        Fix(
            DROP_LINK,
            label,
            g.folder,
            str(link),
            target=os.readlink(link),
            etag=etag,
            reason=reason,
            lock=str(g.lock_path(etag)),
            finding=OUTSIDE,
        )
    )


def _want_fetch(fetch: dict[str, list[str] | None], label: str, path: str) -> None:
    if label in fetch and fetch[label] is None:
        return
    fetch.setdefault(label, []).append(path)  # type: ignore[union-attr]


def _plan_restore(
    plan: RepairPlan,
    entry: Entry,
    g: CacheRepo,
    v: CacheRepo,
    etag: str,
    size: int | None,
    bad: set[tuple[int, int]],
) -> Fix | None:
    """A restore of `g/blobs/<etag>` from the first local copy whose content hashes to `etag`, or None."""
    target = g.blob(etag)
    roots = managed_roots(plan.view, plan.global_cache)
    for source in local_copies(plan.global_cache, v, etag, roots):
        ident = file_id(source)
        if ident is None or ident in bad:
            continue
        try:
            if size is not None and os.stat(source).st_size != size:
                continue
        except OSError:
            continue
        if not blob_matches(source, etag):
            bad.add(ident)
            continue
        mode = "hardlink" if same_device(source, target) else "copy"
        fix = Fix(
            RESTORE,
            entry.label,
            g.folder,
            str(target),
            target=source,
            mode=mode,
            etag=etag,
            lock=str(g.lock_path(etag)),
            finding=DANGLING,
        )
        plan.fixes.append(fix)
        return fix
    return None
