"""Hashing the migrate sources: every distinct file once, with the digests its revision decision needs."""

from __future__ import annotations

from collections.abc import Callable

from ..hashpool import Digest, hash_many
from ..hfcache import etag_kind
from .revision import etag_of, guess_lfs, needed_kind
from .units import HF_CACHE, Unit


def hash_units(
    units: list[Unit], *, online: bool, on_bytes: Callable[[int], None] | None = None
) -> tuple[dict[str, Digest], int]:
    """Hash every distinct source file once, with the digests each needs. Returns (digests, bytes to hash)."""
    kinds: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for unit in units:
        for f in unit.all_files():
            if f.origin == "view":
                continue
            key = str(f.abspath)
            k = needed_kind(unit, f, online)
            kinds.setdefault(key, set()).update({"sha256", "sha1"} if k == "both" else {k})
            sizes[key] = f.size
    items = [(key, key, "both" if len(ks) == 2 else next(iter(ks))) for key, ks in kinds.items()]
    result = hash_many(items, on_bytes=on_bytes)
    digests: dict[str, Digest] = {}
    for unit in units:
        for f in unit.all_files():
            r = result.get(str(f.abspath))
            if isinstance(r, OSError):
                unit.problems.append(f"cannot read {f.abspath}: {r.strerror}")
            elif r is not None:
                digests[str(f.abspath)] = r
    # A claimed blob name that does not match: the file is not what the metadata says; hash it as unknown.
    redo: dict[str, str] = {}
    for unit in units:
        if unit.kind == HF_CACHE:
            continue
        for f in unit.all_files():
            d = digests.get(str(f.abspath))
            if f.etag and d is not None and etag_of(d, etag_kind(f.etag) == "sha256") != f.etag:
                unit.notes.append(f"{f.path}: content does not match its {f.origin} ({f.etag[:12]}); not trusted")
                f.etag, f.lfs, f.origin = None, None, ""
                redo[str(f.abspath)] = "both" if online else ("sha256" if guess_lfs(unit, f) else "sha1")
    if redo:
        for done_key, r in hash_many([(k, k, kind) for k, kind in redo.items()]).items():
            if isinstance(r, Digest):
                digests[str(done_key)] = r
    return digests, sum(sizes.values())
