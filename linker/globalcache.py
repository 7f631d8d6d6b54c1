"""Which cache every command takes as the global cache: huggingface_hub's precedence, except that a linker view
never counts. A shell that ran `eval "$(linker env)"` has HF_HUB_CACHE set to the view; there linker uses the
global cache the view was last synced from (its manifest records it), else the next source in that order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .hfcache import cache_sources, is_view

RECORDED = "view-record"  # the source of a global cache taken from a view's manifest


@dataclass(frozen=True)
class GlobalCache:
    path: Path
    source: str  # --cache-dir | HF_HUB_CACHE | HUGGINGFACE_HUB_CACHE | HF_HOME | XDG_CACHE_HOME | default | RECORDED
    view: Path | None = None  # the view the first source named, when it was one
    view_source: str = ""  # the source that named it

    @property
    def notice(self) -> str | None:
        """One line saying that a source named a view and which global cache is used instead."""
        if self.view is None:
            return None
        shown = self.view_source if self.view_source == "--cache-dir" else f"{self.view_source}={self.view}"
        why = "the one it was last synced from" if self.source == RECORDED else f"chosen by {self.source}"
        return (
            f"notice: {shown} is a linker view (as `linker env` sets it), not a global cache; using the global "
            f"cache {self.path}, {why}"
        )


def choose_global_cache(explicit: str | os.PathLike[str] | None = None, view: Path | None = None) -> GlobalCache:
    """The global cache: the first source of huggingface_hub's order that is not a view (a folder holding linker's
    manifest, or the project's own `view`). A source naming a view yields the global cache that view recorded."""
    sources = cache_sources(explicit)
    skipped: tuple[Path, str] | None = None
    for path, source in sources:
        if not _is_view(path, view):
            return _chosen(path, source, skipped)
        skipped = skipped or (path, source)
        from .sync.manifest import recorded_global_cache  # only when a source names a view

        recorded = recorded_global_cache(path) if is_view(path) else None
        if recorded is not None and not _is_view(recorded, view):
            return _chosen(recorded, RECORDED, skipped)
    path, source = sources[0]  # every source is a view: the view guard refuses it, naming it
    return GlobalCache(path, source)


def _chosen(path: Path, source: str, skipped: tuple[Path, str] | None) -> GlobalCache:
    return GlobalCache(path, source, *(skipped or (None, "")))


def _is_view(cache: Path, view: Path | None) -> bool:
    """A folder holding linker's manifest; or the project's own view before its first sync (absent or empty: a
    folder with content and no manifest may be a real cache, which the view guard then refuses to sync into)."""
    if is_view(cache):
        return True
    if view is None or os.path.realpath(cache) != os.path.realpath(view):
        return False
    try:
        with os.scandir(cache) as it:
            return next(it, None) is None
    except FileNotFoundError:
        return True
    except OSError:
        return False
