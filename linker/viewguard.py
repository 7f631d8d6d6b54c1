"""Where a project view may live, checked before any command writes or reads it.

* Never the global cache or a shared tier, nor inside one, nor containing one, by path or by symlink: sync would
  otherwise replace every real blob by a link to itself. Real paths are compared.
* Never `/`, the home folder itself or a system folder.
* Inside the lockfile's folder, unless the user confirms otherwise (`--allow-outside-project`,
  `LINKER_ALLOW_OUTSIDE=1`): a cloned repository's lockfile is untrusted input.

Also the last line of defence of every executor: `refuse_self_link` before a path is replaced by a link.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from .errors import ConfigError, LockfileError
from .lockfile import Lockfile, cache_dir_position

#: folders a view may never be in or under
SYSTEM_TREES = (
    "/etc", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/dev", "/proc", "/sys",
)  # fmt: skip
#: folders a view may never be (a project below them is fine)
SYSTEM_ROOTS = frozenset(
    {"/", "/home", "/var", "/tmp", "/opt", "/srv", "/mnt", "/media", "/root", "/run", "/Users", "/Volumes",
     "/private", "/System", "/Library", "/Applications"}
)  # fmt: skip
ALLOW_OUTSIDE_ENV = "LINKER_ALLOW_OUTSIDE"
CONFIRM = f"--allow-outside-project (or {ALLOW_OUTSIDE_ENV}=1)"


def within(path: str, folder: str) -> bool:
    """`path` is `folder` or lies inside it (both real, absolute paths)."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def check_view_location(view: Path, caches: Sequence[Path]) -> None:
    """Refuse (exit 2) a view that is, contains or lies inside any of `caches` (the global cache, and the shared
    tiers after it), comparing real paths so a symlinked view or cache is caught too."""
    real = os.path.realpath(view)
    for i, cache in enumerate(caches):
        c = os.path.realpath(cache)
        if real == c:
            how = "is"
        elif within(real, c):
            how = "lies inside"
        elif within(c, real):
            how = "contains"
        else:
            continue
        resolved = f" (it resolves to {real})" if real != str(view) else ""
        if i > 0:
            raise ConfigError(
                f"the project view {view}{resolved} {how} the shared cache {cache}: a shared cache is read-only "
                "to linker and a view is written by it; nothing was changed",
                hint="name shared caches in LINKER_SHARED_CACHES, --shared-cache or `shared_caches:` other than the "
                "project's `cache_dir`",
            )
        raise ConfigError(
            f"the project view {view}{resolved} {how} the global cache {cache}: linking it would replace the "
            "cache's own files by links to themselves; nothing was changed",
            hint="give `cache_dir` in the lockfile a folder of its own, and point HF_HUB_CACHE or --cache-dir at "
            'the global cache (a shell that ran `eval "$(linker env)"` has HF_HUB_CACHE set to the view)',
        )


def check_cache_dir(lock: Lockfile, *, allow_outside: bool = False) -> None:
    """Refuse (exit 2) a `cache_dir` that resolves to a system folder, `/` or the home folder, or outside the
    lockfile's folder unless `allow_outside` (or LINKER_ALLOW_OUTSIDE=1)."""
    view = lock.view
    real = os.path.realpath(view)
    home = os.path.realpath(os.path.expanduser("~"))
    shown = f"cache_dir {lock.cache_dir!r} resolves to {real}"
    if real in SYSTEM_ROOTS or real == home or any(within(real, t) for t in SYSTEM_TREES):
        what = "the home folder" if real == home else "a system folder"
        _refuse(lock, f"{shown}, {what}: linker never writes a view there; use a folder of the project")
    if allow_outside or os.environ.get(ALLOW_OUTSIDE_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return
    root = os.path.realpath(lock.root)
    if real == root or not within(real, root):
        where = "is the project folder itself" if real == root else f"is outside the project folder {root}"
        _refuse(lock, f"{shown}, which {where}; if that is intended, confirm with {CONFIRM}")


def _refuse(lock: Lockfile, message: str) -> None:
    line, col = cache_dir_position(lock)
    raise LockfileError(lock.path, line, col, message)


def refuse_self_link(path: str, target: str) -> None:
    """Before `path` is replaced by a link to `target` (a link text, relative to `path`'s folder, or a source file
    for a hardlink or copy): refuse when `path` is a regular file and `target` resolves to that very file."""
    try:
        if not os.path.isfile(path) or os.path.islink(path):
            return
    except OSError:
        return
    aim = os.path.realpath(os.path.join(os.path.dirname(path), target))
    if aim == os.path.realpath(path):
        raise ConfigError(
            f"refused to replace the file {path} by a link to itself ({target}): its data would be lost",
            hint="the view and the global cache must be different folders",
        )
