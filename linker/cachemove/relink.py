"""Relinking the views after a move: every project the record of projects knows (`<cache>/.locks/linker/projects/`,
written by sync, read by `linker gc`) whose lockfile and view still exist is synced, offline, against the new cache
with sync's own library: one code path for what a view's links should be."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LinkerError
from ..hfcache import LINKER_REFS, project_record_path
from ..projects import read_owner

if TYPE_CHECKING:
    from ..lockfile import Lockfile


@dataclass(frozen=True)
class Relinked:
    lockfile: str
    view: str
    ok: bool
    message: str = ""  # why it failed, or the sync's problems

    def to_json(self) -> dict[str, object]:
        return {"lockfile": self.lockfile, "view": self.view, "ok": self.ok, "message": self.message}


def known_projects(cache: Path) -> list[tuple[str, str]]:
    """(lockfile, view) of every recorded project whose lockfile and view both still exist, once each."""
    records = project_record_path(cache, f"{LINKER_REFS}/x").parent
    try:
        names = sorted(p.stem for p in records.glob("*.json"))
    except OSError:
        return []
    out: list[tuple[str, str]] = []
    for name in names:
        owner = read_owner(cache, f"{LINKER_REFS}/{name}")
        alive = owner and os.path.isfile(owner.lockfile) and os.path.isdir(owner.view)
        if owner and alive and (owner.lockfile, owner.view) not in out:
            out.append((owner.lockfile, owner.view))
    return out


def _view_tiers(lock: Lockfile, cache: Path, old: Path | None) -> list[Path]:
    """The tiers a project configures (LINKER_SHARED_CACHES or its lock's `shared_caches:`), then those its view
    still links into as tiers though this shell does not name them (see `was_shared_tier`): the move keeps
    those links rather than failing the relink for want of a download."""
    from ..hfcache.linked import linked_caches, was_shared_tier
    from ..tiers import shared_tiers

    tiers = [t.path for t in shared_tiers((), lock, cache)]
    skip = {os.path.realpath(p) for p in (cache, *([old] if old else []), *tiers)}
    for c in linked_caches(lock.view):
        if os.path.realpath(c) not in skip and c.is_dir() and was_shared_tier(lock.view, c):
            tiers.append(c)
            skip.add(os.path.realpath(c))
    return tiers


def project_tiers(cache: Path) -> list[Path]:
    """The shared tiers every known project's lock names (`shared_caches:`), for the checks of a move."""
    from ..lockfile import load_lockfile
    from ..tiers import lock_tiers

    out: list[Path] = []
    for lockfile, _view in known_projects(cache):
        try:
            lock = load_lockfile(Path(lockfile))
        except LinkerError:
            continue
        out += lock_tiers(lock)
    return out


def relink_projects(cache: Path, shared: Sequence[Path] | None = None, old: Path | None = None) -> list[Relinked]:
    """Sync each known project's view offline against `cache`, consulting the shared tiers first (`shared`, else
    as each project configures them, plus the tiers its view links into: `_view_tiers`), so the links a view has
    into a tier are kept. `old`: the cache moved from, never taken for a tier."""
    from ..lockfile import load_lockfile, require_resolved
    from ..sync import sync

    out = []
    for lockfile, view in known_projects(cache):
        try:
            lock = require_resolved(load_lockfile(Path(lockfile)))
            if os.path.realpath(lock.view) != view:
                continue  # the project's cache_dir changed since: that view is not its view any more
            tiers = shared if shared is not None else _view_tiers(lock, cache, old)
            result = sync(lock, cache, offline=True, shared=tiers)
            problems = "; ".join(p.describe() for p in result.plan.problems[:3]) if result.plan.problems else ""
            out.append(Relinked(lockfile, view, not problems, problems))
        except LinkerError as exc:
            out.append(Relinked(lockfile, view, False, exc.message))
    return out
