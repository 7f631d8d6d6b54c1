"""The Python API: `linker.path`, `linker.revision` and `linker.activate`, for application code.

Importing this module imports nothing heavy: the lockfile reader (yaml) is loaded inside the functions, and
huggingface_hub is never imported here (`activate` patches it only when the process already imported it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ConfigError, NotFoundError
from .libpatch import point_at

if TYPE_CHECKING:
    from .lockfile import Entry, Lockfile

Project = str | os.PathLike[str] | None


class NotPinnedError(NotFoundError):
    """The lockfile has no entry for this id and type: `linker add` writes one."""


class NotSyncedError(NotFoundError):
    """The lock pins the id but the view does not hold the pinned snapshot (or some of its files): `linker sync`."""


def path(id: str, *, type: str = "model", project: Project = None) -> Path:
    """The pinned snapshot folder of `id` in the project's view, e.g. `from_pretrained(linker.path("org/x"))`.

    Raises `NotPinnedError` (naming `linker add`) when the lock has no such entry, `NotSyncedError` (naming
    `linker sync`) when the view lacks the snapshot or, for an entry with a `files` map, one of its files."""
    from .hfcache import repo_folder_name, snapshot_rel

    lock, entry = _entry(id, type, project)
    snapshot = lock.view / repo_folder_name(entry.id, entry.type) / snapshot_rel(entry.revision)
    sync = f"run `linker sync`{_config_flag(lock.path)} in {lock.root}"
    if not snapshot.is_dir():
        raise NotSyncedError(f"{entry.label}@{entry.revision[:12]} is pinned but not synced: {snapshot} is missing",
                             hint=sync)  # fmt: skip
    missing = [name for name in (entry.files or {}) if not (snapshot / name).is_file()]
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise NotSyncedError(
            f"{entry.label}@{entry.revision[:12]} is not fully synced: {snapshot / missing[0]} does not resolve{more}",
            hint=sync,
        )
    return snapshot


def revision(id: str, *, type: str = "model", project: Project = None) -> str:
    """The pinned 40-hex commit of `id` (no check of the view). Raises `NotPinnedError` when it is not pinned."""
    return _entry(id, type, project)[1].revision


def activate(project: Project = None) -> Path:
    """Point this process at the project's view, offline: huggingface_hub (and transformers, sentence-transformers
    and datasets) then load the pinned revision for a call without `revision=`, even when they were imported
    before. Returns the view. Raises `ActivationError` when an imported library cannot be made to follow."""
    lock = _lockfile(project)
    from .viewguard import check_cache_dir

    check_cache_dir(lock)
    if not lock.view.is_dir():
        raise NotSyncedError(f"the view {lock.view} does not exist yet",
                             hint=f"run `linker sync`{_config_flag(lock.path)} in {lock.root}")  # fmt: skip
    point_at(str(lock.view))
    return lock.view


# ---------------------------------------------------------------------------------------------------------------


def _lockfile(project: Project) -> Lockfile:
    from .lockfile import require_resolved

    return require_resolved(_find_lockfile(project))


def _find_lockfile(project: Project) -> Lockfile:
    from .lockfile import LOCKFILE_NAME, find_lockfile, load_lockfile

    if project is None:
        return load_lockfile(find_lockfile())
    given = Path(os.path.expanduser(os.fspath(project))).absolute()
    if given.is_dir():
        for folder in (given, *given.parents):
            if (folder / LOCKFILE_NAME).is_file():
                return load_lockfile(folder / LOCKFILE_NAME)
        raise ConfigError(f"no {LOCKFILE_NAME} in {given} or any parent folder",
                          hint="pass the lockfile's path or its folder as project=")  # fmt: skip
    return load_lockfile(find_lockfile(given))


def _entry(repo_id: str, repo_type: str, project: Project) -> tuple[Lockfile, Entry]:
    from .hfcache import REPO_TYPES

    if repo_type not in REPO_TYPES:
        raise ConfigError(f"type={repo_type!r} is not one of {', '.join(REPO_TYPES)}")
    lock = _lockfile(project)
    entry = lock.find(repo_id, repo_type)
    if entry is None:
        label = repo_id if repo_type == "model" else f"{repo_type}:{repo_id}"
        other = lock.find(repo_id)
        also = f" (it pins {other.label}: pass type={other.type!r})" if other else ""
        add = f"linker add {repo_id}" + ("" if repo_type == "model" else f" --type {repo_type}")
        raise NotPinnedError(f"{label} is not pinned in {lock.path}{also}", hint=f"run `{add}`, then `linker sync`")
    return lock, entry


def _config_flag(lockfile: Path) -> str:
    """` -c <lockfile>` unless the CLI would find that lockfile by itself from its folder."""
    return "" if lockfile.name == "project_cache.yaml" else f" -c {lockfile}"
