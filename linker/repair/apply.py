"""`repair` as a library call: under the project lock, recover interrupted migrates, plan, apply each fix, then
verify again. Every write is atomic; blob writes into the global cache hold huggingface_hub's own blob lock; a
corrupt blob is moved aside, never deleted; nothing is removed that is not restorable (markers, leftovers of
interrupted runs, links, a second hardlink name of a quarantined file). Every step that changes the disk first
passes `roots.ensure_inside`: nothing outside the view and the global cache is ever moved, renamed or deleted."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FilesystemError, HubError, LinkerError, LockTimeout, fs_boundary
from ..filelocks import blob_lock, view_lock
from ..fsutil import atomic_copy, atomic_hardlink, atomic_symlink, atomic_write_text, fsync_dir
from ..hfcache import blob_matches, offline_mode
from ..hub import UNREACHABLE, FailureKind, failure_of
from ..hub.commands import fetch_command
from ..lockfile import Lockfile
from ..problems import MISSING, Finding
from ..roots import Roots, check_usable, ensure_inside, managed_roots
from ..sync.linkmode import mode_on_disk, requested_mode
from ..sync.manifest import load_manifest
from ..verify.local import ProgressFactory, VerifyReport, verify
from ..viewguard import check_view_location, refuse_self_link
from .fixes import (
    DROP_LINK,
    DROP_NAME,
    FETCH,
    GLOBAL_LINK,
    QUARANTINE,
    RELINK,
    REMOVE_LEFTOVER,
    REMOVE_MARKER,
    RESTORE,
    VIEW_LINK,
    VIEW_REF,
    Fix,
    RepairPlan,
)
from .plan import plan_repair

DONE, SKIPPED, FAILED = "done", "skipped", "failed"


@dataclass
class Outcome:
    fix: Fix
    status: str  # done | skipped | failed
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {**self.fix.to_json(), "describe": self.fix.describe(), "status": self.status, "detail": self.detail}


@dataclass
class RepairResult:
    plan: RepairPlan
    applied: bool = False
    outcomes: list[Outcome] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # what the migrate journal recovery did
    after: VerifyReport | None = None
    hub_trouble: bool = False
    link_mode: str = ""
    unfixable: list[Finding] = field(default_factory=list)  # what failed while applying, and why

    @property
    def ok(self) -> bool:
        if self.after is not None:
            return self.after.ok
        return self.plan.before is not None and self.plan.before.ok and not self.plan.problems

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        return 3 if self.hub_trouble else 1

    def to_json(self) -> dict[str, Any]:
        before = self.plan.before
        return {
            "ok": self.ok,
            "applied": self.applied,
            "view": str(self.plan.view),
            "global_cache": str(self.plan.global_cache),
            "online": self.plan.online,
            "link_mode": self.link_mode,
            "found": [f.to_json() for f in before.findings] if before else [],
            "fixes": [o.to_json() for o in self.outcomes]
            if self.applied
            else [{**f.to_json(), "describe": f.describe(), "status": "planned"} for f in self.plan.ordered()],
            "unfixable": [p.to_json() for p in self.plan.problems + self.unfixable],
            "recovered": self.recovered,
            "notices": self.plan.notices,
            "after": self.after.to_json() if self.after else None,
        }


def repair(
    lock: Lockfile,
    global_cache: Path,
    *,
    dry_run: bool = False,
    offline: bool = False,
    hash_blobs: bool = True,
    progress: ProgressFactory | None = None,
    log: Callable[[str], None] | None = None,
    tiers: Sequence[Path] = (),
) -> RepairResult:
    """Plan the repair of the view and of the pinned data in the global cache; apply it unless `dry_run`.
    `tiers` (usable shared read-only caches) are preferred sources of view links; nothing in them is changed."""
    check_view_location(lock.view, [global_cache])
    online = not offline and not offline_mode()
    check_usable(lock.view, global_cache)

    def planning() -> RepairPlan:  # the link mode decides whether tiers can serve (symlink views only)
        mode = _link_mode(lock, global_cache)[0]
        return plan_repair(
            lock, global_cache, online=online, hash_blobs=hash_blobs, progress=progress, tiers=tiers, link_mode=mode
        )

    if dry_run:
        plan = planning()
        return RepairResult(plan, applied=False, link_mode=_link_mode(lock, global_cache)[0])
    with fs_boundary(lock.view, "cannot create the view"):
        lock.view.mkdir(parents=True, exist_ok=True)
    with view_lock(lock.view):
        recovered = _recover_journals(global_cache)
        plan = planning()
        result = RepairResult(plan, applied=True, recovered=recovered)
        _apply(result, lock, global_cache, log, tiers)
        result.after = verify(lock, global_cache, full=hash_blobs, progress=progress, tiers=tiers)
    return result


def _recover_journals(global_cache: Path) -> list[str]:
    """Resume or roll back interrupted `linker migrate` runs (imported lazily: rarely needed)."""
    from ..migrate.recover import recover

    return [str(x) for x in recover(global_cache)]


def _link_mode(lock: Lockfile, global_cache: Path) -> tuple[str, str | None]:
    """Keep the view's current link mode (what its blobs are), else the lock's or LINKER_LINK_MODE."""
    from ..sync.linkmode import resolve_mode

    recorded = load_manifest(lock.view)
    kept = recorded.link_mode if recorded.lock_link_mode == lock.link_mode else None  # as sync keeps it
    mode = os.environ.get("LINKER_LINK_MODE") or kept or mode_on_disk(lock.view) or requested_mode(None, lock.link_mode)
    try:
        return resolve_mode(mode, lock.view, global_cache)
    except ConfigError:
        return "copy", f"notice: {mode} links cannot reach {global_cache} from {lock.view}; copying blobs instead"


def _apply(
    result: RepairResult,
    lock: Lockfile,
    global_cache: Path,
    log: Callable[[str], None] | None,
    tiers: Sequence[Path] = (),
) -> None:
    moved: dict[str, str] = {}  # quarantined path -> where it went
    roots = managed_roots(lock.view, global_cache)
    relink = False
    unreachable = ""
    for fix in result.plan.ordered():
        if fix.kind == RELINK:
            relink = True
            continue
        if fix.kind == FETCH and unreachable:
            result.outcomes.append(Outcome(fix, SKIPPED, unreachable))
            result.unfixable.append(_fetch_problem(lock, fix, unreachable))
            continue
        try:
            _guard(fix, (os.path.realpath(lock.view),) if fix.kind in (VIEW_LINK, VIEW_REF) else roots)
            status, detail = _apply_one(fix, lock, global_cache, moved)
        except LinkerError as exc:
            status, detail = FAILED, exc.render()
            if fix.kind == FETCH:
                if _failure_kind(exc) == UNREACHABLE:
                    unreachable = detail
                elif isinstance(exc, HubError):
                    result.hub_trouble = True
                result.unfixable.append(_fetch_problem(lock, fix, detail))
        except OSError as exc:
            status, detail = FAILED, FilesystemError(exc.filename or fix.path, exc).render()
        result.outcomes.append(Outcome(fix, status, detail))
        if log:
            log(f"  {status}: {fix.describe()}" + (f" ({detail})" if detail else ""))
    if relink:
        result.link_mode, status, detail = _relink(lock, global_cache, tiers)
        for fix in result.plan.ordered():
            if fix.kind == RELINK:
                result.outcomes.append(Outcome(fix, status, detail))
        if log:
            log(f"  {status}: relinked the view ({result.link_mode})" + (f": {detail}" if detail else ""))
    else:
        result.link_mode = _link_mode(lock, global_cache)[0]


#: what each step does to `fix.path` (for the refusal message); QUARANTINE also creates `fix.target`
_VERBS = {
    REMOVE_MARKER: "remove",
    REMOVE_LEFTOVER: "remove",
    QUARANTINE: "quarantine",
    DROP_NAME: "remove",
    DROP_LINK: "remove",
    RESTORE: "replace",
    GLOBAL_LINK: "replace",
    VIEW_LINK: "replace",
    VIEW_REF: "replace",
}


def _guard(fix: Fix, roots: Roots) -> None:
    """The one check before any step changes the disk: the entry it moves, renames, replaces or deletes (and a
    quarantine's destination) lies inside the view or the global cache. A link inside may be replaced; what it
    points at is never touched. Raises `OutsideError`."""
    if fix.path:
        ensure_inside(fix.path, roots, _VERBS.get(fix.kind, "change"))
    if fix.kind == QUARANTINE:
        ensure_inside(fix.target, roots, "quarantine into")


def _apply_one(fix: Fix, lock: Lockfile, global_cache: Path, moved: dict[str, str]) -> tuple[str, str]:
    path = Path(fix.path)
    if fix.kind == REMOVE_MARKER:
        if os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)
        return DONE, ""
    if fix.kind == REMOVE_LEFTOVER:
        if not fix.lock:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            return DONE, ""
        try:
            with blob_lock(Path(fix.lock), timeout=0), contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        except LockTimeout:
            return SKIPPED, "a download in progress holds its blob lock"
        return DONE, ""
    if fix.kind == QUARANTINE:
        with _maybe_lock(fix.lock):
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return SKIPPED, "not a regular file (left alone)"
            dest = Path(fix.target)
            dest.parent.mkdir(parents=True, exist_ok=True)
            if os.path.lexists(dest):
                raise OSError(f"{dest} exists already")
            os.rename(path, dest)  # within one repo folder: never a copy (a copy of a device never ends)
            fsync_dir(dest.parent)
        moved[fix.path] = str(dest)
        return DONE, ""
    if fix.kind == DROP_NAME:
        kept = moved.get(fix.target)
        if kept is None:
            return SKIPPED, "the blob was not quarantined"
        a, b = os.stat(path), os.stat(kept)
        if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
            return SKIPPED, "not the same file as the quarantined one"
        os.unlink(path)
        return DONE, ""
    if fix.kind == DROP_LINK:
        with _maybe_lock(fix.lock):
            if not os.path.islink(path):
                return SKIPPED, "not a link any more"
            os.unlink(path)  # the link only: its target is left alone
        return DONE, ""
    if fix.kind == RESTORE:
        with _maybe_lock(fix.lock):
            _restore(Path(fix.target), path, fix.etag, fix.mode)
        return DONE, ""
    if fix.kind == GLOBAL_LINK:
        with _maybe_lock(fix.lock):
            refuse_self_link(str(path), fix.target)  # never a file replaced by a link to itself
            atomic_symlink(fix.target, path)
        return DONE, ""
    if fix.kind == VIEW_LINK:  # inside the view only (guarded): a link into a tier, never a write there
        refuse_self_link(str(path), fix.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_symlink(fix.target, path)
        return DONE, ""
    if fix.kind == VIEW_REF:  # inside the view only (guarded)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, fix.target)
        return DONE, ""
    if fix.kind == FETCH:
        from ..hub import repo_state
        from ..hub.fetch import fetch_entries, fetch_files

        entry = next(e for e in lock.entries if e.label == fix.repo)
        repo_state(entry.id, entry.revision, entry.type)  # one cheap request: fails fast when the Hub is down
        if fix.paths:
            fetch_files(entry.id, entry.revision, list(fix.paths), global_cache, entry.type)
        else:
            fetch_entries([entry], global_cache)
        return DONE, ""
    return SKIPPED, f"unknown fix {fix.kind}"


def _failure_kind(exc: BaseException) -> FailureKind | None:
    """The Hub failure behind a fetch error (the first one, for a FetchError listing several)."""
    failure = failure_of(exc)
    if failure is None and getattr(exc, "failures", None):
        failure = next(iter(exc.failures.values()))  # type: ignore[attr-defined]
    return failure.kind if failure is not None else None


def _fetch_problem(lock: Lockfile, fix: Fix, why: str) -> Finding:
    entry = next(e for e in lock.entries if e.label == fix.repo)
    what = f"{len(fix.paths)} file(s)" if fix.paths else f"revision {entry.revision[:12]}"
    return Finding(
        MISSING,
        fix.repo,
        ", ".join(sorted(fix.paths)[:3]) + ("…" if len(fix.paths) > 3 else ""),
        f"could not fetch {what}: {why}",
        fix=f"{fetch_command(entry, fix.paths)}, then linker repair",
        scope="global",
        revision=entry.revision,
    )


@contextlib.contextmanager
def _maybe_lock(lock: str) -> Any:
    if lock:
        with blob_lock(Path(lock)):
            yield
    else:
        yield


def _restore(source: Path, target: Path, etag: str, mode: str) -> None:
    """Put a verified copy of blob `etag` at `target` (replacing a dangling link): hardlink, else copy + hash."""
    if not stat.S_ISREG(os.stat(source).st_mode):  # swapped since it was hashed: a copy of a device never ends
        raise OSError(f"{source} is no longer a regular file")
    if mode == "hardlink":
        try:
            atomic_hardlink(source, target)
            return
        except OSError:
            pass  # another filesystem, or a file of another user (protected_hardlinks): copy
    if not atomic_copy(source, target, fsync=True, check=lambda tmp: blob_matches(tmp, etag)):
        raise OSError(f"the copy of {source} does not hash to {etag}")
    fsync_dir(target.parent)


def _relink(lock: Lockfile, global_cache: Path, tiers: Sequence[Path] = ()) -> tuple[str, str, str]:
    """Sync the view from the shared `tiers` and the (repaired) global cache, offline, keeping its link mode (no
    tiers given: those configured). We hold the view lock."""
    from ..sync import sync_locked

    mode, notice = _link_mode(lock, global_cache)
    try:
        result = sync_locked(lock, global_cache, link_mode=mode, offline=True, shared=list(tiers) or None)
    except (OSError, LinkerError) as exc:  # e.g. a file where the view needs a folder: reported, verify follows
        err = exc if isinstance(exc, LinkerError) else FilesystemError(exc.filename or lock.view, exc)
        return mode, FAILED, err.render().replace("\n", " ")
    plan = result.plan
    notes = ([notice] if notice else []) + result.warnings + [p.describe().replace("\n", " ") for p in plan.problems]
    if not plan.actions and not plan.problems:  # say only what was done: here, nothing
        return mode, SKIPPED, "; ".join([*notes, "the view already matched the lock; nothing was written"])
    return mode, (FAILED if plan.problems else DONE), "; ".join(notes)
