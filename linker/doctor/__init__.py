"""`linker doctor`: the environment in effect, and what in it would make a project load the wrong thing.

Each check is a small function returning `Check`s, each finding that is not "ok" or "info" with its fix:
environment.py (variables), disk.py (permissions, free space, an interrupted migrate), project.py (the view,
links, folders that shadow a pinned id), tiers.py (the shared read-only tiers, their filesystems).
Nothing here imports huggingface_hub or touches the network; the only writes are probe files (removed again) in
the view's folder and under the global cache's `.locks/`, which `scan_cache_dir` skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import LinkerError
from ..globalcache import choose_global_cache
from ..lockfile import Lockfile
from ..tiers import shared_tiers
from .datasets import dataset_cache_checks
from .disk import free_space_checks, interrupted_migrate_checks, permission_checks
from .environment import (
    global_cache_check,
    library_cache_checks,
    offline_checks,
    token_checks,
    view_source_checks,
)
from .project import link_checks, shadowing_checks, view_is_global_checks
from .report import FAIL, INFO, OK, Check, DoctorReport
from .tiers import tier_checks, unprotected_checks
from .viewcache import former_cache_checks


def diagnose(
    cache_dir: str | None, load_lock: Any, cwd: Path | None = None, shared: Sequence[str] = ()
) -> DoctorReport:
    """Run every check. `load_lock()` returns the Lockfile or raises (no lockfile: project checks are skipped).
    `shared` is the `--shared-cache` option (linker/tiers.py says where else tiers come from)."""
    cwd = cwd or Path.cwd()
    lock: Lockfile | None = None
    lock_check: Check
    try:
        lock = load_lock()
        lock_check = Check("lockfile", OK, f"{lock.path}: {len(lock.entries)} pinned, view {lock.view}")
    except LinkerError as exc:
        if "no project_cache.yaml" in exc.message:
            lock_check = Check(
                "lockfile", INFO, "no project_cache.yaml here or in a parent folder: project checks skipped"
            )
        else:
            lock_check = Check(
                "lockfile", FAIL, exc.render().replace("\n", " "), fix="fix the lockfile (see the message)"
            )
    chosen = choose_global_cache(cache_dir, lock.view if lock else None)
    global_cache, source = chosen.path, chosen.source
    report = DoctorReport(global_cache, source, lock.path if lock else None, lock.view if lock else None)
    checks = report.checks
    checks.append(global_cache_check(global_cache, source))
    checks.extend(view_source_checks(chosen))
    checks.append(lock_check)
    checks.extend(offline_checks())
    checks.extend(token_checks())
    checks.extend(library_cache_checks(global_cache, lock))
    checks.extend(permission_checks(global_cache, lock))
    checks.extend(free_space_checks(global_cache, lock))
    checks.extend(interrupted_migrate_checks(global_cache))
    report.tiers, tier_found = tier_checks(shared_tiers(shared, lock, global_cache))
    checks.extend(tier_found)
    if lock is not None:
        checks.extend(unprotected_checks(lock, report.tiers))
        checks.extend(view_is_global_checks(global_cache, lock))
        checks.extend(link_checks(global_cache, lock))
        checks.extend(former_cache_checks(global_cache, lock, [t.path for t in report.tiers if t.readable]))
        checks.extend(shadowing_checks(lock, cwd))
        checks.extend(dataset_cache_checks(lock))
    return report
