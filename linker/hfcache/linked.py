"""Which global cache a view's links point into, read from the links themselves (`blobs/<etag>` in each view repo
folder links to `<cache>/<repo folder>/blobs/<etag>` or to `<cache>/blobs/<xx>/<hash>`, the shared store). No
record is needed: a view copied, or synced by an older linker, still tells."""

from __future__ import annotations

import os
import shlex
from collections.abc import Collection, Sequence
from pathlib import Path

from .blobs import BLOBS
from .layout import REFS, parse_repo_folder, project_ref_name


def _cache_of_blob(target: Path) -> Path | None:
    """The cache folder holding the blob at `target` (not followed), or None if it is not a cache blob path."""
    parts = target.parts
    if len(parts) < 4 or not (parts[-2] == BLOBS or parts[-3] == BLOBS):
        return None
    if parts[-2] == BLOBS and parse_repo_folder(parts[-3]) is not None:  # <cache>/<repo folder>/blobs/<etag>
        return Path(*parts[:-3])
    if parts[-3] == BLOBS and len(parts[-2]) == 2:  # <cache>/blobs/<xx>/<hash>: the shared store
        return Path(*parts[:-3])
    return None


def linked_caches(view: Path, skip: Collection[str] = ()) -> list[Path]:
    """The caches the view's blob links point into, one look per repo folder (its first linked blob), in the
    order met; empty for a view of copies or hardlinks, or no view. Repo folders in `skip` are not looked at
    (sync's: those its directory stamps prove still linked into the current cache)."""
    found: list[Path] = []
    try:
        repos = sorted(
            e.name
            for e in os.scandir(view)
            if e.name not in skip and parse_repo_folder(e.name) and e.is_dir(follow_symlinks=False)
        )
    except OSError:
        return found
    for name in repos:
        blobs = view / name / BLOBS
        try:
            with os.scandir(blobs) as it:
                link = next((e for e in it if e.is_symlink()), None)
            if link is None:
                continue
            target = Path(os.path.normpath(blobs / os.readlink(link.path)))
        except OSError:
            continue
        cache = _cache_of_blob(target)
        if cache is not None and cache not in found:
            found.append(cache)
    return found


def former_cache(view: Path, current: Path, also: Sequence[Path] = (), skip: Collection[str] = ()) -> Path | None:
    """A global cache, other than `current` (and the shared tiers `also`, which views link into on purpose), that
    the view's links still point into and that still exists (a moved HF_HOME, or `--cache-dir` pointing elsewhere
    than last time); None otherwise. `skip`: see linked_caches."""
    here = {os.path.realpath(c) for c in (current, *also)}
    for cache in linked_caches(view, skip):
        if os.path.realpath(cache) not in here and cache.is_dir():
            return cache
    return None


def was_shared_tier(view: Path, cache: Path) -> bool:
    """Whether `cache` served the view as a shared read-only tier: it holds no project ref of this view in any
    repo folder the view has (sync writes one into the writable cache only). Advice then names --shared-cache,
    never --cache-dir, which would make the tier the writable cache."""
    ref = project_ref_name(view)
    try:
        names = [e.name for e in os.scandir(view) if parse_repo_folder(e.name)]
    except OSError:
        return False
    return not any(os.path.lexists(cache / name / REFS / ref) for name in names)


def keep_using(view: Path, old: Path) -> str:
    """How to keep the view linking into `old`: `--shared-cache` for a former tier, else `--cache-dir`."""
    if was_shared_tier(view, old):
        return f"pass --shared-cache {shlex.quote(str(old))} (or set LINKER_SHARED_CACHES) to keep linking from it"
    return f"pass --cache-dir {shlex.quote(str(old))} to keep using the old one"


def former_cache_notice(old: Path, current: Path, view: Path | None = None) -> str:
    """The one line sync says about it, before it downloads anything."""
    if view is not None and was_shared_tier(view, old):
        return (
            f"note: the view links into the shared cache {old}, which is not configured now; this sync relinks it "
            f"to {current} (downloading there what is missing); {keep_using(view, old)}"
        )
    return (
        f"note: the view links into another global cache, {old}, which still exists; this sync relinks it to "
        f"{current} (downloading there what is missing); pass --cache-dir {old} to keep using the old one"
    )
