"""Which lockfile owns each project ref in a global cache.

A project ref is `refs/linker/<folder>-<hash of the view's real path>`: the name says where the project was when
it was synced, but not which lockfile that was. Sync records it in
`<global>/.locks/linker/projects/<folder>-<hash>.json` (hfcache.project_record_path; `scan_cache_dir` never looks
under `.locks/`), written before the first ref it covers, so `linker gc` can tell a live ref from an orphaned one.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .fsutil import atomic_write_text, writable_dir
from .hfcache import project_record_path, project_ref_path_name

RECORD_VERSION = 1


@dataclass(frozen=True)
class Owner:
    """The lockfile (real path) that owns a project ref, and the view it was synced into."""

    ref: str
    lockfile: str
    view: str

    def to_json(self) -> dict[str, object]:
        return {"version": RECORD_VERSION, "ref": self.ref, "lockfile": self.lockfile, "view": self.view}


def owner_of(lockfile: Path, view: Path, ref_name: str) -> Owner:
    return Owner(ref_name, os.path.realpath(lockfile), os.path.realpath(view))


def read_owner(global_cache: Path, ref_name: str) -> Owner | None:
    """The recorded owner of a project ref, or None when there is no readable record."""
    try:
        data = json.loads(project_record_path(global_cache, ref_name).read_text())
        if data.get("version") != RECORD_VERSION or data.get("ref") != ref_name:
            return None
        return Owner(ref_name, str(data["lockfile"]), str(data["view"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def record_owner(global_cache: Path, owner: Owner) -> None:
    """Write the record (atomically), unless it already says the same. Raises OSError (a read-only cache)."""
    if read_owner(global_cache, owner.ref) == owner:
        return
    path = project_record_path(global_cache, owner.ref)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(owner.to_json(), indent=1))


def forget_owner(global_cache: Path, ref_name: str) -> None:
    """Remove the record of a ref that is gone from every repo (gc)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(project_record_path(global_cache, ref_name))


def owner_recorded(global_cache: Path, ref_name: str) -> bool:
    """Whether the project's owner record exists in the global cache (or cannot be written there anyway)."""
    record = project_record_path(global_cache, ref_name)
    return os.path.exists(record) or not writable_dir(record.parent)


def own_ref(path: str | None, ref_name: str) -> bool:
    """Whether a recorded global ref is provably this project's: it has the project's current ref name (a
    copy's or a rename's manifest names the former path's ref: that one is left to `linker gc`)."""
    return path is not None and project_ref_path_name(path) == ref_name
