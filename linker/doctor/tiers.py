"""Doctor's view of the shared read-only tiers (linker/tiers.py): for each, where it was named, whether it can be
read, whether it is read-only (judged without writing: a read-only mount, `chattr +i`, or no write permission),
its filesystem type, and on network or FUSE filesystems a note that advisory locks may be no-ops there."""

from __future__ import annotations

import array
import fcntl
import os
from collections.abc import Sequence
from pathlib import Path

from ..fstype import fs_type, locks_may_be_noops
from ..hfcache import BLOBS, CacheRepo
from ..lockfile import Lockfile
from ..tiers import Tier
from .report import INFO, WARN, Check, TierState

_FS_IOC_GETFLAGS = 0x80086601  # linux/fs.h, as lsattr reads it
_FS_IMMUTABLE_FL = 0x10


def _immutable(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        buf = array.array("l", [0])
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buf)
        return bool(buf[0] & _FS_IMMUTABLE_FL)
    except OSError:
        return False
    finally:
        os.close(fd)


def read_only_why(path: Path) -> str:
    """Why linker (or anyone running as you) cannot write into `path`, judged without writing; "" if it can."""
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return "read-only mount"
    except OSError:
        return ""
    if _immutable(path):
        return "immutable (chattr +i)"
    if not os.access(path, os.W_OK):
        return "not writable by you"
    return ""


def tier_state(tier: Tier, mountinfo: str | None = None) -> TierState:
    path = tier.path
    if not os.path.lexists(path):
        problem = "does not exist"
    elif not os.path.isdir(path):
        problem = "is not a folder"
    elif not tier.readable:
        problem = "cannot be read by you"
    else:
        problem = ""
    kind = fs_type(path, mountinfo) if not problem else None
    ro = read_only_why(path) if not problem else ""
    return TierState(path, tier.source, not problem, ro, kind, locks_may_be_noops(kind), problem)


def tier_checks(tiers: Sequence[Tier], mountinfo: str | None = None) -> tuple[list[TierState], list[Check]]:
    """One check per tier (a warning when it cannot be used), plus a note for network and FUSE filesystems."""
    states, checks = [], []
    for n, tier in enumerate(tiers, 1):
        st = tier_state(tier, mountinfo)
        states.append(st)
        name = f"shared-cache {n}"
        if st.problem:
            fix = f"mount it, or drop it from {tier.source}"
            checks.append(Check(name, WARN, f"{st.path} (from {st.source}) {st.problem}: it is skipped", fix=fix))
            continue
        ro = f"read-only ({st.read_only})" if st.read_only else "writable by you (linker never writes it)"
        checks.append(Check(name, INFO, f"{st.path} (from {st.source}): readable, {ro}, {st.fs_type or '?'}"))
        if st.locks_may_be_noops:
            checks.append(
                Check(
                    name,
                    INFO,
                    f"{st.path} is on {st.fs_type}: advisory locks (flock) may be no-ops there; linker's own locks "
                    "on such filesystems are lock files (LINKER_LOCK_KIND)",
                )
            )
    return states, checks


def unprotected_checks(lock: Lockfile, states: Sequence[TierState]) -> list[Check]:
    """Per usable tier, the pinned entries whose every view blob links into it: no ref of this user protects
    that data from being pruned (the tier's owners decide)."""
    reals = {os.path.realpath(s.path).rstrip(os.sep) + os.sep: s.path for s in states if s.readable}
    if not reals:
        return []
    counts: dict[Path, int] = {}
    for entry in lock.entries:
        blobs = CacheRepo(lock.view, entry.id, entry.type).path / BLOBS
        try:
            targets = [os.path.realpath(e.path) for e in os.scandir(blobs)]
        except OSError:
            continue
        served = {next((t for r, t in reals.items() if real.startswith(r)), None) for real in targets}
        if len(served) == 1 and (tier := served.pop()) is not None:
            counts[tier] = counts.get(tier, 0) + 1
    out = []
    for tier, n in counts.items():
        what = f"{n} entr{'y' if n == 1 else 'ies'}"
        summary = f"pinned data in {tier} ({what}) is protected by no ref of yours: the tier's owners decide pruning"
        out.append(Check("shared-cache refs", INFO, summary))
    return out
