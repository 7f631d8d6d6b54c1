"""The no-op fast path of sync's planner: prove an entry in sync from its manifest record and a few stats."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ..fsutil import writable_dir
from ..hfcache import read_small, ref_rel, repo_folder_name, snapshot_rel, tree_rel, view_ref_names
from ..lockfile import Entry
from .manifest import Manifest, RepoRecord, entry_spec, record_matches


def fast_in_sync(
    rec: RepoRecord, spec: str, repo_path: Path, stamp_ns: int, gref: str | None = None, grepo: str | None = None
) -> str | None:
    """Prove an entry in sync without reading the global cache: "dirs" when every recorded directory still has
    its mtime (a few stats per repo), else "files" when every link still resolves to the recorded inode (one
    stat per file), else None. Stamps not older than the manifest are racy and not trusted (as in git).
    The project's own ref `gref` (default: the recorded one) must exist (one stat): a moved or copied view's
    record names another project's. An unproven entry (its file list was the global snapshot folder's, in the
    global repo `grepo`) is proven only by "dirs", and only when every folder of that snapshot was stamped and
    no trees/<rev>.json has appeared since: an unchanged folder lists the same files."""
    if not rec.in_sync or rec.spec != spec:
        return None
    if not rec.proven and not _snapshot_unchanged_possible(rec, grepo):
        return None
    repo = str(repo_path)
    for name in view_ref_names(rec.ref):  # refs/main too: a view written before it always pinned main re-plans
        if read_small(f"{repo}/{ref_rel(name)}") != rec.revision:
            return None
    gref = rec.global_ref if gref is None else gref
    if rec.global_ref is None:  # skipped last time (a read-only global cache): planned again once writable
        if gref and writable_dir(Path(gref).parent) and not rec.served.startswith("shared:"):
            return None
    elif rec.global_ref != gref or not os.path.isfile(gref):
        return None
    stat_ = os.stat
    if rec.dirs and stamp_ns:  # the global ref's folder is among the dirs: its ref was neither removed nor replaced
        try:
            for d, mtime in rec.dirs.items():
                if mtime >= stamp_ns or stat_(d if d[0] == "/" else f"{repo}/{d}").st_mtime_ns != mtime:
                    break
            else:
                return "dirs"
        except OSError:
            pass
    if not rec.proven:  # one stat per file proves the view's links, not what the global snapshot folder lists
        return None
    if rec.global_ref and read_small(rec.global_ref) != rec.revision:
        return None
    for rel, ident in rec.paths.items():
        if ident is None:
            continue
        try:
            st = stat_(f"{repo}/{rel}")
        except OSError:
            return None
        if st.st_ino != ident[0] or st.st_dev != ident[1] or st.st_size != ident[2]:
            return None
    return "files"


def _snapshot_unchanged_possible(rec: RepoRecord, grepo: str | None) -> bool:
    """Whether the dir stamps can prove an unproven entry: its global snapshot folder was stamped (see
    apply.snapshot_stamps) and the global cache has no trees/<rev>.json (with one, the entry is planned as proven)."""
    if grepo is None or f"{grepo}/{snapshot_rel(rec.revision)}" not in rec.dirs:
        return False
    return not os.path.lexists(f"{grepo}/{tree_rel(rec.revision)}")


def recorded_files(
    manifest: Manifest, entries: list[Entry], global_cache: Path, tiers: Sequence[Path] = ()
) -> dict[str, list[str]]:
    """entry label -> the files its manifest record linked, for the entries without `files` whose record matches
    them exactly (`record_matches`), or, unproven, whose recorded folder stamps prove the global snapshot folder
    unchanged (sync's fast path): the pinned file list without reading trees/<sha>.json or snapshot folders."""
    out: dict[str, list[str]] = {}
    for e in entries:
        folder = repo_folder_name(e.id, e.type)
        rec = manifest.repos.get(folder) if e.files is None else None
        if rec is None:
            continue
        if rec.proven:
            ok = record_matches(e, rec, global_cache, tiers, first=manifest.link_mode)
        else:
            mode = manifest.link_mode or "symlink"
            spec = entry_spec(e, mode, global_cache, tiers if mode == "symlink" else ())
            grepo = f"{global_cache}/{folder}"
            ok = fast_in_sync(rec, spec, manifest.view / folder, manifest.stamp_ns, None, grepo) == "dirs"
        if ok and rec.revision == e.revision:
            prefix = snapshot_rel(rec.revision) + "/"
            n = len(prefix)
            out[e.label] = [rel[n:] for rel in rec.paths if rel.startswith(prefix)]
    return out
