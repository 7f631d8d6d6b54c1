"""The layout of a Hugging Face cache dir (huggingface_hub 2.4): repo folder names, refs, snapshot links, `trees/`,
`.no_exist`, leftovers inside `blobs/`, and every path under `.locks/` (huggingface_hub's blob locks and linker's
own bookkeeping). No other module builds a cache path by hand: they go through `CacheRepo` and the functions here.
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..fsutil import atomic_write_text
from ..hashpool import open_regular
from .blobs import BLOBS, SHA40, etag_kind

REPO_TYPES = ("model", "dataset", "space")
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n"
)
LOCKS = ".locks"  # the one top-level name of a cache dir that `scan_cache_dir` skips and a repo cannot take
#: Top-level names of a cache dir that `scan_cache_dir` skips.
SCAN_SKIPPED = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", LOCKS, "CACHEDIR.TAG"})


# ---------------------------------------------------------------------------------------------------------------
# Names


def repo_folder_name(repo_id: str, repo_type: str = "model") -> str:
    """`models--org--name`, as `file_download.repo_folder_name` builds it."""
    return "--".join([f"{repo_type}s", *repo_id.split("/")])


def parse_repo_folder(name: str) -> tuple[str, str] | None:
    """(repo_type, repo_id) of a repo folder name, or None if it is not one."""
    if "--" not in name:
        return None
    prefix, rest = name.split("--", 1)
    if not prefix.endswith("s") or prefix[:-1] not in (*REPO_TYPES, "kernel") or not rest:
        return None
    return prefix[:-1], rest.replace("--", "/")


def snapshot_link_target(path_in_repo: str, etag: str) -> str:
    """The relative target of `snapshots/<rev>/<path>`, with one more `../` per directory level."""
    return "../" * (path_in_repo.count("/") + 2) + f"{BLOBS}/" + etag


def is_safe_repo_path(path: str) -> bool:
    """A relative posix path that stays inside its root."""
    if not path or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


# ---------------------------------------------------------------------------------------------------------------
# Include / exclude


def matches_patterns(path: str, include: list[str] | None, exclude: list[str] | None) -> bool:
    """`hf download --include/--exclude` semantics (huggingface_hub `filter_repo_objects`)."""

    def _norm(p: str) -> str:
        return p + "*" if p.endswith("/") else p

    if include and not any(fnmatch.fnmatch(path, _norm(p)) for p in include):
        return False
    return not (exclude and any(fnmatch.fnmatch(path, _norm(p)) for p in exclude))


# ---------------------------------------------------------------------------------------------------------------
# Names inside a repo folder, relative to it. `CacheRepo` joins them into Paths; hot loops join strings.

SNAPSHOTS, REFS, TREES, NO_EXIST = "snapshots", "refs", "trees", ".no_exist"


MAIN = "main"  # the ref code that passes no revision asks for


def ref_rel(name: str) -> str:
    return f"{REFS}/{name}"


def view_ref_names(ref: str) -> tuple[str, ...]:
    """The refs a view writes for a pin of `ref`: always `main` (a load without `revision=` reads it), and `ref`
    itself when it is another branch or tag."""
    return (MAIN,) if ref in ("", MAIN) else (MAIN, ref)


def snapshot_rel(revision: str, path_in_repo: str = "") -> str:
    """`snapshots/<rev>` or `snapshots/<rev>/<path>`."""
    return f"{SNAPSHOTS}/{revision}/{path_in_repo}" if path_in_repo else f"{SNAPSHOTS}/{revision}"


def blob_rel(etag: str) -> str:
    return f"{BLOBS}/{etag}"


def tree_rel(revision: str) -> str:
    return f"{TREES}/{revision}.json"


def no_exist_rel(revision: str) -> str:
    return f"{NO_EXIST}/{revision}"


# ---------------------------------------------------------------------------------------------------------------
# A repo folder inside a cache


@dataclass(frozen=True)
class TreeFile:
    """One file of a commit, from `trees/<sha>.json` or the Hub's tree listing."""

    size: int
    etag: str
    lfs: bool


@dataclass(frozen=True)
class CacheRepo:
    """The paths of one repo in one cache dir (global cache or project view)."""

    cache: Path
    repo_id: str
    repo_type: str = "model"

    @property
    def folder(self) -> str:
        return repo_folder_name(self.repo_id, self.repo_type)

    @functools.cached_property
    def path(self) -> Path:
        return self.cache / self.folder

    def ref(self, name: str) -> Path:
        return self.path / ref_rel(name)

    def snapshot(self, revision: str) -> Path:
        return self.path / snapshot_rel(revision)

    def snapshot_file(self, revision: str, path_in_repo: str) -> Path:
        return self.path / snapshot_rel(revision, path_in_repo)

    def blob(self, etag: str) -> Path:
        return self.path / blob_rel(etag)

    def tree(self, revision: str) -> Path:
        return self.path / tree_rel(revision)

    def no_exist(self, revision: str, path_in_repo: str | None = None) -> Path:
        base = self.path / no_exist_rel(revision)
        return base / path_in_repo if path_in_repo else base

    def lock_path(self, etag: str) -> Path:
        """huggingface_hub's own lock for creating `blobs/<etag>`."""
        return locks_dir(self.cache) / self.folder / f"{etag}.lock"

    def read_ref(self, name: str) -> str | None:
        return read_ref(self.ref(name))

    def write_ref(self, name: str, revision: str) -> None:
        write_ref(self.ref(name), revision)

    def refs(self) -> dict[str, str]:
        """All refs, name -> raw content (any file under refs/ counts, as for scan_cache_dir)."""
        base = self.path / REFS
        out: dict[str, str] = {}
        for p in iter_files(base):
            out[p.relative_to(base).as_posix()] = p.read_text(errors="replace")
        return out

    def read_tree(self, revision: str) -> dict[str, TreeFile] | None:
        return read_tree(self.tree(revision))

    def snapshot_files(self, revision: str) -> Iterator[tuple[str, Path]]:
        """(path in repo, path) of every file or link in a snapshot, not following linked directories."""
        base = self.snapshot(revision)
        for p in iter_files(base):
            yield p.relative_to(base).as_posix(), p

    def blob_of(self, revision: str, path_in_repo: str) -> str | None:
        """The blob name a snapshot link points at (None when not a `../blobs/<etag>` link)."""
        try:
            return link_etag(os.readlink(self.snapshot_file(revision, path_in_repo)))
        except OSError:
            return None


def read_ref(path: Path) -> str | None:
    return read_small(str(path))


def read_small(path: str, limit: int = 4096) -> str | None:
    """Read at most `limit` bytes of a small text file (a ref) with raw os calls: the no-op sync reads one per
    entry. None when it is missing, unreadable or not a regular file (opened non-blocking, so a FIFO cannot hang
    the read)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, limit).decode(errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)


def write_ref(path: Path, revision: str) -> None:
    """Write a ref as huggingface_hub does: 40 hex, no newline, atomically."""
    if not SHA40.fullmatch(revision):
        raise ValueError(f"not a commit: {revision!r}")
    if read_ref(path) == revision:
        return
    atomic_write_text(path, revision)


def read_tree(path: Path) -> dict[str, TreeFile] | None:
    """Parse `trees/<sha>.json` (format_version 1); None when absent, unreadable or not a regular file."""
    try:
        with os.fdopen(open_regular(path), "rb") as f:
            data = json.loads(f.read())
        files = data["files"] if data.get("format_version") == 1 else None
        if not isinstance(files, dict):
            return None
        out = {}
        for name, f in files.items():
            lfs = f.get("lfs_sha256")
            out[name] = TreeFile(size=int(f.get("lfs_size") or f["size"]), etag=lfs or f["blob_id"], lfs=bool(lfs))
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def tree_json(files: dict[str, TreeFile]) -> str:
    """Serialise a file listing in the `trees/<sha>.json` format (for trees we build ourselves)."""
    out: dict[str, dict[str, object]] = {}
    for name, f in sorted(files.items()):
        if f.lfs:
            out[name] = {"size": f.size, "blob_id": f.etag, "lfs_sha256": f.etag, "lfs_size": f.size}
        else:
            out[name] = {"size": f.size, "blob_id": f.etag}
    return json.dumps({"format_version": 1, "files": out}, indent=2)


def iter_files(base: Path) -> Iterator[Path]:
    """Files and links under `base`, depth first, never descending into a linked directory."""
    try:
        entries = list(os.scandir(base))
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            yield from iter_files(Path(e.path))
        else:
            yield Path(e.path)


def repo_folders(cache: Path) -> Iterator[tuple[str, str, Path]]:
    """(repo_type, repo_id, path) of each repo folder at the top of a cache dir."""
    try:
        entries = sorted(os.scandir(cache), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return
    for e in entries:
        parsed = parse_repo_folder(e.name)
        if parsed and e.name not in SCAN_SKIPPED:
            yield parsed[0], parsed[1], Path(e.path)


def ensure_cachedir_tag(cache: Path) -> None:
    """Write `CACHEDIR.TAG` once, in one small exclusive write: no temp file a kill could leave behind (a torn tag
    is at worst a file backup tools do not honour; its signature line is written first)."""
    tag = cache / "CACHEDIR.TAG"
    if os.path.lexists(tag):
        return
    with contextlib.suppress(OSError):
        fd = os.open(tag, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, CACHEDIR_TAG.encode())
        finally:
            os.close(fd)


LINKER_REFS = "linker"  # refs/linker/: the refs linker writes in a global cache (projects' and migrate's guards)
_PROJECT_REF = re.compile(r"[A-Za-z0-9._-]{1,40}-[0-9a-f]{10}")
_GUARD_REF = re.compile(r"migrated-[0-9a-f]{12}")


def project_ref_name(view: Path) -> str:
    """The ref a project keeps in the global cache: `linker/<folder>-<hash of the view's real path>`."""
    real = os.path.realpath(view)
    digest = hashlib.sha256(real.encode()).hexdigest()[:10]
    project = re.sub(r"[^A-Za-z0-9._-]", "_", Path(real).parent.name or "project")[:40]
    return f"{LINKER_REFS}/{project}-{digest}"


def migrate_guard_ref(revision: str) -> str:
    """The ref `linker migrate` writes to keep a migrated revision from `hf cache prune`."""
    return f"{LINKER_REFS}/migrated-{revision[:12]}"


def linker_ref_kind(name: str) -> str | None:
    """What a ref name under `refs/` is to linker: "project" (`linker/<folder>-<10 hex>`), "guard" (migrate's
    `linker/migrated-<12 hex>`), or None (not linker's: `main`, tags, `refs/pr/*`, anything else)."""
    head, _, rest = name.partition("/")
    if head != LINKER_REFS:
        return None
    if _GUARD_REF.fullmatch(rest):
        return "guard"
    return "project" if _PROJECT_REF.fullmatch(rest) else None


def project_record_path(cache: Path, ref_name: str) -> Path:
    """`<cache>/.locks/linker/projects/<name>.json`: which lockfile owns the project ref `linker/<name>` (under
    `.locks/`, which `scan_cache_dir` skips). `ref_name` must be a project ref name (see `linker_ref_kind`)."""
    return locks_dir(cache) / LINKER_REFS / "projects" / f"{ref_name.partition('/')[2]}.json"


def project_ref_path_name(ref_path: str) -> str | None:
    """The ref name (`linker/<name>`) of a path `<cache>/<repo folder>/refs/linker/<name>`, else None."""
    parts = ref_path.rsplit("/", 3)
    if len(parts) != 4 or parts[1] != REFS or parts[2] != LINKER_REFS:
        return None
    return f"{LINKER_REFS}/{parts[3]}"


def check_repo_id(repo_id: str) -> str | None:
    """Why huggingface_hub would reject this repo id, or None when it is valid (no hub import)."""
    rx = re.compile(r"(\b[\w\-.]{1,96}\b/)?\b[\w\-.]{1,96}\b", re.ASCII)
    if repo_id.count("/") > 1:
        return "a repo id is 'name' or 'namespace/name'"
    if not rx.fullmatch(repo_id):
        return "a repo id uses letters, digits, '-', '_' or '.', cannot start or end with '-' or '.', max 96"
    if "--" in repo_id or ".." in repo_id:
        return "a repo id cannot contain '--' or '..'"
    if repo_id.endswith(".git"):
        return "a repo id cannot end with '.git'"
    return None


# ---------------------------------------------------------------------------------------------------------------
# Damage and leftovers (verify / repair)

QUARANTINE_SUFFIX = ".linker-quarantine"


def link_etag(target: str) -> str | None:
    """The blob name a snapshot link's text points at (`.../blobs/<etag>`, relative or absolute), or None."""
    head, _, etag = target.rpartition("/")
    return etag if head.endswith(BLOBS) and etag_kind(etag) else None


def incomplete_etag(name: str) -> str | None:
    """The blob of a `blobs/<etag>[.<uuid8>].incomplete` download leftover, or None for any other name."""
    if not name.endswith(".incomplete"):
        return None
    etag = name.split(".", 1)[0]
    return etag if etag_kind(etag) else None


def tmp_etag(name: str) -> str | None:
    """The blob of a linker temp file `.<etag>.<8hex>.linker-tmp` in `blobs/`, or None."""
    if not (name.startswith(".") and name.endswith(".linker-tmp")):
        return None
    etag = name[1:].split(".", 1)[0]
    return etag if etag_kind(etag) else None


def quarantine_path(repo_path: Path, etag: str, stamp: str) -> Path:
    """Where a corrupt blob is moved aside: `<repo>/blobs/<etag>.<stamp>.linker-quarantine`.

    Inside `blobs/`, which `scan_cache_dir` never lists and `hf cache prune` never sweeps (only `*.incomplete`).
    """
    return repo_path / blob_rel(f"{etag}.{stamp}{QUARANTINE_SUFFIX}")


# ---------------------------------------------------------------------------------------------------------------
# Everything under `.locks/`, which `scan_cache_dir` skips: huggingface_hub's blob locks (`CacheRepo.lock_path`),
# and linker's own bookkeeping in a view and in the global cache


def locks_dir(cache: Path) -> Path:
    """`<cache>/.locks/`."""
    return cache / LOCKS


def view_lock_path(view: Path) -> Path:
    """`<view>/.locks/linker.lock`: the project lock every writer of the view holds."""
    return locks_dir(view) / "linker.lock"


def manifest_path(view: Path) -> Path:
    """`<view>/.locks/linker-manifest.json`: what linker created in the view (linker/sync/manifest.py)."""
    return locks_dir(view) / "linker-manifest.json"


def is_view(cache: Path) -> bool:
    """Whether the cache dir is a linker view: it holds linker's manifest (never a global cache)."""
    return os.path.isfile(manifest_path(cache))


def migrate_journal_dir(cache: Path) -> Path:
    """Where `linker migrate` keeps the journal of a run in progress: `<cache>/.locks/linker-migrate/`."""
    return locks_dir(cache) / "linker-migrate"


def migrate_record_path(cache: Path) -> Path:
    """What `linker migrate` finished, per source folder (so a rerun on a moved source says so)."""
    return locks_dir(cache) / "linker-migrated.json"


def gc_lock_path(cache: Path) -> Path:
    """The lock `linker gc` holds on a global cache while it removes refs: `<cache>/.locks/linker/gc.lock`."""
    return locks_dir(cache) / LINKER_REFS / "gc.lock"


def move_journal_path(cache: Path) -> Path:
    """The journal of a `linker cache move` in progress: `<cache>/.locks/linker/cache-move.json`, in the old cache
    before anything moves and in the new one from the first copied byte (a rename carries it along)."""
    return locks_dir(cache) / LINKER_REFS / "cache-move.json"


def migrate_lock_path(cache: Path) -> Path:
    """The lock one `linker migrate` (or its recovery) holds on a global cache."""
    return locks_dir(cache) / "linker-migrate.lock"
