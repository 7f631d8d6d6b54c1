"""Running a cache move: find an interrupted one or plan anew, journal, rename or copy, relink the views, delete
the old copy, close the journal. Every step reads the disk first, so a rerun after a kill converges."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import fs_boundary
from ..filelocks import file_lock
from ..fsutil import atomic_symlink, fsync_dir
from ..hfcache import gc_lock_path, migrate_lock_path, repo_folders
from . import journal
from .copy import copy_all, delete_old
from .plan import COPY, RENAME, MovePlan, check_not_in_tiers, check_target, plan_move
from .relink import Relinked, project_tiers, relink_projects


@dataclass
class MoveResult:
    plan: MovePlan | None  # None: there was nothing to move (the cache is already at NEW_PATH)
    dry_run: bool = False
    resumed: bool = False
    copied: int = 0  # bytes copied (a copy move)
    relinked: list[Relinked] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # what stayed in the old cache (written there during the move)

    @property
    def failed(self) -> bool:
        return bool(self.left) or any(not r.ok for r in self.relinked)

    def to_json(self) -> dict[str, object]:
        plan = self.plan
        return {
            "old": plan.old if plan else None,
            "new": plan.new if plan else None,
            "mode": plan.mode if plan else None,
            "dry_run": self.dry_run,
            "resumed": self.resumed,
            "files": sum(1 for i in plan.items if i.kind == "file") if plan else 0,
            "bytes": plan.bytes if plan else 0,
            "bytes_copied": self.copied,
            "links_rewritten": [i.rel for i in plan.fixes] if plan else [],
            "relinked": [r.to_json() for r in self.relinked],
            "warnings": self.warnings,
            "left_in_old_cache": self.left,
        }


@contextlib.contextmanager
def _cache_locks(cache: Path) -> Iterator[None]:
    """No `linker gc` nor `linker migrate` may change the cache while it moves."""
    with (
        file_lock(gc_lock_path(cache), what="gc lock", boundary=True),
        file_lock(migrate_lock_path(cache), what="migrate lock", boundary=True),
    ):
        yield


def move_cache(
    old: Path,
    new: Path,
    *,
    dry_run: bool = False,
    log: Callable[[str], None] | None = None,
    shared: Sequence[Path] | None = None,
    tiers: Sequence[Path] = (),
) -> MoveResult:
    """Move the global cache `old` to `new` (or finish an interrupted move into `new`); views are relinked with the
    shared tiers `shared` (None: as each project configures them). `new` may not lie in any of `tiers` (nor
    `shared`): a shared tier is never written."""
    old, new = old.absolute(), new.absolute()
    say = log or (lambda _line: None)
    check_not_in_tiers(new, [*tiers, *(shared or ()), *project_tiers(old)])
    plan = journal.pending(old, new)
    if plan is None and not old.exists() and _is_cache(new) and os.path.realpath(old) != os.path.realpath(new):
        return MoveResult(None, dry_run, relinked=[] if dry_run else relink_projects(new, shared))  # done before
    if plan is None:
        if os.path.realpath(old) == os.path.realpath(new):
            check_target(old, new)  # refuses: the same folder
        plan = plan_move(old, new)
        resumed = False
    else:
        resumed = True
        say(f"resuming the interrupted move of {plan.old} to {plan.new}")
    if dry_run:
        return MoveResult(plan, True, resumed)
    locked = Path(plan.old) if Path(plan.old).is_dir() else Path(plan.new)
    with _cache_locks(locked):
        for cache in (Path(plan.old), Path(plan.new)):
            journal.drop_temps(cache)
        if not resumed:
            plan = plan_move(old, new)  # again, under the locks
            journal.write(old, plan)  # before anything moves
        return _apply(plan, resumed, say, shared)


def _is_cache(path: Path) -> bool:
    """A folder huggingface_hub made a cache of (its tag, or a repo folder): a finished move's NEW_PATH."""
    return (path / "CACHEDIR.TAG").is_file() or next(repo_folders(path), None) is not None


def _apply(plan: MovePlan, resumed: bool, say: Callable[[str], None], shared: Sequence[Path] | None) -> MoveResult:
    old, new = Path(plan.old), Path(plan.new)
    result = MoveResult(plan, resumed=resumed)
    if plan.mode == RENAME and old.is_dir():
        with fs_boundary(new, "cannot move the cache to"):
            new.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.rename(old, new)
                fsync_dir(new.parent)
                fsync_dir(old.parent)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EBUSY):  # EBUSY: a mount point
                    raise
                plan.mode = COPY  # another filesystem after all (a bind mount): copy instead
                journal.write(old, plan)
    if plan.mode == RENAME:
        for item in plan.fixes:  # links that would dangle: rewritten (a rerun writes the same target again)
            atomic_symlink(item.target, new / item.rel)
    else:
        if not plan.copied:
            with fs_boundary(new, "cannot copy the cache to"):
                new.mkdir(parents=True, exist_ok=True)
                journal.write(new, plan)  # before the first copied byte
                say(f"copying {plan.old} to {plan.new}, verifying every file")
                result.copied, result.warnings = copy_all(plan)
            plan.copied = True
            journal.write(new, plan)  # the old copy may go from here on
    result.relinked = relink_projects(new, shared, old)
    if plan.mode == COPY:
        with fs_boundary(old, "cannot delete the old copy of the cache in"):
            result.left = delete_old(plan)
    journal.remove(new)
    return result
