"""Compute the sync plan: lockfile + global cache + view on disk -> actions (pure; touches nothing).

The view layout (decided in the core issue): real `refs/`, `snapshots/<rev>/` and `blobs/` directories per repo;
`snapshots/<rev>/<path>` is a relative link `../../blobs/<etag>`; `blobs/<etag>` is a link (or hardlink or copy)
of the real global blob; the project keeps its own ref in the global cache so `hf cache prune` spares the pin.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import writable_dir
from ..hfcache import (
    QUARANTINE_SUFFIX,
    CacheRepo,
    blob_matches,
    blob_rel,
    parse_repo_folder,
    project_ref_name,
    read_ref,
    read_small,
    ref_rel,
    repo_folder_name,
    snapshot_link_target,
    snapshot_rel,
    tree_rel,
)
from ..lockfile import Entry, Lockfile, repo_label
from ..plan import (
    BLOB,
    CONFLICT,
    FETCH,
    GLOBAL_REF,
    LINK,
    MISMATCH,
    MISSING,
    MOVE_ASIDE,
    REF,
    REMOVE,
    REMOVE_GLOBAL_REF,
    TREE,
    Action,
    EntryReport,
    Plan,
    Problem,
)
from .desired import Want, resolve_entry
from .manifest import Manifest, RepoRecord, spec_digest


@dataclass
class SyncOptions:
    global_cache: Path
    link_mode: str = "symlink"  # already resolved: symlink | hardlink | copy
    force: bool = False
    can_fetch: bool = False  # emit FETCH actions (online) instead of MISSING problems


@dataclass
class EntryPlan:
    """The plan for one entry, plus the record the manifest will hold once it is applied."""

    entry: Entry
    record: RepoRecord
    want: Want | None  # None when the fast path proved the entry in sync
    refresh: bool = False  # proved file by file: its directory stamps are stale and worth rewriting


def fetch_command(entry: Entry) -> str:
    parts = ["hf", "download", entry.id, "--revision", entry.revision]
    if entry.type != "model":
        parts += ["--repo-type", entry.type]
    for p in entry.include:
        parts += ["--include", repr(p) if "*" in p else p]
    for p in entry.exclude:
        parts += ["--exclude", repr(p) if "*" in p else p]
    return " ".join(parts)


def entry_spec(entry: Entry, opts: SyncOptions) -> str:
    files = {p: (f.size, f.hash) for p, f in entry.files.items()} if entry.files is not None else None
    return spec_digest(
        entry.id, entry.type, entry.revision, entry.ref, entry.include, entry.exclude, files,
        opts.link_mode, str(opts.global_cache),
    )  # fmt: skip


def plan_sync(lock: Lockfile, manifest: Manifest, opts: SyncOptions) -> tuple[Plan, list[EntryPlan]]:
    view = lock.view
    plan = Plan()
    ref_name = project_ref_name(view)
    entry_plans: list[EntryPlan] = []
    wanted: set[str] = set()
    for entry in lock.entries:
        folder = repo_folder_name(entry.id, entry.type)
        wanted.add(folder)
        old = manifest.repos.get(folder)
        spec = entry_spec(entry, opts)
        proof = _fast_in_sync(old, spec, view / folder, manifest.stamp_ns) if old is not None else None
        if old is not None and proof:
            plan.entries.append(_report(entry, "linked", old))
            entry_plans.append(EntryPlan(entry, old, None, refresh=proof == "files"))
            continue
        entry_plans.append(_plan_entry(plan, entry, view, old, spec, ref_name, opts))
    for folder, old in sorted(manifest.repos.items()):
        if folder not in wanted:
            _plan_stale_repo(plan, view / folder, old, opts)
    return plan, entry_plans


def _report(entry: Entry, state: str, rec: RepoRecord | None = None, want: Want | None = None) -> EntryReport:
    if want is not None:
        files, size = len(want.files), want.size
    elif rec is not None:
        files, size = rec.files, rec.size
    else:
        files = size = 0
    return EntryReport(entry.label, entry.type, entry.revision, entry.ref, state, files, size)


def _fast_in_sync(rec: RepoRecord, spec: str, repo_path: Path, stamp_ns: int) -> str | None:
    """Prove an entry in sync without reading the global cache: "dirs" when every recorded directory still has
    its mtime (a few stats per repo), else "files" when every link still resolves to the recorded inode (one
    stat per file), else None. Stamps not older than the manifest are racy and not trusted (as in git)."""
    if not rec.in_sync or not rec.proven or rec.spec != spec:
        return None
    repo = str(repo_path)
    if read_small(f"{repo}/{ref_rel(rec.ref)}") != rec.revision:
        return None
    stat_ = os.stat
    if rec.dirs and stamp_ns:  # the global ref's folder is among the dirs: its ref was neither removed nor replaced
        try:
            for d, mtime in rec.dirs.items():
                if mtime >= stamp_ns or stat_(d if d[0] == "/" else f"{repo}/{d}").st_mtime_ns != mtime:
                    break
            else:
                return "dirs"
        except OSError:
            pass
    if rec.global_ref and read_small(rec.global_ref) != rec.revision:
        return None
    for rel, ident in rec.paths.items():
        if ident is None:
            continue
        try:
            st = stat_(f"{repo}/{rel}")
        except OSError:
            return None
        if st.st_ino != ident[0] or st.st_dev != ident[1] or st.st_size != ident[2]:
            return None
    return "files"


def _plan_entry(
    plan: Plan, entry: Entry, view: Path, old: RepoRecord | None, spec: str, ref_name: str, opts: SyncOptions
) -> EntryPlan:
    want = resolve_entry(entry, opts.global_cache)
    v = CacheRepo(view, entry.id, entry.type)
    folder, label = v.folder, entry.label
    owned = old.paths if old else {}
    rec = RepoRecord(id=entry.id, type=entry.type, revision=entry.revision, ref=entry.ref, spec=spec)
    before = len(plan.actions)
    conflicts = 0

    repo_dir = str(v.path)
    fresh = not owned and not os.path.lexists(repo_dir)  # nothing there yet: no per-file checks needed
    aside: set[str] = set()  # quarantine names taken by this plan

    def want_path(rel: str, ok: bool, action: Action, adoptable: bool = False, etag: str | None = None) -> None:
        nonlocal conflicts
        if ok:
            rec.paths[rel] = None
            return
        if not fresh and not adoptable and not _ours(f"{repo_dir}/{rel}", rel, etag):
            if not opts.force:
                conflicts += 1
                plan.problems.append(_conflict(label, folder, rel, view))
                rec.paths[rel] = None  # kept in the record (not offered for removal): reported until resolved
                return
            _move_aside(plan, label, folder, rel, etag, aside)
        rec.paths[rel] = None
        plan.actions.append(action)

    # 1. files the global cache does not have
    for path, why in want.missing.items():
        if "blob " in why and "lock says" in why:
            plan.problems.append(Problem(MISMATCH, label, path, why, fix=f"linker lock --upgrade {entry.id}"))
    fetchable = {p: w for p, w in want.missing.items() if "lock says" not in w}
    hint = _case_hint(opts.global_cache, want) if "*" in fetchable else ""
    if fetchable:
        what = "revision" if "*" in fetchable else f"{len(fetchable)} file(s)"
        if opts.can_fetch:
            plan.actions.append(Action(FETCH, label, folder, target=entry.revision, reason=f"{what} missing"))
        else:
            plan.problems.append(
                Problem(
                    MISSING,
                    label,
                    "" if "*" in fetchable else ", ".join(sorted(fetchable)[:3]) + ("…" if len(fetchable) > 3 else ""),
                    f"{what} of {entry.revision[:12]} not in the global cache {opts.global_cache}{hint}",
                    fix=fetch_command(entry),
                )
            )

    # 2. blobs and snapshot links
    mode = opts.link_mode
    for path, f in want.files.items():
        blob = blob_rel(f.etag)
        if blob not in rec.paths:
            ok, same = (False, False) if fresh else _blob_state(f"{repo_dir}/{blob}", f.source, mode, owned.get(blob))
            if not ok and not same and mode == "copy" and _intact_copy(f"{repo_dir}/{blob}", f.etag):
                ok = True  # a copy whose bytes are still the blob's: ours, no need to copy it again
            want_path(blob, ok, Action(BLOB, label, folder, blob, f.source, mode, f.size), adoptable=same, etag=f.etag)
        link_rel = snapshot_rel(entry.revision, path)
        target = snapshot_link_target(path, f.etag)
        ok = not fresh and _is_link_to(f"{repo_dir}/{link_rel}", target)
        want_path(link_rel, ok, Action(LINK, label, folder, link_rel, target), etag=f.etag)
        if link_rel in rec.paths and f.ident and mode != "copy":
            rec.paths[link_rel] = [f.ident[0], f.ident[1], f.size]  # what the link resolves to, for the fast path

    # 3. trees/<rev>.json, only for a complete snapshot (else offline snapshot_download raises)
    if want.tree is not None and not want.missing and want.tree_paths == set(want.files):
        tree = tree_rel(entry.revision)
        ok = _same_small_file(v.path / tree, want.tree)
        want_path(tree, ok, Action(TREE, label, folder, tree, str(want.tree)), adoptable=True)

    # 4. refs: the view's ref holds the pin; other refs linker wrote are dropped below
    if want.files:
        ref = ref_rel(entry.ref)
        ok = v.read_ref(entry.ref) == entry.revision
        want_path(ref, ok, Action(REF, label, folder, ref, entry.revision), adoptable=True)

    # 5. the project's ref in the global cache protects the pin from `hf cache prune`
    gref = want.global_repo.ref(ref_name)
    if want.files:
        if writable_dir(gref.parent):
            rec.global_ref = str(gref)
            if read_ref(gref) != entry.revision:
                plan.actions.append(Action(GLOBAL_REF, label, folder, str(gref), entry.revision))
        else:
            plan.notices.append(
                f"warning: global cache {opts.global_cache} is read-only; skipped the project ref for {label} "
                "(`hf cache prune` there may delete this pin)"
            )
    if old and old.global_ref and old.global_ref != rec.global_ref and read_ref(Path(old.global_ref)) is not None:
        plan.actions.append(Action(REMOVE_GLOBAL_REF, label, folder, old.global_ref, reason="pin moved"))

    # 6. what linker created before and no longer needs (old revision, old ref, unused blobs). While the pinned
    # revision is incomplete in the global cache, its links stay: they record which blob each file had, so
    # `linker repair` can relink or re-fetch it, and the next sync heals them once the data is back.
    keep = (snapshot_rel(entry.revision) + "/", blob_rel(""), ref_rel(entry.ref), tree_rel(entry.revision))
    for rel in sorted(set(owned) - set(rec.paths), key=lambda r: (-r.count("/"), r)):
        if want.missing and rel.startswith(keep):
            rec.paths[rel] = None
        elif os.path.lexists(v.path / rel):
            if not _ours(f"{repo_dir}/{rel}", rel, _blob_name(rel)):  # the user replaced what linker made
                if not opts.force:
                    conflicts += 1
                    plan.problems.append(_conflict(label, folder, rel, view))
                    rec.paths[rel] = None  # still reported (and moved aside by --force) on the next run
                    continue
                _move_aside(plan, label, folder, rel, _blob_name(rel), aside)
                continue
            plan.actions.append(Action(REMOVE, label, folder, rel, reason="no longer in the lock"))

    rec.in_sync = not want.missing and not conflicts
    rec.proven = want.listing in ("lock", "tree")  # a snapshot folder's listing may be half-written: re-checked
    rec.files, rec.size = len(want.files), want.size
    state = _entry_state(want, repo_dir, plan.actions[before:], fresh)
    plan.entries.append(_report(entry, state, want=want))
    plan.entries[-1].detail = hint.lstrip("; ")
    return EntryPlan(entry, rec, want)


def _entry_state(want: Want, repo_dir: str, actions: list[Action], fresh: bool) -> str:
    """The status row's state. A view link that dangles ("broken") can only exist if the repo folder did."""

    def dangles(rels: list[str]) -> bool:
        return not fresh and any(os.path.islink(p) and not os.path.exists(p) for p in (f"{repo_dir}/{r}" for r in rels))

    if dangles([snapshot_rel(want.entry.revision, p) for p in want.missing if p != "*"]):
        return "broken"  # the view was linked, and its target left the global cache
    if want.state in ("missing", "partial"):
        return want.state
    if dangles([a.path for a in actions if a.kind in (LINK, BLOB)]):
        return "broken"
    return "stale" if actions else "linked"


def _plan_stale_repo(plan: Plan, repo_path: Path, old: RepoRecord, opts: SyncOptions) -> None:
    label = repo_label(old.id, old.type)
    folder = repo_path.name
    present = [rel for rel in old.paths if os.path.lexists(repo_path / rel)]
    for rel in sorted(present, key=lambda r: (-r.count("/"), r)):
        plan.actions.append(Action(REMOVE, label, folder, rel, reason="no longer in the lock"))
    if old.global_ref and read_ref(Path(old.global_ref)) == old.revision:
        plan.actions.append(Action(REMOVE_GLOBAL_REF, label, folder, old.global_ref, reason="no longer in the lock"))
    foreign = _foreign_files(repo_path, set(old.paths))
    if foreign:
        if opts.force:  # moved aside, never deleted
            taken: set[str] = set()
            for rel in foreign:
                _move_aside(plan, label, folder, rel, None, taken)
        else:
            plan.problems.append(
                Problem(
                    CONFLICT,
                    label,
                    f"{folder}/{foreign[0]}" + (f" (+{len(foreign) - 1} more)" if len(foreign) > 1 else ""),
                    "holds files linker did not create; left in place",
                    fix="move them away, or `linker sync --force` (moves them aside, into the repo's blobs/ folder)",
                )
            )
    plan.entries.append(EntryReport(label, old.type, old.revision, old.ref, "not-in-lock"))


def _foreign_files(repo_path: Path, owned: set[str]) -> list[str]:
    out = []
    for root, dirs, files in os.walk(repo_path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.relpath(os.path.join(root, name), repo_path).replace(os.sep, "/")
            if rel not in owned and not name.endswith(QUARANTINE_SUFFIX):  # what --force moved aside stays put
                out.append(rel)
    return sorted(out)


def _case_hint(global_cache: Path, want: Want) -> str:
    """When the repo folder is absent but one differing only in case exists (`ACME/Tiny` vs `acme/tiny`): say so."""
    folder = want.global_repo.folder
    if os.path.lexists(want.global_repo.path):
        return ""
    try:
        names = os.listdir(global_cache)
    except OSError:
        return ""
    twins = sorted(n for n in names if n.lower() == folder.lower() and n != folder)
    if not twins:
        return ""
    parsed = parse_repo_folder(twins[0])
    spelled = f" (pin the id as {parsed[1]!r})" if parsed else ""
    return f"; the global cache has {twins[0]}, which differs only in case: repo ids are case-sensitive{spelled}"


def _is_link_to(p: str, target: str) -> bool:
    try:
        return os.readlink(p) == target
    except OSError:
        return False


def _ours(p: str, rel: str, etag: str | None) -> bool:
    """Whether replacing or removing `p` loses nothing: nothing there, a link, a ref or tree linker writes, or a
    file whose bytes are exactly the blob `etag` (a copy or hardlink sync made). A folder, or a file with other
    bytes (an editor's save, a hand copy), is the user's."""
    try:
        st = os.lstat(p)
    except OSError:
        return True
    if stat.S_ISLNK(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    if rel.startswith(("refs/", "trees/")):
        return True
    return etag is not None and blob_matches(p, etag)


def _intact_copy(p: str, etag: str) -> bool:
    try:
        if not stat.S_ISREG(os.lstat(p).st_mode):
            return False
    except OSError:
        return False
    return blob_matches(p, etag)


def _blob_name(rel: str) -> str | None:
    return rel[len(blob_rel("")) :] if rel.startswith(blob_rel("")) else None


def _conflict(label: str, folder: str, rel: str, view: Path) -> Problem:
    return Problem(
        CONFLICT,
        label,
        f"{view}/{folder}/{rel}",
        "is a file linker did not create (or one changed since); it was left in place",
        fix=f"move it away, `linker migrate {view}` (to move its data into the global cache), or `linker sync "
        "--force` (moves it aside, into the repo's blobs/ folder)",
    )


def _move_aside(plan: Plan, label: str, folder: str, rel: str, etag: str | None, taken: set[str]) -> None:
    """--force: plan moving the user's file to `blobs/<name>.<utc stamp>.linker-quarantine` (repair's naming)."""
    name = etag or rel.rsplit("/", 1)[-1]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest, n = blob_rel(f"{name}.{stamp}{QUARANTINE_SUFFIX}"), 1
    while dest in taken:
        n += 1
        dest = blob_rel(f"{name}.{stamp}-{n}{QUARANTINE_SUFFIX}")
    taken.add(dest)
    plan.actions.append(Action(MOVE_ASIDE, label, folder, rel, dest, reason="--force: not created by linker"))


def _blob_state(p: str, source: str, mode: str, ident: list[int] | None) -> tuple[bool, bool]:
    """(in the wanted mode already, holds the same data so it may be adopted)."""
    try:
        st = os.lstat(p)
    except OSError:
        return False, False
    if stat.S_ISLNK(st.st_mode):
        return mode == "symlink" and os.readlink(p) == source, True
    try:
        src = os.stat(source)
    except OSError:
        return False, False
    if not stat.S_ISREG(st.st_mode):
        return False, False
    same_inode = (st.st_ino, st.st_dev) == (src.st_ino, src.st_dev)
    if mode == "hardlink":
        return same_inode, same_inode
    if mode == "copy":
        copied = not same_inode and st.st_size == src.st_size and ident is not None and ident[0] == st.st_ino
        return copied, same_inode
    return False, same_inode


def _same_small_file(p: Path, source: Path) -> bool:
    try:
        return p.read_bytes() == source.read_bytes()
    except OSError:
        return False
