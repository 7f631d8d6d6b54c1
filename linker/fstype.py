"""The filesystem type a path lives on (from /proc/self/mountinfo), and which types are network or FUSE
filesystems where advisory locks (`flock`) may silently do nothing: NFS, Lustre, GPFS, CIFS/SMB, FUSE, 9p.

`LINKER_LOCK_KIND` (auto | flock | soft) overrides the detection for linker's own locks: `soft` is a lock file
created exclusively (filelock's SoftFileLock), which works wherever creating a file is atomic."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from .errors import warn_once

MOUNTINFO: Final = "/proc/self/mountinfo"
LOCK_KIND_ENV: Final = "LINKER_LOCK_KIND"
LockKind = Literal["auto", "flock", "soft"]
#: filesystem types where flock may be a no-op or local to one client (fuse.* and fuseblk match "fuse")
NETWORK_TYPES: Final = ("nfs", "nfs4", "lustre", "gpfs", "cifs", "smb3", "smbfs", "9p", "ceph", "beegfs")


@dataclass(frozen=True)
class Mount:
    point: str
    fstype: str
    source: str
    options: str  # the mount's own options (rw/ro, ...)


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (`\\040`)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of a mountinfo text, in order (a later mount on the same point shadows an earlier one).
    Lines that do not parse are skipped."""
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 6 or len(tail) < 2:
            continue
        mounts.append(Mount(_unescape(fields[4]), tail[0], _unescape(tail[1]), fields[5]))
    return mounts


def mount_of(path: str | os.PathLike[str], text: str | None = None) -> Mount | None:
    """The mount holding `path` (its real path, or that of its nearest existing parent): the longest mount point
    that is a prefix of it, the last such line winning. `text` is a mountinfo text (default: this process's)."""
    if text is None:
        try:
            text = Path(MOUNTINFO).read_text(errors="replace")
        except OSError:
            return None
    real = os.path.realpath(path)
    best: Mount | None = None
    length = -1
    for m in parse_mountinfo(text):
        point = m.point.rstrip("/") or "/"
        inside = real == point or point == "/" or real.startswith(point + "/")
        if inside and len(point) >= length:
            best, length = m, len(point)
    return best


def fs_type(path: str | os.PathLike[str], text: str | None = None) -> str | None:
    """The filesystem type of the mount holding `path` ("ext4", "nfs4", "fuse.sshfs"...), or None if unknown."""
    m = mount_of(path, text)
    return m.fstype if m is not None else None


def locks_may_be_noops(fstype: str | None) -> bool:
    """Whether advisory locks may be no-ops (or local to one client) on this filesystem type."""
    if not fstype:
        return False
    return fstype in NETWORK_TYPES or fstype.startswith("fuse") or fstype.split(".")[0] in NETWORK_TYPES


def lock_kind() -> LockKind:
    """`LINKER_LOCK_KIND`: auto (default), flock or soft; another value is reported once and auto used."""
    raw = os.environ.get(LOCK_KIND_ENV, "").strip().lower()
    if raw in ("", "auto"):
        return "auto"
    if raw in ("flock", "soft"):
        return raw  # type: ignore[return-value]
    warn_once(LOCK_KIND_ENV, f"{LOCK_KIND_ENV}={raw!r} is not auto, flock or soft; using auto")
    return "auto"


def wants_soft_lock(folder: str | os.PathLike[str], text: str | None = None) -> bool:
    """Whether linker's own lock in `folder` should be a soft lock: LINKER_LOCK_KIND=soft, or auto and `folder`
    is on a filesystem where flock may be a no-op."""
    kind = lock_kind()
    if kind != "auto":
        return kind == "soft"
    return locks_may_be_noops(fs_type(folder, text))
