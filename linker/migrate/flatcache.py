"""The transformers < 4.22 flat cache: `<sha256(url)>.<sha256(etag)>[.h5]` files with a `.json` sidecar holding
the url (repo, revision, path) and the raw etag (the blob name). docs/hf-cache.md §6c.

Sidecars are untrusted: a url whose path is absolute or has `..`, or names no valid repo, refuses the file.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError
from ..hfcache import SHA40, check_repo_id, etag_kind, is_safe_repo_path, lfs_patterns_from_gitattributes
from .units import TRANSFORMERS_LEGACY, SourceFile, Unit, ident_of, special_kind

LEGACY_NAME = re.compile(r"[0-9a-f]{64}\.[0-9a-f]{64}(\.h5)?")


def has_legacy_files(d: Path) -> bool:
    try:
        return any(LEGACY_NAME.fullmatch(e.name) for e in os.scandir(d) if e.is_file(follow_symlinks=False))
    except OSError:
        return False


def parse_legacy_url(url: str) -> tuple[str, str, str] | str:
    """(repo_id, revision, path) of a `.../<repo>/resolve/<rev>/<path>` url, or why it cannot be used."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"not an http(s) url: {url[:80]}"
    raw = parts.path
    if "/resolve/" not in raw:
        return f"not a Hub file url (pre-v4 S3/CDN download?): {url[:80]}"
    repo_part, _, rest = raw.partition("/resolve/")
    repo_id = unquote(repo_part.strip("/"))
    rev_raw, _, path_raw = rest.partition("/")
    rev, path = unquote(rev_raw), unquote(path_raw)
    if path.startswith("/") or not is_safe_repo_path(path):
        return f"unsafe path {path!r} in url"
    if check_repo_id(repo_id) is not None:
        return f"not a repo id: {repo_id!r}"
    if not rev or "\0" in rev or ".." in rev.split("/"):
        return f"unsafe revision {rev!r} in url"
    return repo_id, rev, path


def scan_transformers_legacy(d: Path) -> list[Unit]:
    d = Path(os.path.abspath(d))
    groups: dict[tuple[str, str], Unit] = {}
    refused = Unit(TRANSFORMERS_LEGACY, d, ids=[])
    try:
        entries = sorted(os.scandir(d), key=lambda e: e.name)
    except OSError as exc:
        raise ConfigError(f"{d}: cannot read ({exc.strerror})") from None
    by_name = {e.name: e for e in entries}
    for e in entries:
        if not LEGACY_NAME.fullmatch(e.name):
            continue
        p = Path(e.path)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            refused.unsafe.append(f"{p}: symlink in the transformers cache; not followed")
            continue
        if not stat.S_ISREG(st.st_mode):
            refused.unsafe.append(f"{p}: {special_kind(st.st_mode) or 'not a file'}; refused")
            continue
        side = by_name.get(e.name + ".json")
        if side is None or side.is_symlink() or not side.is_file(follow_symlinks=False):
            refused.notes.append(f"{p.name}: no .json sidecar; left in place")
            continue
        try:
            meta = json.loads(Path(side.path).read_text(errors="replace"))
            url, raw_etag = str(meta["url"]), str(meta.get("etag") or "")
        except (OSError, ValueError, KeyError, TypeError):
            refused.notes.append(f"{side.name}: unreadable sidecar; left in place")
            continue
        parsed = parse_legacy_url(url)
        if isinstance(parsed, str):
            if parsed.startswith("unsafe") or parsed.startswith("not a repo"):
                refused.unsafe.append(f"{side.path}: {parsed}; refused")
            else:
                refused.notes.append(f"{p.name}: {parsed}; left in place")
            continue
        repo_id, rev, path = parsed
        etag = raw_etag.removeprefix("W/").strip('"')
        sidecars = [Path(side.path)]
        if e.name + ".lock" in by_name:
            sidecars.append(d / (e.name + ".lock"))
        f = SourceFile(path, p, st.st_size, ident_of(st), sidecars=tuple(sidecars))
        if etag_kind(etag):
            f.etag, f.lfs, f.origin = etag, etag_kind(etag) == "sha256", "sidecar"
        unit = groups.get((repo_id, rev))
        if unit is None:
            unit = groups[(repo_id, rev)] = Unit(TRANSFORMERS_LEGACY, d, ids=[repo_id], id_reason="from the file url")
            if SHA40.fullmatch(rev):
                unit.revision, unit.revision_reason = rev, "transformers url names the commit"
            else:
                unit.branch = rev
        old = unit.files.get(path)
        if old is None:
            unit.files[path] = f
        elif old.ident[3] < f.ident[3]:  # several versions of one url: the newest is in the snapshot
            unit.extra.append(old)
            unit.files[path] = f
        else:
            unit.extra.append(f)
    for unit in groups.values():
        if unit.extra:
            unit.notes.append(f"{len(unit.extra)} older version(s) of some files: kept as blobs (no snapshot)")
        ga = unit.files.get(".gitattributes")
        if ga is not None and ga.size < 1 << 20:
            unit.lfs_patterns = lfs_patterns_from_gitattributes(ga.abspath.read_text(errors="replace"))
    out = list(groups.values())
    if refused.unsafe or refused.notes:
        refused.ids = ["(transformers cache)"]
        out.append(refused)
    return out
