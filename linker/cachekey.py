"""`linker cache-key`: one stable digest of everything that decides what the global cache must hold for a lockfile,
for CI caches (`actions/cache`, GitLab `cache:key:files`).

The digest covers, per entry: type, id, revision, ref, include, exclude, files (size and hash) and `local`. It
ignores the order of entries and of globs, comments, formatting, and where the checkout lives. It ignores the link
mode too: the mode decides the view's form (links or copies), not which blobs the global cache must hold, and the
key names the global cache CI restores.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from .lockfile import Entry, Lockfile

#: Part of the digested text: raised when the canonical form changes, so old CI caches are not reused by mistake.
KEY_SCHEME = "linker-cache-key/1"


@dataclass(frozen=True)
class CacheKey:
    digest: str  # 64 hex
    entries: int

    def to_json(self) -> dict[str, object]:
        return {"key": self.digest, "scheme": KEY_SCHEME, "entries": self.entries}


def _canonical(entry: Entry) -> dict[str, object]:
    files = None
    if entry.files is not None:
        files = {path: [f.size, f.hash] for path, f in sorted(entry.files.items())}
    return {
        "type": entry.type,
        "id": entry.id,
        "revision": entry.revision,
        "ref": entry.ref,
        "include": sorted(set(entry.include)),
        "exclude": sorted(set(entry.exclude)),
        "files": files,
        "local": entry.local,
    }


def canonical_text(lock: Lockfile) -> str:
    """The text that is digested: one JSON document, entries sorted by (type, id), keys sorted, no whitespace."""
    entries = [_canonical(e) for e in sorted(lock.entries, key=lambda e: (e.type, e.id))]
    return json.dumps({"scheme": KEY_SCHEME, "entries": entries}, sort_keys=True, separators=(",", ":"))


def cache_key(lock: Lockfile) -> CacheKey:
    return CacheKey(hashlib.sha256(canonical_text(lock).encode()).hexdigest(), len(lock.entries))
