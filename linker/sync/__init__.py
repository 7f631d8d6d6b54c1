"""`sync` as a library call: plan under the project lock, fetch what is missing, link, record.

Shared read-only tiers (linker/tiers.py) are consulted before the global cache: `shared=None` takes them as
configured (LINKER_SHARED_CACHES, else the lock's `shared_caches:`), a sequence names exactly those. What no tier
holds is downloaded into the global cache only; a tier is never written.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..errors import EXIT_FAILED, EXIT_HUB, EXIT_OK, EXIT_USAGE, ConfigError, check_folder, fs_boundary
from ..filelocks import view_lock
from ..hashcheck import VerifiedBlobs
from ..hfcache import offline_mode
from ..hfcache.linked import former_cache, former_cache_notice
from ..lockfile import Entry, Lockfile
from ..policy import check_lock
from ..tiers import Tier
from ..viewguard import check_view_location
from .apply import Progress, apply_sync
from .desired import Want
from .diff import SyncOptions, plan_sync
from .fastpath import recorded_files
from .hashes import HashReport, verify_planned
from .linkmode import mode_on_disk, requested_mode, resolve_mode
from .manifest import Manifest, load_manifest, save_manifest
from .plan import FETCH, Plan, SyncPlan
from .tiered import TierSet, outside_notices, resolve_tiers
from .writers import wait_for_writers

HARDLINK_NO_TIERS = (
    "notice: a hardlink view links nothing from the shared caches (a hardlink would change a tier's files); "
    "use --link-mode symlink or copy to use them"
)


@dataclass
class SyncResult:
    plan: Plan
    applied: bool = False
    link_mode: str = "symlink"
    warnings: list[str] = field(default_factory=list)
    fetched: list[str] = field(default_factory=list)
    hub_error: str | None = None  # the Hub refused a download (exit 3); everything else was still linked
    hashes: HashReport = field(default_factory=HashReport)  # hash checks: downloads, and with --verify-hashes all

    @property
    def in_sync(self) -> bool:
        return self.plan.empty and not self.plan.problems

    def exit_code(self, check: bool = False) -> int:
        """3 when the Hub refused a download; else 1 when something is missing or in the way (`check`: also
        when anything would change); else 0."""
        if self.hub_error:
            return EXIT_HUB
        if check:
            return EXIT_FAILED if (self.plan.actions or self.plan.problems) else EXIT_OK
        return EXIT_FAILED if (self.plan.problems or self.hashes.mismatches) else EXIT_OK


def compute_plan(
    lock: Lockfile,
    global_cache: Path,
    *,
    link_mode: str | None = None,
    force: bool = False,
    offline: bool = False,
    manifest: Manifest | None = None,
    former_notice: bool = True,
    shared: Sequence[Path | Tier] | TierSet | None = None,
    bad_tier_blobs: frozenset[tuple[int, int]] = frozenset(),
) -> SyncPlan:
    """The sync plan: its actions, the per-entry records it would leave in the manifest, the manifest it was
    computed against (read from the view unless given) and the link mode in effect. `shared`: the shared tiers
    (see the module docstring); `bad_tier_blobs`: (inode, device) of tier blobs not to link (a failed hash)."""
    tiers = shared if isinstance(shared, TierSet) else resolve_tiers(lock, global_cache, shared)
    check_view_location(lock.view, [global_cache, *tiers.configured])  # never plan links of a cache onto itself
    manifest = manifest or load_manifest(lock.view)
    mode, notice = _view_mode(lock, global_cache, link_mode, manifest)
    can_fetch = not offline and not offline_mode()
    usable = tiers.usable if mode != "hardlink" else []  # a hardlink into a tier would change its files (link count)
    opts = SyncOptions(global_cache, mode, force, can_fetch, tuple(usable), bad_tier_blobs)
    planned = plan_sync(lock, manifest, opts)
    if notice:
        planned.plan.notices.insert(0, notice)
    if former_notice and (old := former_cache(lock.view, global_cache, tiers.usable, planned.linked_here())):
        planned.plan.notices.insert(0, former_cache_notice(old, global_cache, lock.view))
    if len(usable) < len(tiers.usable):
        planned.plan.notices.insert(0, HARDLINK_NO_TIERS)
    planned.plan.notices.extend(outside_notices(planned))
    planned.plan.notices[:0] = tiers.notices
    return planned


def _view_mode(lock: Lockfile, global_cache: Path, link_mode: str | None, manifest: Manifest) -> tuple[str, str | None]:
    """The link mode in effect (see `requested_mode`), and a notice worth one line. A kept hardlink mode that
    cannot reach this global cache (the view moved to another filesystem) keeps the blobs as copies instead."""
    recorded = (manifest.link_mode, manifest.lock_link_mode)
    if manifest.link_mode is None and manifest.repos:  # synced before the mode was recorded: what its blobs show
        recorded = (mode_on_disk(lock.view), lock.link_mode)
    wanted = requested_mode(link_mode, lock.link_mode, recorded)
    explicit = link_mode or os.environ.get("LINKER_LINK_MODE") or recorded[0] != wanted
    try:
        return resolve_mode(wanted, lock.view, global_cache)
    except ConfigError:
        if explicit:
            raise
        return "copy", f"notice: the view's hardlinks cannot reach {global_cache} (another filesystem); kept as copies"


def sync(
    lock: Lockfile,
    global_cache: Path,
    *,
    link_mode: str | None = None,
    force: bool = False,
    offline: bool = False,
    dry_run: bool = False,
    verify_hashes: bool = False,
    require_hashes: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    shared: Sequence[Path | Tier] | None = None,
) -> SyncResult:
    """Make the view match the lock. With `dry_run`, only compute (and return) the plan. `verify_hashes` (or the
    lock's `verify_hashes: true`) hashes every blob linked; `require_hashes` (or `require_hashes: true`) refuses
    an entry without `files` (exit 2). `shared`: the shared read-only tiers (None: as configured, see the module
    docstring); a view inside one of them is refused (exit 2)."""
    tiers = resolve_tiers(lock, global_cache, shared)
    check_view_location(lock.view, [global_cache, *tiers.configured])  # before anything, even a dry run
    if require_hashes or lock.require_hashes:
        check_hashes_pinned(lock)
    manifest = load_manifest(lock.view)  # its records that match their entry list their files: no trees read
    recorded = recorded_files(manifest, lock.entries, global_cache, tiers.usable)
    check_lock(lock, global_cache, log=log, tiers=tiers.usable, recorded=recorded)  # the policy, before any fetch
    if dry_run:
        planned = compute_plan(lock, global_cache, link_mode=link_mode, force=force, offline=offline,
                               manifest=manifest, shared=tiers)  # fmt: skip
        return SyncResult(planned.plan, applied=False, link_mode=planned.link_mode)
    check_folder(lock.view, "the view", hint=f"`cache_dir` in {lock.path} must name a folder")
    with fs_boundary(lock.view, "cannot create the view", wrong_kind_exit=EXIT_USAGE):
        lock.view.mkdir(parents=True, exist_ok=True)
    with view_lock(lock.view):
        return sync_locked(
            lock, global_cache, link_mode=link_mode, force=force, offline=offline, progress=progress, log=log,
            verify_hashes=verify_hashes or lock.verify_hashes, shared=tiers,
        )  # fmt: skip


def sync_locked(
    lock: Lockfile,
    global_cache: Path,
    *,
    link_mode: str | None = None,
    force: bool = False,
    offline: bool = False,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
    verify_hashes: bool = False,
    shared: Sequence[Path | Tier] | TierSet | None = None,
) -> SyncResult:
    """Plan, fetch what is missing (hashed as it arrives), re-plan, hash what is linked (`verify_hashes`), apply:
    the body of `sync`, for callers already holding the view lock. `shared`: see the module docstring."""
    tiers = shared if isinstance(shared, TierSet) else resolve_tiers(lock, global_cache, shared)
    manifest = load_manifest(lock.view)  # read once: planned against, then rewritten by apply_sync
    waited = wait_for_writers(lock.entries, global_cache, tiers.usable)  # a half-written snapshot is finished first
    old_cache = former_cache(lock.view, global_cache, tiers.usable)  # the view still links into another global cache
    planned = compute_plan(lock, global_cache, link_mode=link_mode, force=force, offline=offline, manifest=manifest,
                           former_notice=False, shared=tiers)  # fmt: skip
    fetched: list[str] = []
    fetch_error = None
    fetches = [a for a in planned.plan.actions if a.kind == FETCH]
    said = False
    if fetches and log is not None and old_cache is not None:  # said before anything is downloaded
        log(former_cache_notice(old_cache, global_cache, lock.view))
        said = True
    if fetches:
        from ..hub.fetch import FetchError, fetch_entries  # heavy import, only when something must be downloaded

        wants = {ep.entry.label: ep for ep in planned.entry_plans}
        try:
            fetched = fetch_entries([_to_fetch(wants[a.repo].entry, wants[a.repo].want) for a in fetches],
                                    global_cache, log=log)  # fmt: skip
        except FetchError as exc:  # link everything else first; what is missing is listed with its fix
            fetched, fetch_error = exc.fetched, exc
        check_lock(lock, global_cache, tiers=tiers.usable)  # what was just downloaded is read before it is linked
        planned = compute_plan(lock, global_cache, link_mode=link_mode, force=force, offline=True, manifest=manifest,
                               former_notice=False, shared=tiers)  # fmt: skip
        if fetch_error is not None and fetch_error.exit_code != EXIT_HUB:
            planned.plan.notices.extend(fetch_error.notices)  # a refusal is reported once, as the final error
    hashes = HashReport(mismatches=list(fetch_error.mismatches) if fetch_error is not None else [])
    if verify_hashes:
        checked = verify_planned(planned, lock.view, manifest.verified, tiers=tiers.usable)
        hashes = HashReport(True, checked.hashed_files, checked.hashed_bytes, checked.remembered,
                            hashes.mismatches + checked.mismatches)  # fmt: skip
        if checked.mismatches:  # quarantined (a tier's: left as it is, and skipped): plan again without them
            planned = compute_plan(lock, global_cache, link_mode=link_mode, force=force, offline=True,
                                   manifest=manifest, former_notice=False, shared=tiers,
                                   bad_tier_blobs=frozenset(checked.bad_tier_blobs))  # fmt: skip
    planned.plan.notices.extend(waited)
    if old_cache is not None and not said:
        planned.plan.notices.insert(0, former_cache_notice(old_cache, global_cache, lock.view))
    with fs_boundary(lock.view, "cannot write the view"):  # a full disk, a read-only view: one line, exit 1
        warnings = apply_sync(planned, progress=progress)
        if manifest.verified.changed:  # apply wrote no manifest when nothing else changed
            remember_verified(lock.view, manifest.verified)
    result = SyncResult(planned.plan, applied=True, link_mode=planned.link_mode, warnings=warnings, fetched=fetched,
                        hashes=hashes)  # fmt: skip
    if fetch_error is not None and fetch_error.exit_code == EXIT_HUB:
        result.hub_error = fetch_error.render()  # the Hub refused us (token, gate, rate limit, server error): exit 3
    return result


def _to_fetch(entry: Entry, want: Want | None) -> Entry:
    """The entry as handed to the download: when shared tiers serve some of its files, narrowed (`include`) to
    exactly the files missing, so nothing a tier already holds is downloaded (a pin may be split)."""
    if want is None or not want.tiers or "*" in want.missing:
        return entry
    missing = sorted(p for p, why in want.missing.items() if not why.disagrees)
    return replace(entry, include=tuple(glob.escape(p) for p in missing))


def check_hashes_pinned(lock: Lockfile) -> None:
    """`--require-hashes`, as in pip: every entry must carry `files` (each file's size and hash)."""
    bare = [e.label for e in lock.entries if e.files is None]
    if bare:
        more = f" (+{len(bare) - 1} more)" if len(bare) > 1 else ""
        raise ConfigError(
            f"hashes are required, but {bare[0]}{more} has no `files` in {lock.path.name}",
            hint="`linker lock` records every file's size and hash",
        )


def remember_verified(view: Path, verified: VerifiedBlobs) -> None:
    """Write the memory of verified blobs into the view's manifest, when the manifest on disk lacks it."""
    current = load_manifest(view)
    if current.verified.data != verified.data:
        current.verified = verified
        save_manifest(current)
