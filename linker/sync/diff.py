"""Compute the sync plan: lockfile + global cache + view on disk -> actions (pure; touches nothing).

The view layout (decided in the core issue): real `refs/`, `snapshots/<rev>/` and `blobs/` directories per repo;
`snapshots/<rev>/<path>` is a relative link `../../blobs/<etag>`; `blobs/<etag>` is a link (or hardlink or copy)
of the real global blob; the project keeps its own ref in the global cache so `hf cache prune` spares the pin.

One entry is planned in steps, each returning what it decided (`Step`): what the global cache lacks, the paths
the view must hold (each then claimed, or reported as a conflict), the project ref, and what is no longer needed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ..fsutil import writable_dir
from ..hfcache import (
    QUARANTINE_SUFFIX,
    CacheRepo,
    blob_rel,
    no_exist_rel,
    project_ref_name,
    read_ref,
    ref_rel,
    repo_folder_name,
    snapshot_link_target,
    snapshot_rel,
    tree_rel,
    view_ref_names,
)
from ..lockfile import Entry, Lockfile, repo_label
from ..problems import CONFLICT, MISMATCH, MISSING, Problem
from ..projects import own_ref, owner_of, owner_recorded
from .desired import Want, resolve_entry
from .fastpath import fast_in_sync
from .manifest import Manifest, RepoRecord, entry_spec
from .plan import (
    BLOB,
    FETCH,
    GLOBAL_REF,
    LINK,
    MOVE_ASIDE,
    NO_EXIST,
    REF,
    REMOVE,
    REMOVE_GLOBAL_REF,
    TREE,
    Action,
    EntryPlan,
    EntryReport,
    Plan,
    SyncPlan,
)
from .tiered import unprotected_notice
from .viewstate import blob_state, case_hint, foreign_files, intact_copy, is_link_to, ours, same_small_file


@dataclass
class SyncOptions:
    global_cache: Path
    link_mode: str = "symlink"  # already resolved: symlink | hardlink | copy
    force: bool = False
    can_fetch: bool = False  # emit FETCH actions (online) instead of MISSING problems
    tiers: tuple[Path, ...] = ()  # shared read-only tiers to link from first (readable ones, in order)
    bad: frozenset[tuple[int, int]] = frozenset()  # (inode, device) of tier blobs that failed a hash: not linked


@dataclass
class Step:
    """What one planning step decided."""

    actions: list[Action] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def add(self, other: Step) -> None:
        self.actions += other.actions
        self.problems += other.problems
        self.notices += other.notices

    @property
    def conflicts(self) -> int:
        return sum(p.kind == CONFLICT for p in self.problems)


class Wanted(NamedTuple):  # a tuple, not a frozen dataclass: a cold sync builds one per path (cheap to make)
    """A path the view must hold: already right (`ok`), else created by `action` once it is claimed."""

    rel: str
    ok: bool
    action: Action
    adoptable: bool = False  # what is there holds the same data: replacing it loses nothing
    etag: str | None = None  # the blob the path stands for (a file with exactly its bytes is ours)
    ident: list[int] | None = None  # what the path resolves to, recorded for the fast path


@dataclass
class _Ctx:
    """One entry's planning context: the view repo, what linker owned there, the record being built."""

    entry: Entry
    view: Path
    v: CacheRepo
    owned: dict[str, list[int] | None]
    rec: RepoRecord
    opts: SyncOptions
    fresh: bool  # nothing there yet: no per-file checks needed
    aside: set[str] = field(default_factory=set)  # quarantine names taken by this plan

    @property
    def repo_dir(self) -> str:
        return str(self.v.path)


def plan_sync(lock: Lockfile, manifest: Manifest, opts: SyncOptions) -> SyncPlan:
    view = lock.view
    plan = Plan()
    ref_name = project_ref_name(view)
    entry_plans: list[EntryPlan] = []
    wanted: set[str] = set()
    owner = owner_of(lock.path, view, ref_name)
    copy = opts.link_mode == "copy"  # a copy view is self-contained: no project ref, so no owner record either
    refs = any(r.global_ref for r in manifest.repos.values())  # none in a view a tier serves: no owner to record
    recorded = copy or not refs or owner_recorded(opts.global_cache, ref_name)  # a view synced before records existed
    for entry in lock.entries:
        folder = repo_folder_name(entry.id, entry.type)
        wanted.add(folder)
        old = manifest.repos.get(folder)
        spec = entry_spec(entry, opts.link_mode, opts.global_cache, opts.tiers)
        gref = "" if copy else f"{opts.global_cache}/{folder}/{ref_rel(ref_name)}"
        fast = old is not None and recorded and not opts.bad  # a tier blob failed: resolve every entry
        grepo = f"{opts.global_cache}/{folder}"
        proof = fast_in_sync(old, spec, view / folder, manifest.stamp_ns, gref, grepo) if old and fast else None
        if old is not None and proof:
            plan.entries.append(_report(entry, "linked", old))
            _merge(plan, Step(notices=[] if copy else [unprotected_notice(t) for t in old.shared]))
            entry_plans.append(EntryPlan(entry, old, None, refresh=proof == "files"))
            continue
        entry_plans.append(_plan_entry(plan, entry, view, old, spec, ref_name, opts))
    for folder, old in sorted(manifest.repos.items()):
        if folder not in wanted:
            _merge(plan, _plan_stale_repo(view / folder, old, opts, ref_name))
            plan.entries.append(
                EntryReport(repo_label(old.id, old.type), old.type, old.revision, old.ref, "not-in-lock")
            )
    return SyncPlan(plan, entry_plans, manifest, opts.link_mode, str(opts.global_cache), lock.link_mode, owner)


def _merge(plan: Plan, step: Step) -> None:
    plan.actions += step.actions
    plan.problems += step.problems
    plan.notices += [n for n in step.notices if n not in plan.notices]  # e.g. one line per shared tier


def _report(entry: Entry, state: str, rec: RepoRecord | None = None, want: Want | None = None) -> EntryReport:
    files, size, served = 0, 0, ""
    if want is not None:
        files, size, served = len(want.files), want.size, want.served
    elif rec is not None:
        files, size, served = rec.files, rec.size, rec.served or ("global" if rec.files else "")
    return EntryReport(entry.label, entry.type, entry.revision, entry.ref, state, files, size, served=served)


def _plan_entry(
    plan: Plan, entry: Entry, view: Path, old: RepoRecord | None, spec: str, ref_name: str, opts: SyncOptions
) -> EntryPlan:
    want = resolve_entry(entry, opts.global_cache, view if opts.link_mode == "copy" else None, opts.tiers, opts.bad)
    v = CacheRepo(view, entry.id, entry.type)
    owned = old.paths if old else {}
    rec = RepoRecord(id=entry.id, type=entry.type, revision=entry.revision, ref=entry.ref, spec=spec)
    ctx = _Ctx(entry, view, v, owned, rec, opts, fresh=not owned and not os.path.lexists(v.path))
    hint = case_hint(opts.global_cache, want) if "*" in want.missing else ""
    step = _plan_missing(entry, want, opts, v.folder, hint)  # 1. what the global cache lacks
    for w in _wanted_paths(ctx, want):  # 2-4. blobs, snapshot links, trees/<rev>.json, the view's ref
        _claim(ctx, w, step)
    step.add(_plan_global_ref(ctx, want, old, ref_name))  # 5. the project's ref in the global cache
    step.add(_plan_unneeded(ctx, want))  # 6. what linker created before and no longer needs
    _merge(plan, step)
    rec.in_sync = not want.missing and not step.conflicts
    rec.proven = want.proven  # a snapshot folder's listing may be half-written: re-checked
    rec.files, rec.size = len(want.files), want.size
    rec.served, rec.shared = want.served, want.tiers
    plan.entries.append(_report(entry, _entry_state(want, ctx.repo_dir, step.actions, ctx.fresh), want=want))
    plan.entries[-1].detail = hint.lstrip("; ") or _pending(plan.entries[-1].state, step.actions, opts.link_mode)
    return EntryPlan(entry, rec, want)


def _plan_missing(entry: Entry, want: Want, opts: SyncOptions, folder: str, hint: str) -> Step:
    """Files the global cache does not have: fetched (online) or reported with the command that fetches them;
    and files it holds another blob of than the lock says (fetching does not fix that)."""
    step = Step()
    label = entry.label
    for path, why in want.missing.items():
        if why.disagrees:
            step.problems.append(Problem(MISMATCH, label, path, why.detail, fix=f"linker lock --upgrade {entry.id}"))
    fetchable = sorted(p for p, w in want.missing.items() if not w.disagrees)
    if not fetchable:
        return step
    whole = "*" in fetchable
    what = "revision" if whole else f"{len(fetchable)} file(s)"
    if opts.can_fetch:
        step.actions.append(Action(FETCH, label, folder, target=entry.revision, reason=f"{what} missing"))
        return step
    from ..hub.commands import fetch_command  # the hub package stays out of a no-op's start-up

    shown = "" if whole else ", ".join(fetchable[:3]) + ("…" if len(fetchable) > 3 else "")
    detail = f"{what} of {entry.revision[:12]} not in the global cache {opts.global_cache}{hint}"
    step.problems.append(Problem(MISSING, label, shown, detail, fix=fetch_command(entry, cache_dir=opts.global_cache)))
    return step


def _wanted_paths(ctx: _Ctx, want: Want) -> list[Wanted]:
    """Every path the view must hold for `want`, in plan order: each file's blob then its snapshot link, the
    tree listing (only for a complete snapshot, else offline snapshot_download raises), the view's ref."""
    entry, label, folder, mode = ctx.entry, ctx.entry.label, ctx.v.folder, ctx.opts.link_mode
    repo_dir = ctx.repo_dir
    out: list[Wanted] = []
    blobs: set[str] = set()
    for path, f in want.files.items():
        blob = blob_rel(f.etag)
        if blob not in blobs:
            blobs.add(blob)
            p = f"{repo_dir}/{blob}"
            if f.in_view:  # the view's own copy is the source (copy mode, no global copy): it stays as it is
                ok, same = True, True
            else:
                ok, same = (False, False) if ctx.fresh else blob_state(p, f.source, mode, ctx.owned.get(blob))
            if not ok and not same and mode == "copy" and intact_copy(p, f.etag):
                ok = True  # a copy whose bytes are still the blob's: ours, no need to copy it again
            action = Action(BLOB, label, folder, blob, f.source, mode, f.size)
            out.append(Wanted(blob, ok, action, adoptable=same, etag=f.etag))
        link_rel = snapshot_rel(entry.revision, path)
        target = snapshot_link_target(path, f.etag)
        ok = not ctx.fresh and is_link_to(f"{repo_dir}/{link_rel}", target)
        ident = [f.ident[0], f.ident[1], f.size] if f.ident and mode != "copy" else None
        out.append(Wanted(link_rel, ok, Action(LINK, label, folder, link_rel, target), etag=f.etag, ident=ident))
    if want.tree is not None and not want.missing and want.tree_paths == set(want.files):
        tree = tree_rel(entry.revision)
        ok = same_small_file(ctx.v.path / tree, want.tree)
        out.append(Wanted(tree, ok, Action(TREE, label, folder, tree, str(want.tree)), adoptable=True))
    if want.files:  # the view's refs hold the pin; other refs linker wrote are dropped as unneeded
        for name in view_ref_names(entry.ref):
            ref = ref_rel(name)
            ok = ctx.v.read_ref(name) == entry.revision
            out.append(Wanted(ref, ok, Action(REF, label, folder, ref, entry.revision), adoptable=True))
    for path in entry.absent:  # huggingface_hub's marker: an offline probe sees "absent", not "not cached"
        if path not in want.files:  # never hide a file the entry has (hf-cache.md pitfall 8.8)
            rel = f"{no_exist_rel(entry.revision)}/{path}"
            ok = os.path.isfile(f"{repo_dir}/{rel}")
            out.append(Wanted(rel, ok, Action(NO_EXIST, label, folder, rel, entry.revision), adoptable=True))
    return out


def _claim(ctx: _Ctx, w: Wanted, step: Step) -> None:
    """Record `w` in the entry's record and plan its action into `step`, unless what is there is the user's:
    then a conflict (kept in the record, not offered for removal: reported until resolved), or with --force moved
    aside first."""
    ctx.rec.paths[w.rel] = w.ident
    if w.ok:
        return
    if not ctx.fresh and not w.adoptable and not ours(f"{ctx.repo_dir}/{w.rel}", w.rel, w.etag):
        if not ctx.opts.force:
            step.problems.append(_conflict(ctx, w.rel))
            return
        step.actions.append(_move_aside(ctx, w.rel, w.etag))
    step.actions.append(w.action)


def _plan_global_ref(ctx: _Ctx, want: Want, old: RepoRecord | None, ref_name: str) -> Step:
    """The project's ref in the global cache protects the pin from `hf cache prune`; a moved pin drops the old.
    A copy needs no protection: copy mode writes none (and drops the one a former mode wrote)."""
    step = Step()
    entry, label, folder = ctx.entry, ctx.entry.label, ctx.v.folder
    gref = want.global_repo.ref(ref_name)
    if ctx.opts.link_mode != "copy":  # data in a shared tier gets no ref (a tier is never written): say so
        step.notices += [unprotected_notice(t) for t in want.tiers]
    if want.in_writable and ctx.opts.link_mode != "copy":
        if writable_dir(gref.parent):
            ctx.rec.global_ref = str(gref)
            if read_ref(gref) != entry.revision:
                step.actions.append(Action(GLOBAL_REF, label, folder, str(gref), entry.revision))
        else:
            step.notices.append(
                f"warning: global cache {ctx.opts.global_cache} is read-only; skipped the project ref for {label} "
                "(`hf cache prune` there may delete this pin)"
            )
    stale = old.global_ref if old else None
    if old and stale and stale != ctx.rec.global_ref and own_ref(stale, ref_name) and read_ref(Path(stale)):
        why = "a copy needs no ref" if ctx.opts.link_mode == "copy" and old.revision == entry.revision else "pin moved"
        step.actions.append(Action(REMOVE_GLOBAL_REF, label, folder, stale, reason=why))
    return step


def _plan_unneeded(ctx: _Ctx, want: Want) -> Step:
    """What linker created before and no longer needs (old revision, old ref, unused blobs). While the pinned
    revision is incomplete in the global cache, its links stay: they record which blob each file had, so
    `linker repair` can relink or re-fetch it, and the next sync heals them once the data is back."""
    step = Step()
    entry, rec = ctx.entry, ctx.rec
    refs = tuple(ref_rel(name) for name in view_ref_names(entry.ref))
    keep = (snapshot_rel(entry.revision) + "/", blob_rel(""), *refs, tree_rel(entry.revision))
    for rel in sorted(set(ctx.owned) - set(rec.paths), key=lambda r: (-r.count("/"), r)):
        if want.missing and rel.startswith(keep):
            rec.paths[rel] = None
        elif os.path.lexists(ctx.v.path / rel):
            if not ours(f"{ctx.repo_dir}/{rel}", rel, _blob_name(rel)):  # the user replaced what linker made
                if not ctx.opts.force:
                    step.problems.append(_conflict(ctx, rel))
                    rec.paths[rel] = None  # still reported (and moved aside by --force) on the next run
                    continue
                step.actions.append(_move_aside(ctx, rel, _blob_name(rel)))
                continue
            step.actions.append(Action(REMOVE, entry.label, ctx.v.folder, rel, reason="no longer in the lock"))
    return step


def _pending(state: str, actions: list[Action], mode: str) -> str:
    """What a stale entry is waiting for, in a few words (a status row never says "stale" without why)."""
    if state != "stale":
        return ""
    blobs = sum(a.kind == BLOB for a in actions)
    links = sum(a.kind == LINK for a in actions)
    if blobs and not links:
        return f"{blobs} blob(s) to make {mode} (the link mode changed): run `linker sync`"
    if links:
        return f"{links} file(s) to link: run `linker sync`"
    return f"{len(actions)} bookkeeping change(s) (refs, listings, removals): run `linker sync`"


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


def _plan_stale_repo(repo_path: Path, old: RepoRecord, opts: SyncOptions, ref_name: str) -> Step:
    """A view repo the lock no longer lists: remove what linker made; what it did not is left (or moved aside).
    Its global ref goes only when it is provably this project's (its current ref name) and still holds the
    revision this view pinned."""
    step = Step()
    label, folder = repo_label(old.id, old.type), repo_path.name
    present = [rel for rel in old.paths if os.path.lexists(repo_path / rel)]
    for rel in sorted(present, key=lambda r: (-r.count("/"), r)):
        step.actions.append(Action(REMOVE, label, folder, rel, reason="no longer in the lock"))
    grefs = {f"{opts.global_cache}/{folder}/{ref_rel(ref_name)}"}
    if old.global_ref and own_ref(old.global_ref, ref_name):
        grefs.add(old.global_ref)
    for gref in sorted(grefs):
        if old.revision and read_ref(Path(gref)) == old.revision:
            step.actions.append(Action(REMOVE_GLOBAL_REF, label, folder, gref, reason="no longer in the lock"))
    foreign = foreign_files(repo_path, set(old.paths))
    if foreign and opts.force:  # moved aside, never deleted
        taken: set[str] = set()
        step.actions += [_aside_action(label, folder, rel, None, taken) for rel in foreign]
    elif foreign:
        step.problems.append(
            Problem(
                CONFLICT,
                label,
                f"{folder}/{foreign[0]}" + (f" (+{len(foreign) - 1} more)" if len(foreign) > 1 else ""),
                "holds files linker did not create; left in place",
                fix="move them away, or `linker sync --force` (moves them aside, into the repo's blobs/ folder)",
            )
        )
    return step


def _blob_name(rel: str) -> str | None:
    return rel[len(blob_rel("")) :] if rel.startswith(blob_rel("")) else None


def _conflict(ctx: _Ctx, rel: str) -> Problem:
    view = ctx.view
    return Problem(
        CONFLICT,
        ctx.entry.label,
        f"{view}/{ctx.v.folder}/{rel}",
        "is a file linker did not create (or one changed since); it was left in place",
        fix=f"move it away, `linker migrate {view}` (to move its data into the global cache), or `linker sync "
        "--force` (moves it aside, into the repo's blobs/ folder)",
    )


def _move_aside(ctx: _Ctx, rel: str, etag: str | None) -> Action:
    return _aside_action(ctx.entry.label, ctx.v.folder, rel, etag, ctx.aside)


def _aside_action(label: str, folder: str, rel: str, etag: str | None, taken: set[str]) -> Action:
    """--force: move the user's file to `blobs/<name>.<utc stamp>.linker-quarantine` (repair's naming)."""
    name = etag or rel.rsplit("/", 1)[-1]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    dest, n = blob_rel(f"{name}.{stamp}{QUARANTINE_SUFFIX}"), 1
    while dest in taken:
        n += 1
        dest = blob_rel(f"{name}.{stamp}-{n}{QUARANTINE_SUFFIX}")
    taken.add(dest)
    return Action(MOVE_ASIDE, label, folder, rel, dest, reason="--force: not created by linker")
