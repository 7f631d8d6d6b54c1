"""What the view holds, as sync's planner asks it: ownership, link targets, blob copies (reads only)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..hfcache import NO_EXIST, QUARANTINE_SUFFIX, blob_matches, parse_repo_folder
from .desired import Want


def foreign_files(repo_path: Path, owned: set[str]) -> list[str]:
    out = []
    for root, dirs, files in os.walk(repo_path):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.relpath(os.path.join(root, name), repo_path).replace(os.sep, "/")
            if rel not in owned and not name.endswith(QUARANTINE_SUFFIX):  # what --force moved aside stays put
                out.append(rel)
    return sorted(out)


def case_hint(global_cache: Path, want: Want) -> str:
    """When the repo folder is absent but one differing only in case exists (`ACME/Tiny` vs `acme/tiny`): say so."""
    folder = want.global_repo.folder
    if os.path.lexists(want.global_repo.path):
        return ""
    try:
        names = os.listdir(global_cache)
    except OSError:
        return ""
    twins = sorted(n for n in names if n.lower() == folder.lower() and n != folder)
    if not twins:
        return ""
    parsed = parse_repo_folder(twins[0])
    spelled = f" (pin the id as {parsed[1]!r})" if parsed else ""
    return f"; the global cache has {twins[0]}, which differs only in case: repo ids are case-sensitive{spelled}"


def is_link_to(p: str, target: str) -> bool:
    try:
        return os.readlink(p) == target
    except OSError:
        return False


def ours(p: str, rel: str, etag: str | None) -> bool:
    """Whether replacing or removing `p` loses nothing: nothing there, a link, a ref or tree linker writes, or a
    file whose bytes are exactly the blob `etag` (a copy or hardlink sync made). A folder, or a file with other
    bytes (an editor's save, a hand copy), is the user's."""
    try:
        st = os.lstat(p)
    except OSError:
        return True
    if stat.S_ISLNK(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        return False
    if rel.startswith(("refs/", "trees/")):
        return True
    if rel.startswith(f"{NO_EXIST}/") and st.st_size == 0:  # a `.no_exist` marker: empty, it holds nothing
        return True
    return etag is not None and blob_matches(p, etag)


def intact_copy(p: str, etag: str) -> bool:
    try:
        if not stat.S_ISREG(os.lstat(p).st_mode):
            return False
    except OSError:
        return False
    return blob_matches(p, etag)


def blob_state(p: str, source: str, mode: str, ident: list[int] | None) -> tuple[bool, bool]:
    """(in the wanted mode already, holds the same data so it may be adopted)."""
    try:
        st = os.lstat(p)
    except OSError:
        return False, False
    if stat.S_ISLNK(st.st_mode):
        return mode == "symlink" and os.readlink(p) == source, True
    try:
        src = os.stat(source)
    except OSError:
        return False, False
    if not stat.S_ISREG(st.st_mode):
        return False, False
    same_inode = (st.st_ino, st.st_dev) == (src.st_ino, src.st_dev)
    if mode == "hardlink":
        return same_inode, same_inode
    if mode == "copy":
        copied = not same_inode and st.st_size == src.st_size and ident is not None and ident[0] == st.st_ino
        return copied, same_inode
    return False, same_inode


def same_small_file(p: Path, source: Path) -> bool:
    try:
        return p.read_bytes() == source.read_bytes()
    except OSError:
        return False
