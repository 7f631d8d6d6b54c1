"""Shared read-only cache tiers: HF caches filled by someone else (admins, a CI image, a FUSE mount) that sync
links from before it downloads anything into the writable global cache. linker never writes a tier: no blob, no
ref, no lock file.

Where they come from, first found wins: `--shared-cache PATH` (repeatable), else `LINKER_SHARED_CACHES` (paths
separated by `os.pathsep`; set but empty means none), else the lockfile's `shared_caches:` (relative paths are
taken from the lockfile's folder). Within a source, tiers are consulted in the order given.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from .lockfile import Lockfile

ENV: Final = "LINKER_SHARED_CACHES"
FROM_OPTION: Final = "--shared-cache"
FROM_LOCK: Final = "shared_caches"


@dataclass(frozen=True)
class Tier:
    """One shared cache, as configured (`path` absolute, `~` and `$VARS` expanded) and where it was named."""

    path: Path
    source: str  # --shared-cache | LINKER_SHARED_CACHES | shared_caches

    @property
    def readable(self) -> bool:
        return os.path.isdir(self.path) and os.access(self.path, os.R_OK | os.X_OK)

    def to_json(self) -> dict[str, str]:
        return {"path": str(self.path), "source": self.source}


def _expand(raw: str, base: Path | None = None) -> Path:
    path = Path(os.path.expandvars(os.path.expanduser(raw)))
    return (base / path if base is not None and not path.is_absolute() else path).absolute()


def configured(option: Sequence[str] = (), lock: Lockfile | None = None) -> list[tuple[Path, str]]:
    """The tiers as named, before de-duplication: the first source that names any (see the module docstring)."""
    if option:
        return [(_expand(p), FROM_OPTION) for p in option]
    env = os.environ.get(ENV)
    if env is not None:
        return [(_expand(p), ENV) for p in env.split(os.pathsep) if p.strip()]
    if lock is not None:
        return [(p, FROM_LOCK) for p in lock_tiers(lock)]
    return []


def lock_tiers(lock: Lockfile) -> list[Path]:
    """The tiers the lock's `shared_caches:` names (relative paths from the lockfile's folder)."""
    return [_expand(p, lock.root) for p in lock.shared_caches]


def shared_tiers(
    option: Sequence[str] = (), lock: Lockfile | None = None, global_cache: Path | None = None
) -> list[Tier]:
    """The shared tiers in the order to consult them: each real folder once, never the writable `global_cache`
    itself (a tier named twice, or naming the writable cache, is simply that cache). Absent or unreadable tiers
    stay in the list: `doctor` reports them, sync and verify skip them (`usable`)."""
    seen = {os.path.realpath(global_cache)} if global_cache is not None else set()
    tiers: list[Tier] = []
    for path, source in configured(option, lock):
        real = os.path.realpath(path)
        if real in seen:
            continue
        seen.add(real)
        tiers.append(Tier(path, source))
    return tiers


def usable(tiers: Sequence[Tier]) -> list[Path]:
    """The tiers that can be read now, as paths, in order."""
    return [t.path for t in tiers if t.readable]


def skipped_notice(tier: Tier) -> str:
    """The one line every command says about a configured tier it cannot read now (unmounted, removed)."""
    return f"notice: shared cache {tier.path} (from {tier.source}) is absent or unreadable; skipped"


def usable_noting(tiers: Sequence[Tier], log: Callable[[str], None]) -> list[Path]:
    """`usable(tiers)`, saying `skipped_notice` through `log` for each tier left out."""
    for t in tiers:
        if not t.readable:
            log(skipped_notice(t))
    return usable(tiers)


def view_tiers(
    view: Path, global_cache: Path, tiers: Sequence[Path], log: Callable[[str], None], skip: Collection[str] = ()
) -> list[Path]:
    """The readable caches the view still links into as shared tiers (no project ref of it there: see
    `was_shared_tier`) that neither `global_cache` nor `tiers` name, each said once through `log`: repair keeps
    the view's links into them rather than download what they hold, verify advises naming them. Repo folders in
    `skip` are not looked at (verify's: those its stamps prove still linked as synced from these caches)."""
    from .hfcache.linked import keep_using, linked_caches, was_shared_tier

    known = {os.path.realpath(p) for p in (global_cache, *tiers)}
    found: list[Path] = []
    for c in linked_caches(view, skip):
        if os.path.realpath(c) in known or not Tier(c, "").readable or not was_shared_tier(view, c):
            continue
        known.add(os.path.realpath(c))
        found.append(c)
        log(f"note: the view links into the shared cache {c}, which is not configured now; {keep_using(view, c)}")
    return found


def _inside(path: Path, root: Path) -> bool:
    p, r = os.path.realpath(path), os.path.realpath(root)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def tier_overlapping(path: Path, tiers: Sequence[Tier]) -> Tier | None:
    """The first tier that `path` lies in or holds (real paths compared), or None."""
    return next((t for t in tiers if _inside(path, t.path) or _inside(t.path, path)), None)
