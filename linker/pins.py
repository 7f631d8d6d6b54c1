"""What a lock entry pins: the one answer, shared by sync, verify, repair and status.

The file list comes from the first of these sources the caller has (one fallback order for every command):

1. `lock`: the lock's `files` (path, blob name and size of each file);
2. `manifest`: the files the last complete sync of this very entry linked (verify only: the view's manifest
   record, see `sync.manifest.record_matches`), with the size each resolved to;
3. `tree`: the global cache's `trees/<sha>.json`, include/exclude applied;
4. `view-tree`: the view's copy of it (verify and repair, which pass the view);
5. `snapshot`: the union of the global and (when passed) the view snapshot folders, include/exclude applied,
   leftovers of interrupted runs left out;
6. `none`: no source lists any file.

Only `lock` and `tree` prove a file list complete: a snapshot folder may be half-written, and a file absent from
every folder goes unseen (`proven`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Literal

from .fsutil import is_tmp_name
from .hfcache import CacheRepo, TreeFile, matches_patterns, read_tree
from .lockfile import Entry

Listing = Literal["lock", "manifest", "tree", "view-tree", "snapshot", "none"]
LOCK: Final = "lock"
MANIFEST: Final = "manifest"
TREE: Final = "tree"
VIEW_TREE: Final = "view-tree"
SNAPSHOT: Final = "snapshot"
NONE: Final = "none"
#: listings that name every file of the pin (a snapshot folder's listing may be half-written)
PROVEN: frozenset[Listing] = frozenset({LOCK, TREE})


@dataclass(frozen=True)
class PinnedFile:
    """One file an entry pins, with what is known of it (the lock knows both; a tree listing too)."""

    path: str
    etag: str | None = None
    size: int | None = None


@dataclass(frozen=True)
class Pins:
    """The files an entry pins, where that list came from, and the global `trees/<sha>.json` when there is one."""

    files: dict[str, PinnedFile]
    listing: Listing
    tree: Path | None = None  # the global trees/<sha>.json (read only when the listing needed it, or asked)
    tree_paths: frozenset[str] = field(default_factory=frozenset)  # every file of the commit, per that tree

    @property
    def proven(self) -> bool:
        return self.listing in PROVEN


def pinned_files(
    entry: Entry,
    g: CacheRepo,
    v: CacheRepo | None = None,
    *,
    recorded: Mapping[str, int | None] | None = None,
    read_global_tree: bool = False,
) -> Pins:
    """The files `entry` pins, from the first source of the module's fallback order that lists any.

    `g` is the entry's repo in the global cache; `v` its repo in the view (None: the view is not a source);
    `recorded` maps each path the last complete sync linked to its size (None: no such record). With
    `read_global_tree` the global tree is read (for `Pins.tree`) even when the lock lists the files."""
    tree_path = g.tree(entry.revision)
    tree: dict[str, TreeFile] | None = None
    if read_global_tree or (entry.files is None and not recorded):
        tree = read_tree(tree_path)
    found: Pins | None = None
    if entry.files is not None:
        found = Pins({p: PinnedFile(p, f.hash, f.size) for p, f in entry.files.items()}, LOCK)
    elif recorded:
        found = Pins({p: PinnedFile(p, None, size) for p, size in recorded.items()}, MANIFEST)
    if found is None:
        found = _from_listings(entry, g, v, tree)
    if tree is None:
        return found
    return Pins(found.files, found.listing, tree_path, frozenset(tree))


def _from_listings(entry: Entry, g: CacheRepo, v: CacheRepo | None, tree: dict[str, TreeFile] | None) -> Pins:
    inc, exc = list(entry.include), list(entry.exclude)
    view_tree = read_tree(v.tree(entry.revision)) if tree is None and v is not None else None
    listings: tuple[tuple[Listing, dict[str, TreeFile] | None], ...] = ((TREE, tree), (VIEW_TREE, view_tree))
    for listing, trees in listings:
        if trees is not None:
            files = {p: PinnedFile(p, f.etag, f.size) for p, f in trees.items() if matches_patterns(p, inc, exc)}
            return Pins(files, listing)
    out: dict[str, PinnedFile] = {}
    for repo in (g, v) if v is not None else (g,):
        for p, _ in repo.snapshot_files(entry.revision):
            if p not in out and matches_patterns(p, inc, exc) and not is_tmp_name(p.rsplit("/", 1)[-1]):
                out[p] = PinnedFile(p)
    return Pins(out, SNAPSHOT if out else NONE)
