"""Building the migrate plan (its data types are in plandata.py): what moves where, which revision and why.

`build_plan` hashes every file (hashing.py: in parallel, streaming), decides revisions (revision.py) and turns the
units into `Item`s of small operations (ops.py). The executor applies them; the journal stores the plan as JSON
so that an interrupted run can be finished by `recover`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..hashpool import Digest
from ..hfcache import (
    CacheRepo,
    TreeFile,
    blob_rel,
    etag_kind,
    read_tree,
    snapshot_link_target,
    tree_json,
)
from ..problems import Problem
from .hashing import hash_units
from .ops import BlobOps, add_guard, add_link_ops, add_ref_ops, guard_ref_name, lock_entry
from .plandata import (
    CORRUPT,
    INCOMPLETE,
    MOVE,
    NOT_A_MODEL,
    UNRESOLVED,
    UNSAFE,
    Item,
    LinkOp,
    MigratePlan,
    TreeOp,
)
from .remote import Remote
from .revision import Resolved, etag_of, guess_lfs, resolve
from .units import FOLDER, HF_CACHE, LOCAL_DIR, ST_LEGACY, SourceFile, Unit


@dataclass
class Options:
    global_cache: Path
    mode: str = MOVE
    repo_id: str | None = None
    repo_type: str = "model"
    revision: str | None = None
    lock_path: Path | None = None  # --lock: the project_cache.yaml to update


def apply_overrides(units: list[Unit], opts: Options) -> None:
    """--id, --type and --revision name one model: refuse them when the sources hold several. With none left (it
    moved already) or only a refused one (its refusal names the file), there is nothing to override."""
    live = [u for u in units if not u.unsafe and u.kind != HF_CACHE]
    if (opts.repo_id or opts.revision) and (len(live) > 1 or any(u.kind == HF_CACHE for u in units)):
        what = "--id" if opts.repo_id else "--revision"
        raise ConfigError(f"{what} names one model, but the sources hold {len(units)}: migrate them one at a time")
    for u in units:
        if u.kind != HF_CACHE:
            u.repo_type = opts.repo_type
        if opts.repo_id and u in live:
            u.ids, u.id_reason = [opts.repo_id], "--id"
            u.code = []  # --id says it is a model: the source-code refusal is lifted


def build_plan(
    units: list[Unit],
    opts: Options,
    *,
    remote: Remote | None,
    on_bytes: Callable[[int], None] | None = None,
    digests: dict[str, Digest] | None = None,
) -> MigratePlan:
    plan = MigratePlan(global_cache=str(opts.global_cache), mode=opts.mode)
    if opts.lock_path is not None:
        plan.lock_path = str(opts.lock_path)
    usable = [u for u in units if not u.unsafe and not u.problems and not u.code]
    if digests is None:
        digests, _ = hash_units(usable, online=remote is not None, on_bytes=on_bytes)
    for unit in units:
        label = unit.label
        for msg in unit.unsafe:  # "<path>: <why>"
            path, _, why = msg.partition(": ")
            plan.problems.append(Problem(UNSAFE, label, path, why, fix="remove or fix it, then rerun"))
        if unit.unsafe:
            continue
        if unit.code:
            shown = ", ".join(unit.code[:4]) + ("…" if len(unit.code) > 4 else "")
            detail = f"looks like a code project, not a model ({shown}); nothing moved"
            plan.problems.append(Problem(NOT_A_MODEL, label, str(unit.root), detail, fix=_fix_for(NOT_A_MODEL, unit)))
            continue
        for msg in unit.problems:
            kind = INCOMPLETE if "incomplete" in msg or "git-lfs" in msg else UNRESOLVED
            plan.problems.append(Problem(kind, label, str(unit.root), msg))
        if unit.problems:
            continue
        if not unit.files and not unit.snapshots and not unit.extra and not unit.orphans:
            plan.notices += [f"{unit.root}: {n}" for n in unit.notes] or [f"{unit.root}: no file to migrate"]
            continue
        if unit.kind == HF_CACHE:
            item = _plan_cache_unit(unit, digests, opts, remote, plan)
        else:
            res = resolve(unit, digests, remote=remote, revision=opts.revision)
            if res.problem is not None:
                kind, msg = res.problem
                plan.problems.append(Problem(kind, label, str(unit.root), msg, fix=_fix_for(kind, unit)))
                continue
            item = _plan_folder_unit(unit, res, digests, opts, remote)
        if item is not None:
            plan.items.append(item)
    return plan


def _fix_for(kind: str, unit: Unit) -> str:
    if kind in ("ambiguous-id", "unknown-id", NOT_A_MODEL):
        return f"linker migrate {unit.root} --id ORG/NAME"
    return ""


def _plan_folder_unit(
    unit: Unit, res: Resolved, digests: dict[str, Digest], opts: Options, remote: Remote | None
) -> Item:
    assert res.repo_id is not None and res.revision is not None
    repo = CacheRepo(opts.global_cache, res.repo_id, unit.repo_type)
    item = Item(
        kind=unit.kind, source=str(unit.root), repo_id=res.repo_id, repo_type=unit.repo_type,
        revisions=[res.revision], reason=res.reason, local=res.local, id_reason=res.id_reason,
        files=len(unit.files), size=sum(f.size for f in unit.files.values()), notes=list(unit.notes) + res.notes,
    )  # fmt: skip
    blobs = BlobOps(repo, opts.mode)
    for path in sorted(unit.files, key=lambda p: (unit.files[p].alias is not None, p)):
        blobs.add(unit.files[path], res.etags[path])
    for f in unit.extra:
        d = digests.get(str(f.abspath))
        if d is not None:
            e = f.etag if f.etag else etag_of(d, guess_lfs(unit, f))
            if e:
                blobs.add(f, e)
    item.blobs = blobs.all()
    add_link_ops(repo, res.revision, res.etags, item)
    refs = list(res.refs)
    if res.local:
        # A local revision is nobody's branch: no refs/main. A ref of our own keeps `hf cache prune` off it.
        refs = [(guard_ref_name(res.revision), True)]
    add_ref_ops(repo, res.revision, refs, item, remote)
    add_guard(repo, res.revision, item)
    complete = _complete_tree(unit, res)
    if complete is not None and not os.path.exists(repo.tree(res.revision)):
        item.trees.append(TreeOp(str(repo.tree(res.revision)), complete[1]))
    if opts.mode == MOVE and unit.kind in (FOLDER, ST_LEGACY, LOCAL_DIR):
        item.prune.append(str(unit.root))
        item.cleanup = [str(p) for p in unit.bookkeeping]
        if unit.leftovers:
            shown = ", ".join(Path(p).name for p in unit.leftovers[:3]) + ("…" if len(unit.leftovers) > 3 else "")
            item.notes.append(f"left in place: {len(unit.leftovers)} download leftover(s) ({shown})")
        if unit.src is not None and unit.src in unit.root.parents:
            item.prune_stop = str(unit.src)
    files: dict[str, dict[str, Any]] | None = None
    if res.local:  # the content is the whole "commit"
        files = {p: {"size": unit.files[p].size, "hash": e} for p, e in res.etags.items()}
    elif complete is not None:  # the whole commit was migrated: the lock can list it, as `linker lock` would
        files = {p: {"size": t.size, "hash": t.etag} for p, t in complete[0].items()}
    item.lock_entry = lock_entry(res.repo_id, unit.repo_type, res.revision, res.local, files)
    return item


def _complete_tree(unit: Unit, res: Resolved) -> tuple[dict[str, TreeFile], str] | None:
    """The commit's listing and `trees/<rev>.json` text, only when the snapshot holds every file of the commit
    (a tree for a partial snapshot makes offline `snapshot_download` raise IncompleteSnapshotError)."""
    assert res.revision is not None
    listing: dict[str, TreeFile] | None = None
    text: str | None = None
    if res.revision in unit.trees:
        listing = read_tree(unit.trees[res.revision])
        if listing is not None:
            text = unit.trees[res.revision].read_text()
    elif res.hub_tree is not None:
        listing = res.hub_tree
        text = tree_json(res.hub_tree)
    if listing is None or set(listing) != set(res.etags):
        return None
    if text is None or any(listing[p].etag != e for p, e in res.etags.items()):
        return None
    return listing, text


def _plan_cache_unit(
    unit: Unit, digests: dict[str, Digest], opts: Options, remote: Remote | None, plan: MigratePlan
) -> Item | None:
    repo_id = unit.ids[0]
    assert unit.repo_path is not None
    repo = CacheRepo(opts.global_cache, repo_id, unit.repo_type)
    old = unit.repo_path
    mode = MOVE if unit.in_place else opts.mode
    item = Item(
        kind=HF_CACHE, source=str(old), repo_id=repo_id, repo_type=unit.repo_type,
        revisions=sorted(unit.snapshots), reason="the cache's snapshot names", id_reason=unit.id_reason,
        notes=list(unit.notes),
    )  # fmt: skip
    blobs = BlobOps(repo, mode)
    bad: set[str] = set()

    def etag_for(f: SourceFile) -> str | None:
        if f.origin == "view":
            return f.etag
        d = digests.get(str(f.abspath))
        if d is None:
            return None
        if f.etag:
            if etag_of(d, etag_kind(f.etag) == "sha256") != f.etag:
                if f.etag not in bad:
                    bad.add(f.etag)
                    detail = f"content does not match its name {f.etag[:12]}; left in place"
                    plan.problems.append(Problem(CORRUPT, item.label, str(f.abspath), detail, fix="linker repair"))
                return None
            return f.etag
        return etag_of(d, guess_lfs(unit, f))

    snapshots: dict[str, dict[str, str]] = {}
    for rev, files in sorted(unit.snapshots.items()):
        etags: dict[str, str] = {}
        for path, f in sorted(files.items()):
            etag = etag_for(f)
            if etag is None:
                continue
            etags[path] = etag
            item.files += 1
            item.size += f.size
            if f.origin != "view":
                leave = f.leave_link
                if leave is None and f.relink is not None and not unit.in_place:
                    leave = old / blob_rel(etag)  # a real snapshot file: the old place gets a blob link
                blobs.add(f, etag, leave_link=leave)
            if f.relink is not None and (mode == MOVE):
                item.relinks.append(LinkOp(str(f.relink), snapshot_link_target(path, etag)))
        snapshots[rev] = etags
        if not unit.in_place:
            add_link_ops(repo, rev, etags, item)
    for f in unit.orphans:
        etag = etag_for(f)
        if etag is not None:
            blobs.add(f, etag, leave_link=f.leave_link)
    item.blobs = blobs.all()
    if not unit.in_place:
        for name, sha in sorted(unit.refs.items()):
            if sha in snapshots:
                add_ref_ops(repo, sha, [(name, False)], item, remote)
        for rev, tree_path in unit.trees.items():
            listing = read_tree(tree_path)
            etags = snapshots.get(rev, {})
            complete = listing is not None and set(listing) == set(etags)
            if complete and not os.path.exists(repo.tree(rev)):
                item.trees.append(TreeOp(str(repo.tree(rev)), tree_path.read_text()))
        for rev in snapshots:
            if any(link.path.startswith(str(repo.snapshot(rev)) + os.sep) for link in item.links):
                add_guard(repo, rev, item)
    if not (item.blobs or item.links or item.relinks or item.refs or item.trees) and not unit.in_place:
        item.notes.append("already in the global cache")
    pinned = unit.refs.get("main")
    lock_rev = pinned if pinned in snapshots else (next(iter(snapshots)) if len(snapshots) == 1 else None)
    if lock_rev:
        item.lock_entry = lock_entry(repo_id, unit.repo_type, lock_rev, False)
    elif opts.lock_path is not None:
        item.notes.append("--lock: no refs/main and several snapshots; add the entry with the revision you want")
    return item
