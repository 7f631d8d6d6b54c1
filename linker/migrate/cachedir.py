"""An HF-layout cache in the wrong place (a project's own `models_cache/` of real folders, `./models/hub`, an app's
private HF_HOME), including hub 0.13 caches whose snapshot links are absolute or relative to an old working
directory.

Snapshot links are never followed: their text names the blob (`.../blobs/<etag>`), which is looked up in the
same repo folder of the source. A blob that is a link must resolve inside the source cache (its shared store) or
be a view link to the destination's own blob.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from ..errors import ConfigError
from ..hfcache import (
    BLOBS,
    REFS,
    SCAN_SKIPPED,
    SHA40,
    SNAPSHOTS,
    TREES,
    CacheRepo,
    etag_kind,
    is_safe_repo_path,
    lfs_patterns_from_gitattributes,
    link_etag,
    manifest_path,
    parse_repo_folder,
    read_tree,
    shared_store,
    snapshot_link_target,
)
from .units import HF_CACHE, SourceFile, Unit, ident_of, inside, special_kind


def cache_root(d: Path) -> Path | None:
    """`d` itself when it holds repo folders, or `d/hub` for an HF_HOME."""
    for cand in (d, d / "hub"):
        try:
            for e in os.scandir(cand):
                if e.is_dir(follow_symlinks=False) and parse_repo_folder(e.name) and e.name not in SCAN_SKIPPED:
                    return cand
        except OSError:
            continue
    return None


def scan_hf_cache(cache: Path, global_cache: Path | None, only: str | None = None) -> list[Unit]:
    cache = Path(os.path.abspath(cache))
    in_place = global_cache is not None and os.path.realpath(cache) == os.path.realpath(global_cache)
    view = manifest_path(cache).is_file()  # a linker view: its refs are the project's pins, not branches
    units = []
    try:
        entries = sorted(os.scandir(cache), key=lambda e: e.name)
    except OSError as exc:
        raise ConfigError(f"{cache}: cannot read ({exc.strerror})") from None
    for e in entries:
        parsed = parse_repo_folder(e.name)
        if not parsed or e.name in SCAN_SKIPPED or (only and e.name != only):
            continue
        if e.is_symlink():
            u = Unit(HF_CACHE, Path(e.path), repo_type=parsed[0], ids=[parsed[1]])
            u.notes.append(f"{e.path} is a symlink to another folder; not followed")
            units.append(u)
            continue
        if not e.is_dir(follow_symlinks=False):
            continue
        unit = _scan_repo(cache, Path(e.path), parsed[0], parsed[1], global_cache, in_place)
        if view and unit.refs:
            unit.notes.append(f"a linker view: its refs ({', '.join(sorted(unit.refs))}) are pins, not merged")
            unit.refs = {}
        units.append(unit)
    return units


def _global_targets(global_cache: Path | None, repo_type: str, repo_id: str, etag: str) -> set[str]:
    """Real paths a view's blob link may name when it already points into the global cache."""
    if global_cache is None:
        return set()
    g = CacheRepo(global_cache, repo_id, repo_type).blob(etag)
    return {os.path.realpath(g), os.path.abspath(g)}


def _scan_repo(
    cache: Path, repo: Path, repo_type: str, repo_id: str, global_cache: Path | None, in_place: bool
) -> Unit:
    unit = Unit(HF_CACHE, repo, repo_type=repo_type, ids=[repo_id], id_reason="from the repo folder name")
    unit.repo_path, unit.in_place = repo, in_place
    root_real = os.path.realpath(cache)
    store = shared_store(cache)
    store_real = os.path.realpath(store) if store else None
    blobs_dir = repo / BLOBS
    # Blobs: regular files, or links into this cache's shared store, or links a linker view made to the global cache.
    blobs: dict[str, SourceFile | None] = {}
    for b in sorted(os.scandir(blobs_dir), key=lambda e: e.name) if blobs_dir.is_dir() else []:
        p = Path(b.path)
        st = os.lstat(p)
        if etag_kind(b.name) is None:
            if special_kind(st.st_mode):
                unit.unsafe.append(f"{p}: {special_kind(st.st_mode)}; refused")
            else:
                unit.leftovers.append(str(p))
            continue
        if stat.S_ISREG(st.st_mode):
            blobs[b.name] = SourceFile("", p, st.st_size, ident_of(st), etag=b.name, origin="cache", leave_link=p)
        elif stat.S_ISLNK(st.st_mode):
            text = os.readlink(p)
            lexical = os.path.normpath(text if os.path.isabs(text) else os.path.join(os.path.dirname(p), text))
            real = os.path.realpath(p)
            if lexical in _global_targets(global_cache, repo_type, repo_id, b.name) or (
                real in _global_targets(global_cache, repo_type, repo_id, b.name)
            ):
                blobs[b.name] = None  # a view link to the global blob: nothing to move
                try:
                    unit.present[b.name] = os.stat(p).st_size
                except OSError:
                    unit.notes.append(f"{p} links to a global blob that is gone")
                continue
            if store_real and inside(lexical, store_real) and inside(real, store_real) and os.path.isfile(real):
                rst = os.stat(real)
                blobs[b.name] = SourceFile(
                    "", Path(real), rst.st_size, ident_of(rst), etag=b.name, origin="cache", shared=True, leave_link=p
                )
            elif not inside(lexical, root_real) or not inside(real, root_real):
                unit.unsafe.append(f"{p}: blob link pointing outside the source cache ({text}); not followed")
            else:
                unit.notes.append(f"{p}: blob link to {text} that is not a blob; skipped")
        elif kind := special_kind(st.st_mode):
            unit.unsafe.append(f"{p}: {kind}; refused")
    used: set[str] = set()
    snaps = repo / SNAPSHOTS
    for s in sorted(os.scandir(snaps), key=lambda e: e.name) if snaps.is_dir() else []:
        if not s.is_dir(follow_symlinks=False) or not SHA40.fullmatch(s.name):
            unit.notes.append(f"{s.path}: not a snapshot folder; skipped")
            continue
        unit.snapshots[s.name] = _scan_snapshot(unit, Path(s.path), blobs, used, root_real)
    for rel, content in _scan_refs(unit, repo / REFS).items():
        if rel.startswith("linker/"):
            continue  # another project's pins: not this cache's branches
        unit.refs[rel] = content
    trees = repo / TREES
    for t in sorted(os.scandir(trees), key=lambda e: e.name) if trees.is_dir() else []:
        rev = t.name.removesuffix(".json")
        if t.is_file(follow_symlinks=False) and SHA40.fullmatch(rev) and rev in unit.snapshots:
            listing = read_tree(Path(t.path))
            if listing is not None and all(is_safe_repo_path(k) for k in listing):
                unit.trees[rev] = Path(t.path)
            elif listing is not None:
                unit.unsafe.append(f"{t.path}: unsafe path in the tree listing; refused")
    for rev, files in unit.snapshots.items():  # real snapshot files: the tree listing names their blobs
        listing = read_tree(unit.trees[rev]) if rev in unit.trees else None
        for rel, f in files.items():
            if f.etag is None and listing and rel in listing:
                f.etag, f.lfs, f.origin = listing[rel].etag, listing[rel].lfs, "tree"
        ga = files.get(".gitattributes")
        if unit.lfs_patterns is None and ga is not None and ga.size < 1 << 20:  # else the Hub's defaults
            with contextlib.suppress(OSError):
                unit.lfs_patterns = lfs_patterns_from_gitattributes(ga.abspath.read_text(errors="replace"))
    unit.orphans = [f for etag, f in blobs.items() if f is not None and etag not in used]
    for f in unit.orphans:
        f.path = f"(blob {(f.etag or '')[:12]})"
    if unit.relinks:
        unit.notes.append(f"{unit.relinks} hub-0.13 snapshot link(s) (absolute or CWD-relative) rewritten as relative")
    return unit


def _scan_snapshot(
    unit: Unit, snap: Path, blobs: dict[str, SourceFile | None], used: set[str], root_real: str
) -> dict[str, SourceFile]:
    out: dict[str, SourceFile] = {}
    for dirpath, dirnames, filenames in os.walk(snap):
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            rel = p.relative_to(snap).as_posix()
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                continue
            if not is_safe_repo_path(rel):
                unit.unsafe.append(f"{p}: a file name that cannot be a repo path; refused")
                continue
            if stat.S_ISLNK(st.st_mode):
                text = os.readlink(p)
                etag = link_etag(text)
                if etag is None:
                    unit.unsafe.append(f"{p}: snapshot link to {text}, not a blob; not followed")
                    continue
                if etag not in blobs:
                    unit.notes.append(f"{p}: its blob {etag[:12]} is missing (dangling link); skipped")
                    continue
                used.add(etag)
                blob = blobs[etag]
                relink = None if text == snapshot_link_target(rel, etag) else p
                if relink is not None:
                    unit.relinks += 1
                if blob is None:
                    out[rel] = SourceFile(rel, p, unit.present.get(etag, 0), (0, 0, 0, 0), etag=etag, origin="view")
                    out[rel].relink = relink
                    continue
                out[rel] = SourceFile(
                    rel, blob.abspath, blob.size, blob.ident, etag=etag, origin="cache", shared=blob.shared,
                    leave_link=blob.leave_link, relink=relink,
                )  # fmt: skip
            elif stat.S_ISREG(st.st_mode):
                # a cache written without symlinks: the snapshot file is the blob
                out[rel] = SourceFile(rel, p, st.st_size, ident_of(st), relink=p)
            elif kind := special_kind(st.st_mode):
                unit.unsafe.append(f"{p}: {kind}; refused")
        dirnames[:] = [n for n in dirnames if not os.path.islink(os.path.join(dirpath, n))]
    return out


def _scan_refs(unit: Unit, refs: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(refs):
        for name in filenames + [n for n in dirnames if os.path.islink(os.path.join(dirpath, n))]:
            p = Path(dirpath) / name
            rel = p.relative_to(refs).as_posix()
            st = os.lstat(p)
            if not stat.S_ISREG(st.st_mode) or st.st_size > 256:
                unit.unsafe.append(f"{p}: a ref that is not a small regular file; refused")
                continue
            content = p.read_text(errors="replace").strip()
            if not is_safe_repo_path(rel) or not SHA40.fullmatch(content):
                unit.notes.append(f"{p}: not a valid ref; skipped")
                continue
            out[rel] = content
        dirnames[:] = [n for n in dirnames if not os.path.islink(os.path.join(dirpath, n))]
    return out
