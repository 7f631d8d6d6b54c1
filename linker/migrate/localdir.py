"""`hf download --local-dir` folders: `.cache/huggingface/download/<path>.metadata` gives each file's commit and
blob name (hub >= 0.23, docs/hf-cache.md §5). A file modified after its download (the mtime rule) is
not the Hub's file, so the folder is then not exactly that commit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..hfcache import SHA40, etag_kind, is_safe_repo_path, read_tree, tree_rel
from .units import LOCAL_DIR, Unit, folder_named_unit, special_kind


def local_dir_meta(local_dir: Path) -> Path:
    """`<local_dir>/.cache/huggingface`: CACHEDIR.TAG, .gitignore, `download/` metadata and `trees/`."""
    return local_dir / ".cache" / "huggingface"


def local_dir_metadata(local_dir: Path, path_in_repo: str) -> Path:
    """`.cache/huggingface/download/<path>.metadata` of one file."""
    return local_dir_meta(local_dir) / "download" / f"{path_in_repo}.metadata"


def local_dir_tree(local_dir: Path, revision: str) -> Path:
    return local_dir_meta(local_dir) / tree_rel(revision)


def read_local_dir_metadata(meta: Path) -> tuple[str, str, float] | None:
    """(commit, etag, timestamp) of a `.metadata` file (3 lines), or None when it is not one; never follows a link."""
    try:
        st = os.lstat(meta)
        if not stat.S_ISREG(st.st_mode) or st.st_size > 4096:
            return None
        lines = meta.read_text(errors="replace").splitlines()
        commit, etag, ts = lines[0].strip(), lines[1].strip(), float(lines[2].strip())
    except (OSError, IndexError, ValueError):
        return None
    if not SHA40.fullmatch(commit) or etag_kind(etag) is None:
        return None
    return commit, etag, ts


def is_local_dir(d: Path) -> bool:
    return (local_dir_meta(d) / "download").is_dir()


def local_dir_unit(d: Path) -> Unit:
    unit = folder_named_unit(LOCAL_DIR, d)
    _check_bookkeeping(unit, local_dir_meta(d))
    commits: set[str] = set()
    untrusted: list[str] = []
    for rel, f in unit.files.items():
        meta = local_dir_metadata(d, rel)
        parsed = read_local_dir_metadata(meta) if os.path.lexists(meta) else None
        if parsed is None:
            untrusted.append(f"{rel} has no valid metadata")
            continue
        commit, etag, ts = parsed
        if f.alias is not None:
            untrusted.append(f"{rel} is a symlink")
            continue
        if os.stat(f.abspath).st_mtime - 1 > ts:
            untrusted.append(f"{rel} was edited after its download (mtime rule): not the Hub's file")
            continue
        f.etag, f.lfs, f.origin = etag, etag_kind(etag) == "sha256", "metadata"
        f.sidecars = (meta, meta.with_suffix(".lock"))
        commits.add(commit)
    if len(commits) == 1 and not untrusted:
        unit.revision = commits.pop()
        unit.revision_reason = "local-dir metadata"
        tree = local_dir_tree(d, unit.revision)
        listing = read_tree(tree) if os.path.isfile(tree) and not os.path.islink(tree) else None
        if listing is not None and not all(is_safe_repo_path(p) for p in listing):
            unit.unsafe.append(f"{tree}: a path that leaves the repo in the tree listing; refused")
        elif listing is not None:
            unit.trees[unit.revision] = tree
    elif len(commits) > 1:
        unit.notes.append(f"the metadata names {len(commits)} commits ({', '.join(sorted(c[:12] for c in commits))})")
    if untrusted:
        unit.notes.append("not exactly the downloaded commit: " + "; ".join(untrusted[:3]))
    hf_dir = local_dir_meta(d)
    for p in [hf_dir / "CACHEDIR.TAG", hf_dir / ".gitignore", *unit.trees.values()]:
        if os.path.isfile(p) and not os.path.islink(p):
            unit.bookkeeping.append(p)
    return unit


def _check_bookkeeping(unit: Unit, hf_dir: Path) -> None:
    """`.cache/huggingface` is read for metadata: refuse links and special files in it."""
    for dirpath, dirnames, filenames in os.walk(hf_dir):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                unit.unsafe.append(f"{p}: symlink in the download metadata; not followed")
            elif kind := special_kind(st.st_mode):
                unit.unsafe.append(f"{p}: {kind} in the download metadata; refused")
        dirnames[:] = [n for n in dirnames if not os.path.islink(os.path.join(dirpath, n))]
