"""Rewrite `project_cache.yaml` in place, keeping what the user wrote.

Edits are made on the text, at positions taken from yaml's node marks, so everything outside the edited values
stays byte for byte: entry order, key order, comments, blank lines, quoting. What changes:

* an updated scalar (`revision: ...`) is replaced in place; a comment after it on the same line stays;
* a `files:` map is rewritten whole, one `path: {size: N, hash: H}` line per file, sorted by path
  (comments inside it are not kept: it is machine-written);
* `include`/`exclude` lists are written in flow style (`["*.json", "*.txt"]`);
* a new key goes at the end of its entry; a new entry goes at the end of `models:`;
* a removed entry takes its lines and the comment lines directly above it;
* a flow-style `models: [...]` list or a flow-style `{...}` entry that must change is rewritten in block style.

Every edit is checked: the new text must load to exactly the data expected and pass lockfile validation. If a
layout defeats the text edit, the file is re-rendered from the data (comments lost) with a warning. Writes are
atomic (temp file + `os.replace`) and keep the file's mode, line endings and a symlinked lockfile's link.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import EXIT_USAGE, LockfileError, fs_boundary
from ..filelocks import lockfile_lock
from ..fsutil import atomic_write_text
from ..lockfile import LOCKFILE_NAME, LockedFile, parse_lockfile
from .entries import NEW_LOCKFILE, Unsupported, expected, load, render_document
from .splice import edit_in_place

log = logging.getLogger("linker")


# ---------------------------------------------------------------------------------------------------------------
# Public API


def upsert_entry(lock_path: Path, entry: dict[str, Any]) -> None:
    """Add the entry, or update the entry with the same id and type.

    Keys given replace the old values; a key set to None (or to its default: type model, ref main, local false,
    empty include/exclude) is removed; keys not given are left alone.
    """
    upsert_entries(lock_path, [entry])


def upsert_entries(lock_path: Path, entries: Iterable[dict[str, Any]], *, only_existing: bool = False) -> None:
    """`upsert_entry` for many entries in one read and one atomic write. With `only_existing`, an entry that is
    no longer in the file (a concurrent `remove`) is left out rather than added back."""
    with _locked(lock_path):
        text = _read_valid(lock_path)
        upserts = list(entries)
        if only_existing:
            data = load(text)
            upserts = [e for e in upserts if _find(data, e["id"], e.get("type") or "model") is not None]
        _edit(lock_path, upserts=upserts, removals=[], text=text)


def remove_entry(lock_path: Path, repo_id: str, repo_type: str = "model") -> bool:
    """Remove the entry with this id and type; False (and no write) when there is none."""
    with _locked(lock_path):
        text = _read_valid(lock_path)
        if _find(load(text), repo_id, repo_type) is None:
            return False
        _edit(lock_path, upserts=[], removals=[(repo_type, repo_id)], text=text)
    return True


def set_revision_and_files(
    lock_path: Path,
    repo_id: str,
    repo_type: str,
    revision: str,
    files: Mapping[str, LockedFile] | None,
) -> None:
    """Set an existing entry's `revision` and `files` (None removes `files`). KeyError if the entry is absent."""
    with _locked(lock_path):
        text = _read_valid(lock_path)
        if _find(load(text), repo_id, repo_type) is None:
            raise KeyError(f"{repo_id} ({repo_type}) is not in {lock_path}")
        entry = {"id": repo_id, "type": repo_type, "revision": revision, "files": files}
        _edit(lock_path, upserts=[entry], removals=[], text=text)


def create_lockfile(lock_path: Path) -> bool:
    """Write a new, empty lockfile; False (and no write) when one exists, e.g. made by a concurrent `add`."""
    with fs_boundary(lock_path.parent, "cannot create the lockfile in"):
        lock_path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(lock_path):
        if os.path.lexists(lock_path):
            return False
        with fs_boundary(lock_path, "cannot create the lockfile"):
            atomic_write_text(lock_path, NEW_LOCKFILE)
    return True


def lockfile_to_edit(config: str | None, cwd: Path | None = None) -> Path:
    """The lockfile `add` and `migrate --lock` write: `--config` (click fills it from LINKER_CONFIG too), else the
    one found in the current folder or a parent, else a new `project_cache.yaml` in the current folder."""
    if config:
        return Path(config).expanduser().absolute()
    start = (cwd or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / LOCKFILE_NAME).is_file():
            return folder / LOCKFILE_NAME
    return start / LOCKFILE_NAME


def edit_text(text: str, *, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> str:
    """The new lockfile text for these changes (pure; used by the file functions and by tests)."""
    crlf = "\r\n" in text
    work = text.replace("\r\n", "\n")
    data = load(work)
    want = expected(data, upserts, removals)
    try:
        new = edit_in_place(work, upserts, removals)
        ok = load(new) == want
    except (yaml.YAMLError, Unsupported):
        ok = False
    if not ok:
        log.warning("warning: could not edit project_cache.yaml in place; rewrote it (comments were not kept)")
        new = render_document(want)
    return new.replace("\n", "\r\n") if crlf else new


# ---------------------------------------------------------------------------------------------------------------
# File plumbing


def _locked(lock_path: Path) -> contextlib.AbstractContextManager[None]:
    """Every writer holds this lock from reading the file to replacing it, so concurrent edits all land."""
    return lockfile_lock(lock_path)


def _read(lock_path: Path) -> str:
    with (
        fs_boundary(lock_path, "cannot read the lockfile", exit_code=EXIT_USAGE),
        open(lock_path, encoding="utf-8", newline="") as f,
    ):
        try:
            return f.read()
        except UnicodeDecodeError as exc:
            raise LockfileError(lock_path, None, None, f"not UTF-8 text (byte offset {exc.start})") from None


def _read_valid(lock_path: Path) -> str:
    """The lockfile's text, after the strict validation (so a broken file is a `file:line:col` error)."""
    text = _read(Path(os.path.realpath(lock_path)))
    parse_lockfile(text.replace("\r\n", "\n"), lock_path)
    return text


def _edit(lock_path: Path, *, upserts: list[dict[str, Any]], removals: list[tuple[str, str]], text: str) -> None:
    """Edit `text` (read by the caller under the lockfile lock), check it and atomically replace the lockfile."""
    real = Path(os.path.realpath(lock_path))
    old = text
    new = edit_text(old, upserts=upserts, removals=removals)
    if new == old:
        return
    parse_lockfile(new.replace("\r\n", "\n"), lock_path)  # never write a lockfile linker itself would reject
    with fs_boundary(real, "cannot write the lockfile"):
        mode = os.stat(real).st_mode & 0o7777
        atomic_write_text(real, new)
        os.chmod(real, mode)


def _find(data: Any, repo_id: str, repo_type: str) -> int | None:
    models = data.get("models") if isinstance(data, dict) else None
    for i, item in enumerate(models or []):
        if isinstance(item, dict) and item.get("id") == repo_id and item.get("type", "model") == repo_type:
            return i
    return None
