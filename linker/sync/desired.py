"""What a lock entry asks for, resolved against the global cache: the files, their blobs and where those live.

The file list is `pins.pinned_files` of the global cache (the lock's `files`, else the global
`trees/<sha>.json`, else the global snapshot folder). Each file's blob is found by following the global snapshot
link, or by its locked name in `blobs/`. A file that cannot be linked gets a typed `Missing` reason.

With shared read-only tiers (linker/tiers.py), each file comes from the first tier holding its blob with the
locked etag and size, else from the writable global cache (`WantFile.tier` says which). A tier's links are
followed lexically and its blob must resolve inside that tier: a link out of it is as good as no blob.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Final, Literal

from ..hfcache import CacheRepo, blob_rel, compute_etag, is_lfs_path, link_etag, snapshot_rel
from ..lockfile import Entry
from ..pins import NONE, SNAPSHOT, Listing, PinnedFile, Pins, pinned_files

MissingKind = Literal["no-revision", "absent", "not-a-blob-link", "other-blob", "blob-missing", "wrong-size"]
NO_REVISION: Final = "no-revision"  # no source lists any file of the revision (key "*")
ABSENT: Final = "absent"  # neither a snapshot link nor the locked blob is in the global cache
NOT_A_BLOB_LINK: Final = "not-a-blob-link"  # the global snapshot entry is a link, but not to a blob
OTHER_BLOB: Final = "other-blob"  # the global snapshot links the file to another blob than the lock says
BLOB_MISSING: Final = "blob-missing"  # the global snapshot link dangles
WRONG_SIZE: Final = "wrong-size"  # the global blob's size differs from the lock
#: the global cache holds something else than the lock says: fetching does not change that (`linker lock`)
DISAGREES: frozenset[MissingKind] = frozenset({OTHER_BLOB, WRONG_SIZE})


@dataclass(frozen=True)
class Missing:
    """Why a pinned file cannot be linked from the global cache."""

    kind: MissingKind
    detail: str

    @property
    def disagrees(self) -> bool:
        return self.kind in DISAGREES


@dataclass(frozen=True)
class WantFile:
    path: str
    etag: str
    size: int
    source: str  # realpath of the blob's data in the global cache (or in the shared `tier`)
    ident: tuple[int, int] | None = None  # (inode, device) of that data, when already known
    in_view: bool = False  # the source is the view's own copy of the blob (a self-contained copy view)
    tier: str | None = None  # the shared read-only tier the source lies in (None: the writable global cache)


@dataclass
class Want:
    entry: Entry
    global_repo: CacheRepo
    files: dict[str, WantFile] = field(default_factory=dict)
    missing: dict[str, Missing] = field(default_factory=dict)  # path ("*": the whole revision) -> why
    listing: Listing = "snapshot"  # where the file list came from: lock | tree | snapshot | none
    tree: Path | None = None  # the global trees/<sha>.json, when there is one
    tree_paths: frozenset[str] = frozenset()  # every file of the commit, as that listing gives them
    proven: bool = False  # the file list is complete (lock or tree): see pins.PROVEN
    outside: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (tier, real path out of it): unused

    @property
    def state(self) -> str:
        if not self.missing:
            return "present"
        return "partial" if self.files else "missing"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files.values())

    @property
    def tiers(self) -> list[str]:
        """The shared tiers serving some file, in the order met."""
        return list(dict.fromkeys(f.tier for f in self.files.values() if f.tier is not None))

    @property
    def in_writable(self) -> bool:
        """Some file's data is in the writable global cache (so the project's ref there protects something)."""
        return any(f.tier is None and not f.in_view for f in self.files.values())

    @property
    def served(self) -> str:
        """Which cache serves the entry: `shared:<tier>`, `global`, `view` (a copy view's own copies), `split`
        (several), or "" (nothing linked)."""
        kinds = {f"shared:{f.tier}" if f.tier else "view" if f.in_view else "global" for f in self.files.values()}
        return "split" if len(kinds) > 1 else next(iter(kinds), "")


def resolve_entry(
    entry: Entry,
    global_cache: Path,
    view: Path | None = None,
    tiers: Sequence[Path] = (),
    bad: Collection[tuple[int, int]] = (),
) -> Want:
    """What `entry` asks for, from the shared `tiers` (readable ones, in order, skipping the blobs whose (inode,
    device) is in `bad`: they failed a hash) and the global cache. With `view` (copy mode), when the caches lack
    some of it and the view holds a complete copy of the pin (regular blob files, sizes as listed), that copy is
    the source: a copy view needs no global cache."""
    g = CacheRepo(global_cache, entry.id, entry.type)
    want = _resolve_tiered(entry, g, tiers, bad) if tiers else _resolve_in(entry, g, g)
    if view is None or not want.missing or any(m.disagrees for m in want.missing.values()):
        return want
    own = _resolve_in(entry, CacheRepo(view, entry.id, entry.type), g)
    if own.missing or not own.files or not all(f.in_view for f in own.files.values()):
        return want
    return own


def _resolve_in(entry: Entry, repo: CacheRepo, g: CacheRepo) -> Want:
    """Resolve `entry` in the cache folder `repo` (the global one, or the view's own copies); `g` is the global."""
    pins = pinned_files(entry, repo, read_global_tree=True)
    want = Want(entry, g, listing=pins.listing, tree=pins.tree, tree_paths=pins.tree_paths, proven=pins.proven)
    if pins.listing == "none":
        want.missing["*"] = Missing(NO_REVISION, "revision not in the global cache")
        return want
    repo_real = os.path.realpath(repo.path)  # once per repo; per file only readlink + lstat
    own = repo is not g
    for path, pf in sorted(pins.files.items()):
        found = _find_blob(repo_real, entry.revision, path, pf)
        if isinstance(found, WantFile):  # dataclasses.replace only where it changes something (a copy view's own)
            in_view = own and found.source.startswith(f"{repo_real}/{blob_rel('')}")
            want.files[path] = replace(found, in_view=True) if in_view else found
        else:
            want.missing[path] = found
    return want


def tiered_pins(entry: Entry, g: CacheRepo, tiers: Sequence[Path]) -> Pins:
    """The files `entry` pins, read from the tiers and the global repo `g`: the lock's `files`, else the first
    `trees/<sha>.json` any of them holds (tiers first), else the union of their snapshot folders (unproven)."""
    found = [pinned_files(entry, r, read_global_tree=True) for r in (*_tier_repos(entry, tiers), g)]
    proven = [p for p in found if p.proven]
    if proven:  # prefer a listing whose tree names every file (a view copies only such a tree)
        return next((p for p in proven if p.tree is not None and p.tree_paths >= set(p.files)), proven[0])
    files: dict[str, PinnedFile] = {}
    for pins in found:
        for path, pf in pins.files.items():
            files.setdefault(path, pf)
    return Pins(files, SNAPSHOT if files else NONE)


def _tier_repos(entry: Entry, tiers: Sequence[Path]) -> list[CacheRepo]:
    return [CacheRepo(t, entry.id, entry.type) for t in tiers]


def _resolve_tiered(entry: Entry, g: CacheRepo, tiers: Sequence[Path], bad: Collection[tuple[int, int]]) -> Want:
    """Resolve `entry` file by file across the tiers (in order), then the writable global repo `g`. A tier whose
    blob for a path is another etag, another size, or resolves outside the tier is skipped for that path."""
    pins = tiered_pins(entry, g, tiers)
    want = Want(entry, g, listing=pins.listing, tree=pins.tree, tree_paths=pins.tree_paths, proven=pins.proven)
    if pins.listing == NONE:
        want.missing["*"] = Missing(NO_REVISION, "revision not in the global cache nor in a shared cache")
        return want
    repos = _tier_repos(entry, tiers)
    roots = [(str(t), os.path.realpath(t), os.path.realpath(r.path)) for t, r in zip(tiers, repos, strict=True)]
    g_real = os.path.realpath(g.path)
    for path, pf in sorted(pins.files.items()):
        for name, root, repo_real in roots:
            found = _find_blob(repo_real, entry.revision, path, pf)
            if isinstance(found, WantFile) and found.ident not in bad:
                real = os.path.realpath(found.source)  # the data must lie in the tier: a link out does not count
                if real == root or real.startswith(root.rstrip("/") + "/"):
                    want.files[path] = replace(found, source=real, tier=name)
                    break
                want.outside.setdefault(path, (name, real))
        else:
            found = _find_blob(g_real, entry.revision, path, pf)
            if isinstance(found, WantFile):
                want.files[path] = found
            else:
                want.missing[path] = found
    return want


def _resolve_file(path: str) -> tuple[str, os.stat_result] | None:
    """Follow links lexically from a path under a real directory (blob -> shared store) to the data file."""
    for _ in range(8):
        try:
            st = os.lstat(path)
        except OSError:
            return None
        if not stat.S_ISLNK(st.st_mode):
            return (path, st) if stat.S_ISREG(st.st_mode) else None
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None


def _find_blob(repo: str, revision: str, path: str, known: PinnedFile) -> WantFile | Missing:
    """Locate one file's blob in the global repo folder `repo` (a real path), or say why it is not there.
    `known` carries the locked (or tree-listed) blob name and size, when the listing gives them."""
    pointer = f"{repo}/{snapshot_rel(revision, path)}"
    try:
        target: str | None = os.readlink(pointer)
    except FileNotFoundError:
        target = None
    except OSError:  # not a link: a cache written without symlinks, where the snapshot file is the blob
        if not os.path.isfile(pointer):
            return Missing(ABSENT, "not in the global cache")
        real = os.path.realpath(pointer)
        size = os.stat(real).st_size
        name = known.etag or compute_etag(real, is_lfs_path(path, size))
        return WantFile(path, name, size, real)
    if target is not None:
        etag = link_etag(target)
        if etag is None:
            return Missing(NOT_A_BLOB_LINK, f"global snapshot file {path} is a link to {target}, not to a blob")
        if known.etag is not None and known.etag != etag:
            why = f"global snapshot links {path} to blob {etag[:12]}, the lock says {known.etag[:12]}"
            return Missing(OTHER_BLOB, why)
        found = _resolve_file(os.path.normpath(os.path.join(os.path.dirname(pointer), target)))
        if found is None:
            return Missing(BLOB_MISSING, "blob missing from the global cache")
        real, st = found
        if known.size is not None and known.size != st.st_size:
            why = f"global blob {etag[:12]} of {path} is {st.st_size} bytes, the lock says {known.size}"
            return Missing(WRONG_SIZE, why)
        return WantFile(path, etag, st.st_size, real, (st.st_ino, st.st_dev))
    if known.etag is not None:
        found = _resolve_file(f"{repo}/{blob_rel(known.etag)}")
        if found is None:
            return Missing(ABSENT, "not in the global cache")
        real, st = found
        return WantFile(path, known.etag, st.st_size, real, (st.st_ino, st.st_dev))
    return Missing(ABSENT, "not in the global cache")
