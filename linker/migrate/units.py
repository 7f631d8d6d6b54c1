"""What a migrate source holds, as plain data, and the checks that make reading an untrusted tree safe.

Nothing here follows a symlink out of the tree it was asked to read: link targets are judged by their text and by
where they resolve, and a link, a path or a metadata field that leaves the tree (absolute, `..`, outside) or a
special file (FIFO, socket, device) is recorded in `Unit.unsafe`, which makes the unit refuse with a message
before anything is touched.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..hfcache import check_repo_id, is_safe_repo_path, lfs_patterns_from_gitattributes
from ..lockfile import repo_label

FOLDER, ST_LEGACY, LOCAL_DIR, HF_CACHE, TRANSFORMERS_LEGACY = (
    "folder", "st-legacy", "local-dir", "hf-cache", "transformers-legacy",
)  # fmt: skip
KINDS = (FOLDER, ST_LEGACY, LOCAL_DIR, HF_CACHE, TRANSFORMERS_LEGACY)
KIND_ALIASES = {"hub-0.13": HF_CACHE}

_TMP_NAME = re.compile(r"tmp[A-Za-z0-9_]{6,10}")
_LFS_POINTER_HEAD = b"version https://git-lfs.github.com/spec/v1"


@dataclass
class SourceFile:
    """One file of a source: where its bytes are, and what (if anything) the source claims its blob name is."""

    path: str  # path in the repo, "/"-separated
    abspath: Path  # a regular file inside the source holding the bytes
    size: int
    ident: tuple[int, int, int, int]  # st_dev, st_ino, st_size, st_mtime_ns when scanned
    etag: str | None = None  # claimed blob name (metadata, sidecar, cache), checked by hashing
    lfs: bool | None = None
    origin: str = ""  # who claimed the etag: metadata | sidecar | cache
    alias: Path | None = None  # a symlink in the source that pointed at abspath (the link, not the bytes)
    shared: bool = False  # bytes in a cache-wide shared store payload: never moved, only linked or copied
    sidecars: tuple[Path, ...] = ()  # bookkeeping that describes this file; removed once the bytes moved
    leave_link: Path | None = None  # hf-cache: the old repo blob path, to become a link to the global blob
    relink: Path | None = None  # hf-cache: a snapshot entry of the old place to rewrite as ../../blobs/<etag>


@dataclass
class Unit:
    """One model (repo) found in a source, before hashing and before its revision is known."""

    kind: str
    root: Path
    repo_type: str = "model"
    src: Path | None = None  # the SRC argument the unit was found under
    ids: list[str] = field(default_factory=list)  # candidate repo ids (exactly one when known)
    id_reason: str = ""
    files: dict[str, SourceFile] = field(default_factory=dict)
    revision: str | None = None  # exact revision from metadata
    revision_reason: str = ""
    branch: str | None = None  # a branch or tag the metadata names
    lfs_patterns: list[str] | None = None  # from the folder's .gitattributes
    problems: list[str] = field(default_factory=list)  # the unit is not migrated
    unsafe: list[str] = field(default_factory=list)  # refused: hostile tree
    code: list[str] = field(default_factory=list)  # refused unless --id: source files, project markers (detect.py)
    notes: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)  # bookkeeping left in place
    extra: list[SourceFile] = field(default_factory=list)  # other versions: kept as blobs, no snapshot
    trees: dict[str, Path] = field(default_factory=dict)  # revision -> a trees/<rev>.json we may copy
    bookkeeping: list[Path] = field(default_factory=list)  # removed once every file moved (local-dir boilerplate)
    # hf-cache only
    snapshots: dict[str, dict[str, SourceFile]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    orphans: list[SourceFile] = field(default_factory=list)  # blobs no snapshot uses
    present: dict[str, int] = field(default_factory=dict)  # etag -> size: already links to the global blob
    repo_path: Path | None = None  # the repo folder in the source cache
    in_place: bool = False  # the source cache is the global cache
    relinks: int = 0  # hub 0.13 links found

    @property
    def repo_id(self) -> str | None:
        return self.ids[0] if len(self.ids) == 1 else None

    @property
    def label(self) -> str:
        rid = self.repo_id or self.root.name
        return repo_label(rid, self.repo_type)

    def all_files(self) -> list[SourceFile]:
        out = list(self.files.values()) + list(self.extra) + list(self.orphans)
        for snap in self.snapshots.values():
            out.extend(snap.values())
        return out


# ---------------------------------------------------------------------------------------------------------------
# Untrusted trees


def ident_of(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def inside(path: str | Path, root: str | Path) -> bool:
    """Whether `path` is `root` or below it (both already absolute and normalised)."""
    path, root = os.fspath(path), os.fspath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def special_kind(mode: int) -> str | None:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return None


def _link_file(link: Path, root_real: str, unit: Unit) -> tuple[Path, os.stat_result] | None:
    """A symlink inside a plain folder: the regular file it names inside the source, or None (refused/skipped)."""
    text = os.readlink(link)
    if os.path.isabs(text):
        unit.unsafe.append(f"{link}: symlink to an absolute path ({text}); not followed")
        return None
    lexical = os.path.normpath(os.path.join(os.path.realpath(link.parent), text))
    real = os.path.realpath(link)
    if not inside(lexical, root_real) or not inside(real, root_real):
        unit.unsafe.append(f"{link}: symlink pointing outside the source ({text}); not followed")
        return None
    try:
        st = os.stat(real)
    except OSError:
        unit.notes.append(f"skipped dangling symlink {link}")
        return None
    if stat.S_ISDIR(st.st_mode):
        unit.notes.append(f"skipped symlinked directory {link} (not followed)")
        return None
    if not stat.S_ISREG(st.st_mode):
        unit.unsafe.append(f"{link}: symlink to {special_kind(st.st_mode) or 'a special file'}; refused")
        return None
    return Path(real), st


def is_leftover(name: str) -> bool:
    return (
        name.endswith((".lock", ".incomplete", ".linker-tmp"))
        or bool(_TMP_NAME.fullmatch(name))
        or name
        in (
            ".DS_Store",
            "Thumbs.db",
        )
    )


def folder_named_unit(kind: str, d: Path) -> Unit:
    """A unit of the model folder `d`, with its files scanned and the id its `{org}/{model}` path suggests."""
    unit = Unit(kind, d)
    cand = f"{d.parent.name}/{d.name}"
    if check_repo_id(cand) is None:
        unit.ids, unit.id_reason = [cand], "from the {org}/{model} path"
    scan_files(unit, d)
    return unit


def scan_files(unit: Unit, root: Path, *, skip_top: tuple[str, ...] = (".git", ".cache")) -> None:
    """Fill `unit.files` with every regular file under `root` (a model folder), checking the tree as we go."""
    root_real = os.path.realpath(root)

    def walk(d: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(d), key=lambda e: e.name)
        except OSError as exc:
            unit.problems.append(f"cannot read {d}: {exc.strerror}")
            return
        for e in entries:
            rel = prefix + e.name
            p = Path(e.path)
            if not prefix and e.name in skip_top:
                continue
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                walk(p, rel + "/")
                continue
            if not is_safe_repo_path(rel):
                unit.unsafe.append(f"{p}: a file name that cannot be a repo path; refused")
                continue
            if stat.S_ISLNK(st.st_mode):
                found = _link_file(p, root_real, unit)
                if found is not None:
                    real, rst = found
                    unit.files[rel] = SourceFile(rel, real, rst.st_size, ident_of(rst), alias=p)
                continue
            if kind := special_kind(st.st_mode):
                unit.unsafe.append(f"{p}: {kind}; refused (special files are never read)")
                continue
            if is_leftover(e.name):
                unit.leftovers.append(str(p))
                continue
            unit.files[rel] = SourceFile(rel, p, st.st_size, ident_of(st))

    walk(root, "")
    ga = unit.files.get(".gitattributes")
    if ga is not None and ga.size < 1 << 20:
        with contextlib.suppress(OSError):
            unit.lfs_patterns = lfs_patterns_from_gitattributes(ga.abspath.read_text(errors="replace"))
    _check_lfs_pointers(unit)


def _check_lfs_pointers(unit: Unit) -> None:
    """A git clone without git-lfs holds pointer texts instead of weights: not the model."""
    for f in unit.files.values():
        if f.size < 200 and f.path != ".gitattributes":
            try:
                with open(f.abspath, "rb") as fh:
                    head = fh.read(len(_LFS_POINTER_HEAD))
            except OSError:
                continue
            if head == _LFS_POINTER_HEAD:
                unit.problems.append(
                    f"{f.path} is a git-lfs pointer, not the file (run `git lfs pull` in {unit.root} first)"
                )
