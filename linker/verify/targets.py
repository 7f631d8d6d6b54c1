"""What a pinned file resolves to, when it is not a blob of the view or the global cache: a device, a FIFO, a
socket (never opened: /dev/zero never ends, a FIFO blocks) or a wrong file outside both caches (never moved).
Both are reported with a typed kind; repair relinks the link and leaves its target alone."""

from __future__ import annotations

import os

from ..hashpool import Digest, NotRegularFile, file_type
from ..hfcache import etag_kind
from ..problems import CORRUPT, GLOBAL, NOT_REGULAR, OUTSIDE, Finding, FindingKind
from ..roots import Roots, resolves_inside


def not_regular_detail(p: str, what: str) -> str:
    return f"resolves to {os.path.realpath(p)}, a {what}, not a regular file (never opened); `linker repair` relinks it"


def outside_detail(real: str, why: str) -> str:
    return (
        f"resolves to {real}, outside the view and the global cache, and {why}: that file is left alone; "
        "`linker repair` relinks it"
    )


def judge_hash(path: str, etag: str, res: Digest | OSError, roots: Roots) -> tuple[FindingKind, str, str] | None:
    """(kind, where, detail) of a hashed blob that is wrong, None when it is sound. `where` is what repair acts
    on: the corrupt file itself inside the caches, else the link (`path`) that leads out of them."""
    if isinstance(res, NotRegularFile):  # swapped in after the check: refused without a read
        return NOT_REGULAR, path, not_regular_detail(path, res.what)
    if isinstance(res, OSError):
        why = f"could not be read: {res.strerror or res}"
    else:
        got = (res.sha256 if etag_kind(etag) == "sha256" else res.sha1) or ""
        if got == etag:
            return None
        why = f"content hashes to {got[:16]}…, not its name {etag[:16]}… ({res.size} bytes)"
    real = os.path.realpath(path)
    if not resolves_inside(real, roots):
        return OUTSIDE, path, outside_detail(real, "does not hash to its blob" if isinstance(res, Digest) else why)
    return CORRUPT, real, f"corrupt blob {real}: {why}"


def global_not_regular(label: str, revision: str, path: str, blob: str, etag: str, mode: int) -> Finding:
    """A global blob (repair's pass over the global cache) that is a device, a FIFO or a link to one."""
    detail = not_regular_detail(blob, file_type(mode))
    return Finding(NOT_REGULAR, label, path, detail, "linker repair", GLOBAL, etag=etag, where=blob, revision=revision)
