"""Apply a sync plan to disk. Each action is atomic and idempotent; the manifest records intent first."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

from .diff import EntryPlan
from .fsutil import atomic_copy, atomic_hardlink, atomic_symlink, atomic_write_bytes, prune_empty_dirs
from .hfcache import ensure_cachedir_tag, repo_folder_name, write_ref
from .manifest import Manifest, RepoRecord, save_manifest
from .plan import BLOB, GLOBAL_REF, LINK, REF, REMOVE, REMOVE_GLOBAL_REF, TREE, Action, Plan

Progress = Callable[[Action], None]


def apply_sync(
    plan: Plan,
    entry_plans: list[EntryPlan],
    manifest: Manifest,
    view: Path,
    *,
    progress: Progress | None = None,
) -> list[str]:
    """Apply `plan` and rewrite the manifest. Returns warnings worth one line each."""
    warnings: list[str] = []
    new_folders = {repo_folder_name(ep.entry.id, ep.entry.type) for ep in entry_plans}
    if not plan.actions and all(ep.want is None for ep in entry_plans) and new_folders == set(manifest.repos):
        return warnings  # proven in sync by the fast path: nothing to write, not even the manifest
    view.mkdir(parents=True, exist_ok=True)
    ensure_cachedir_tag(view)
    new_repos = {repo_folder_name(ep.entry.id, ep.entry.type): ep for ep in entry_plans}
    # Intent: own everything we are about to create, and keep owning what we are about to remove.
    intent = Manifest(view, dict(manifest.repos))
    for folder, ep in new_repos.items():
        rec = ep.record
        merged = dict(manifest.repos[folder].paths) if folder in manifest.repos else {}
        merged.update({k: None for k in rec.paths})
        intent.repos[folder] = RepoRecord(**{**rec.__dict__, "paths": merged, "in_sync": False})
    if plan.actions:
        save_manifest(intent)
    for action in plan.ordered():
        if action.kind == GLOBAL_REF:
            try:
                write_ref(Path(action.path), action.target)
            except OSError as exc:
                warnings.append(
                    f"warning: could not write {action.path} ({exc.strerror}); `hf cache prune` may drop it"
                )
        else:
            _apply_one(action, view)
        if progress:
            progress(action)
    # Final manifest: the records of this run, with the inode each link resolves to (for the fast path).
    final = Manifest(view, {})
    for folder, ep in new_repos.items():
        if ep.want is not None:  # entries proven in sync by the fast path keep their record as is
            for rel in ep.record.paths:
                ep.record.paths[rel] = _ident(view / folder / rel) if rel.startswith("snapshots/") else None
        final.repos[folder] = ep.record
    for folder, rec in manifest.repos.items():
        if folder not in final.repos and (view / folder).exists():
            # A removed entry whose folder still holds files linker did not create: keep reporting it, so
            # `sync --force` can finish the job later. Everything linker made there is gone.
            final.repos[folder] = RepoRecord(id=rec.id, type=rec.type, revision=rec.revision, ref=rec.ref)
    save_manifest(final)
    return warnings


def _ident(p: Path) -> list[int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return [st.st_ino, st.st_dev, st.st_size]


def _apply_one(action: Action, view: Path) -> None:
    repo = view / action.folder
    p = repo / action.path
    if action.kind == BLOB:
        if action.mode == "symlink":
            atomic_symlink(action.target, p)
        elif action.mode == "hardlink":
            atomic_hardlink(Path(action.target), p)
        else:
            atomic_copy(Path(action.target), p)
    elif action.kind == LINK:
        _clear_dir(p)
        atomic_symlink(action.target, p)
    elif action.kind == TREE:
        atomic_write_bytes(p, Path(action.target).read_bytes())
    elif action.kind == REF:
        write_ref(p, action.target)
    elif action.kind == REMOVE:
        _remove(p)
        prune_empty_dirs(p.parent, view)
    elif action.kind == REMOVE_GLOBAL_REF:
        gp = Path(action.path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(gp)
        refs_dir = next((q for q in gp.parents if q.name == "refs"), gp.parent)
        prune_empty_dirs(gp.parent, refs_dir)


def _clear_dir(p: Path) -> None:
    """A real directory where a link must go (only reached with --force): remove it."""
    if p.is_dir() and not p.is_symlink():
        shutil.rmtree(p)


def _remove(p: Path) -> None:
    try:
        os.unlink(p)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno in (errno.EISDIR, errno.EPERM) and p.is_dir():
            shutil.rmtree(p)
        else:
            raise
