"""The trees linker may change: the view, the global cache (and, later, shared tiers). `ensure_inside` is the one
guard every destructive step of repair goes through: a path that resolves anywhere else is refused."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from .errors import EXIT_USAGE, FilesystemError, LinkerError

Roots = tuple[str, ...]


class OutsideError(LinkerError):
    """A destructive step was asked to act on a path outside the trees linker manages (exit 1)."""


def managed_roots(view: Path, global_cache: Path, *more: Path) -> Roots:
    """Real paths of the trees linker may change. `more` takes the shared tiers when they exist."""
    return tuple(os.path.realpath(p) for p in (view, global_cache, *more))


def _within(real: str, roots: Iterable[str]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def resolves_inside(path: str | os.PathLike[str], roots: Roots) -> bool:
    """Whether `path`, every link followed, ends inside one of `roots`."""
    return _within(os.path.realpath(path), roots)


def entry_location(path: str | os.PathLike[str]) -> str:
    """Where the directory entry `path` really is: its folder's real path + its own name (a final link is the
    entry itself, not what it points at)."""
    head, name = os.path.split(os.path.abspath(path))
    return os.path.join(os.path.realpath(head), name) if name else os.path.realpath(head)


def ensure_inside(path: str | os.PathLike[str], roots: Iterable[str | os.PathLike[str]], what: str = "change") -> None:
    """Refuse (`OutsideError`) to `what` the entry `path` unless it lies strictly inside one of `roots` (real
    paths compared). The entry may be a link to anywhere: replacing or removing a link never touches its target."""
    reals = tuple(os.path.realpath(r) for r in roots)
    real = entry_location(path)
    if real in reals or not _within(real, reals):
        raise OutsideError(
            f"refused to {what} {path}: it is outside the view and the global cache ({real})",
            hint="linker only changes files inside " + ", ".join(reals),
        )


def check_usable(view: Path, global_cache: Path) -> None:
    """Fail early, in one line (exit 2: they come from the configuration), when the view or the global cache
    cannot even be looked at (a parent that is a file, a name too long, a loop). Absent is fine."""
    for what, path in (("the global cache", global_cache), ("the view", view)):
        try:
            os.stat(path)
        except FileNotFoundError:
            pass
        except OSError as exc:
            hint = "point HF_HUB_CACHE (or HF_HOME) at a folder" if path == global_cache else "fix cache_dir"
            raise FilesystemError(path, exc, what=what, exit_code=EXIT_USAGE, hint=hint) from exc
