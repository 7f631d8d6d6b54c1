"""Helpers for the shared-tier tests: a read-only tier (built with the cache factory) and a project view whose
blob links point into it, as `linker sync --shared-cache` leaves it; a snapshot of a tree to prove it unchanged."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from testing.cachefactory import RepoInfo, build_repo, repo_folder_name, tiny_model_files
from testing.repairkit import REPO, REV, lock_entry


def tier_synced(project: Any, tier: Path, *, repo_id: str = REPO, seed: int = 1) -> tuple[RepoInfo, dict[str, bytes]]:
    """A shared tier holding one tiny model, a lock pinning it (with `files`), and a view whose blob links point
    into the tier (view `blobs/<etag>` -> `<tier>/<folder>/blobs/<etag>`, snapshot links `../../blobs/<etag>`).
    The writable global cache (`project.global_cache`) holds none of it and no ref."""
    files = tiny_model_files("st", seed=seed)
    info = build_repo(tier, repo_id, {REV: files}, refs={})
    project.write_lock([lock_entry(info, REV)])
    r = project.linker("sync", env={"HF_HUB_CACHE": str(tier)})  # the view's links then lead into the tier
    assert r.returncode == 0, r.stdout + r.stderr
    shutil.rmtree(tier / repo_folder_name(repo_id) / "refs" / "linker")  # a tier never gets a project ref
    shutil.rmtree(tier / ".locks", ignore_errors=True)
    return info, files


def tree_state(root: Path) -> dict[str, tuple[str, int, bytes | str]]:
    """Every entry under `root`: (type, mtime_ns, bytes of a file or text of a link)."""
    out: dict[str, tuple[str, int, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("link", st.st_mtime_ns, os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("dir", st.st_mtime_ns, "")
            else:
                out[rel] = ("file", st.st_mtime_ns, Path(p).read_bytes())
    return out


def all_paths(root: Path) -> list[Path]:
    """`root` and everything under it (for `chattr +i`), not following links."""
    paths = [root]
    for dirpath, dirnames, filenames in os.walk(root):
        paths += [Path(dirpath) / n for n in dirnames + filenames if not os.path.islink(os.path.join(dirpath, n))]
    return paths
