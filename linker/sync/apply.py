"""Apply a sync plan to disk. Each action is atomic and idempotent; the manifest records intent first.

Repos are independent, so their actions run on a small thread pool (link creation is syscall-bound and releases
the GIL); within a repo, actions run in plan order.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from ..errors import LinkerError
from ..fsutil import atomic_copy, atomic_hardlink, atomic_symlink, atomic_write_bytes, prune_empty_dirs
from ..hfcache import REFS, ensure_cachedir_tag, repo_folder_name, write_ref
from ..projects import record_owner
from ..viewguard import refuse_self_link
from .manifest import Manifest, RepoRecord, save_manifest
from .plan import (
    BLOB,
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
    SyncPlan,
)

Progress = Callable[[Action], None]
_WORKERS = 8


def apply_sync(planned: SyncPlan, *, progress: Progress | None = None) -> list[str]:
    """Apply the plan and rewrite the manifest it was computed against. Returns warnings worth one line each."""
    plan, entry_plans, manifest = planned.plan, planned.entry_plans, planned.manifest
    view = manifest.view
    warnings: list[str] = []
    new_repos = {repo_folder_name(ep.entry.id, ep.entry.type): ep for ep in entry_plans}
    unchanged = all(ep.want is None and not ep.refresh for ep in entry_plans)
    if not plan.actions and unchanged and set(new_repos) == set(manifest.repos) and planned.records_current():
        return warnings  # proven in sync by the fast path: nothing to write, not even the manifest
    view.mkdir(parents=True, exist_ok=True)
    ensure_cachedir_tag(view)
    # Intent: own everything we are about to create, and keep owning what we are about to remove.
    intent = Manifest(view, dict(manifest.repos), 0, manifest.global_cache, manifest.link_mode, manifest.lock_link_mode,
                      manifest.verified)  # fmt: skip
    for folder, ep in new_repos.items():
        merged = dict(manifest.repos[folder].paths) if folder in manifest.repos else {}
        merged.update({k: None for k in ep.record.paths})
        intent.repos[folder] = RepoRecord(**{**ep.record.__dict__, "paths": merged, "in_sync": False})
    if plan.actions:
        save_manifest(intent)

    lock = threading.Lock()

    def done(action: Action) -> None:
        if progress:
            with lock:
                progress(action)

    # Each repo's view actions, then its project ref in the global cache (after the links it protects): written
    # by the same worker, so a cold sync's thousand refs are not written one after another at the end.
    ordered = plan.ordered()  # sorted once: a cold sync has ~32 actions per entry
    local = [a for a in ordered if a.kind in (MOVE_ASIDE, BLOB, LINK, TREE, REF, NO_EXIST, GLOBAL_REF)]
    by_repo: dict[str, list[Action]] = defaultdict(list)
    for a in local:
        by_repo[a.folder].append(a)
    maker = _DirMaker()
    _record_owner(planned, warnings)  # before the first ref; failing that, the ref still protects the pin

    removing = {a.folder for a in ordered if a.kind in (REMOVE, REMOVE_GLOBAL_REF)}
    stamps: dict[str, dict[str, int]] = {}  # taken by the worker that linked the repo, once its links are made

    def run_repo(actions: list[Action]) -> None:
        for a in actions:
            note = _global_ref(a) if a.kind == GLOBAL_REF else _create(a, view / a.folder, maker)
            if note:
                with lock:
                    warnings.append(note)
            done(a)
        ep = new_repos.get(folder := actions[0].folder)
        if ep is not None and ep.want is not None and ep.record.in_sync and folder not in removing:
            stamps[folder] = _dir_stamps(view / folder, ep, planned.link_mode)  # nothing later changes its dirs

    if len(by_repo) > 1 and len(local) > 64:
        from concurrent.futures import ThreadPoolExecutor  # only a large plan pays for the import

        with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="link") as pool:
            list(pool.map(run_repo, by_repo.values()))  # re-raises the first failure
    else:
        for actions in by_repo.values():
            run_repo(actions)
    for a in ordered:
        if a.kind in (REMOVE, REMOVE_GLOBAL_REF):
            _remove_action(a, view)
            done(a)

    # Final manifest: this run's records, with the inode each snapshot link resolves to (for the fast path).
    final = Manifest(view, {}, 0, planned.global_cache, planned.link_mode, planned.lock_link_mode, manifest.verified)
    symlinks = planned.link_mode == "symlink"
    for folder, ep in new_repos.items():
        if ep.want is not None:  # entries proven in sync by the fast path keep their record as is
            for rel, ident in ep.record.paths.items():
                if ident is None and rel.startswith("snapshots/"):
                    ep.record.paths[rel] = _ident(f"{view}/{folder}/{rel}")
                elif ident is None and rel.startswith("blobs/") and not symlinks:  # a symlink view's are links
                    ep.record.paths[rel] = _file_ident(f"{view}/{folder}/{rel}")  # a copy's inode: it is ours
        if ep.record.in_sync and (ep.want is not None or ep.refresh):
            ep.record.dirs = stamps[folder] if folder in stamps else _dir_stamps(view / folder, ep, planned.link_mode)
        final.repos[folder] = ep.record
    for folder, rec in manifest.repos.items():
        if folder not in final.repos and (view / folder).exists():
            # A removed entry whose folder still holds files linker did not create: keep reporting it, so
            # `sync --force` can finish the job later. Everything linker made there is gone.
            final.repos[folder] = RepoRecord(id=rec.id, type=rec.type, revision=rec.revision, ref=rec.ref)
    save_manifest(final)
    return warnings


def _global_ref(a: Action) -> str | None:
    """Write the project's ref in the global cache; a warning line when it cannot be written."""
    try:
        write_ref(Path(a.path), a.target)
    except OSError as exc:
        return f"warning: could not write {a.path} ({exc.strerror}); `hf cache prune` may drop it"
    return None


def _record_owner(planned: SyncPlan, warnings: list[str]) -> None:
    """Record which lockfile owns the project's refs (projects.py), before the first one is written, whenever
    this run planned an entry that has one."""
    owner, cache = planned.owner, planned.global_cache
    if owner is None or cache is None:
        return
    if not any(a.kind == GLOBAL_REF for a in planned.plan.actions) and not any(
        ep.want is not None and ep.record.global_ref for ep in planned.entry_plans
    ):
        return
    try:
        record_owner(Path(cache), owner)
    except OSError as exc:
        warnings.append(f"warning: could not record the owner of {owner.ref} in {cache} ({exc.strerror})")


class _DirMaker:
    """mkdir -p with a memory, so a cold sync does one mkdir per directory instead of one per file."""

    def __init__(self) -> None:
        self._made: set[str] = set()

    def ensure(self, d: str) -> None:
        if d not in self._made:
            os.makedirs(d, exist_ok=True)
            self._made.add(d)


def _dir_stamps(repo: Path, ep: EntryPlan, mode: str) -> dict[str, int]:
    """mtimes of the view dirs linker owns in this repo and of the global dirs its links lead to (none for a copy,
    which depends on no global dir)."""
    rel_dirs = {rel.rsplit("/", 1)[0] for rel in ep.record.paths if "/" in rel}
    if mode == "copy":
        abs_dirs: set[str] = set()
    elif ep.want is not None:
        abs_dirs = {os.path.dirname(f.source) for f in ep.want.files.values()}
    else:
        abs_dirs = {d for d in ep.record.dirs if d.startswith("/")}
    if ep.record.global_ref:
        abs_dirs.add(os.path.dirname(ep.record.global_ref))
    unproven = ep.want is not None and not ep.want.proven and not any(f.in_view for f in ep.want.files.values())
    if ep.want is not None and unproven and not ep.want.tiers:  # a tier's listing is not stamped: no dirs proof
        abs_dirs |= snapshot_stamps(str(ep.want.global_repo.snapshot(ep.entry.revision)))
    out: dict[str, int] = {}
    for d in sorted(rel_dirs | abs_dirs):
        try:
            out[d] = os.stat(d if d.startswith("/") else f"{repo}/{d}").st_mtime_ns
        except OSError:
            return {}  # something moved under us: no stamps, the next run checks file by file
    return out


def snapshot_stamps(snap: str) -> set[str]:
    """The global snapshot folder and every folder under it (links not followed): the file list of an unproven
    entry is this folder's listing, so their unchanged mtimes prove it lists the same files (a new subfolder
    changes its parent's mtime). Empty when it cannot be read whole: no stamps, no fast path."""
    found: set[str] = set()
    errors: list[OSError] = []
    for root, _dirs, _files in os.walk(snap, onerror=errors.append):
        found.add(root)
    return set() if errors else found


def _ident(p: str) -> list[int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return [st.st_ino, st.st_dev, st.st_size]


def _file_ident(p: str) -> list[int] | None:
    """[ino, dev, size] of a regular file (not following a link), else None."""
    try:
        st = os.lstat(p)
    except OSError:
        return None
    return [st.st_ino, st.st_dev, st.st_size] if stat.S_ISREG(st.st_mode) else None


def _link(target: str, p: str, maker: _DirMaker) -> None:
    """Create a symlink; a fresh path takes one syscall, an existing one is replaced atomically."""
    maker.ensure(os.path.dirname(p))
    try:
        os.symlink(target, p)
    except FileExistsError:
        refuse_self_link(p, target)
        _clear_dir(Path(p))
        atomic_symlink(target, Path(p))


def _create(action: Action, repo: Path, maker: _DirMaker) -> str | None:
    """Apply one view action; returns a line worth telling the user, if any."""
    p = f"{repo}/{action.path}"
    if action.kind == MOVE_ASIDE:
        dest = f"{repo}/{action.target}"
        if not os.path.lexists(p):
            return None
        maker.ensure(os.path.dirname(dest))
        if os.path.lexists(dest):
            raise LinkerError(f"cannot move {p} aside: {dest} exists already; nothing was replaced")
        os.rename(p, dest)
        return f"moved {p} (not created by linker) aside to {dest}"
    if action.kind == LINK:
        _link(action.target, p, maker)
    elif action.kind == BLOB:
        if action.mode == "symlink":
            _link(action.target, p, maker)
        else:
            maker.ensure(os.path.dirname(p))
            refuse_self_link(p, action.target)
            _clear_dir(Path(p))
            if action.mode == "hardlink":
                atomic_hardlink(Path(action.target), Path(p))
            else:
                atomic_copy(Path(action.target), Path(p))
    elif action.kind == TREE:
        atomic_write_bytes(Path(p), Path(action.target).read_bytes())
    elif action.kind == REF:
        write_ref(Path(p), action.target)
    elif action.kind == NO_EXIST:  # an empty file, as huggingface_hub writes it
        maker.ensure(os.path.dirname(p))
        atomic_write_bytes(Path(p), b"")
    return None


def _remove_action(action: Action, view: Path) -> None:
    if action.kind == REMOVE:
        p = view / action.folder / action.path
        _remove(p)
        prune_empty_dirs(p.parent, view)
        return
    gp = Path(action.path)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(gp)
    refs_dir = next((q for q in gp.parents if q.name == REFS), gp.parent)
    prune_empty_dirs(gp.parent, refs_dir)


def _clear_dir(p: Path) -> None:
    """A real directory where a file or link must go: the plan moved the user's aside (--force) or refused, so
    one appearing since is someone else's: never delete it."""
    if p.is_dir() and not p.is_symlink():
        raise LinkerError(f"{p} is a folder linker did not create; it was left in place")


def _remove(p: Path) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno in (errno.EISDIR, errno.EPERM) and p.is_dir():
            import shutil  # rare: a folder where a file was expected

            shutil.rmtree(p)
        else:
            raise
