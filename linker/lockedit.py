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
import copy
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import EXIT_USAGE, LockfileError, fs_boundary
from .filelocks import lockfile_lock
from .fsutil import atomic_write_text
from .lockfile import Loader, LockedFile, parse_lockfile

log = logging.getLogger("linker")

#: Key order of a new entry.
ENTRY_KEY_ORDER = ("id", "type", "revision", "ref", "local", "include", "exclude", "files")
_DEFAULTS: dict[str, Any] = {"type": "model", "ref": "main", "local": False, "include": [], "exclude": []}
_IDENTITY = ("id", "type")  # how an entry is found; never rewritten
_PLAIN = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./@+=-]*")
NEW_LOCKFILE = "# Pinned Hugging Face models of this project (see `linker --help`).\nversion: 1\nmodels: []\n"


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
            data = _load(text)
            upserts = [e for e in upserts if _find(data, e["id"], e.get("type") or "model") is not None]
        _edit(lock_path, upserts=upserts, removals=[], text=text)


def remove_entry(lock_path: Path, repo_id: str, repo_type: str = "model") -> bool:
    """Remove the entry with this id and type; False (and no write) when there is none."""
    with _locked(lock_path):
        text = _read_valid(lock_path)
        if _find(_load(text), repo_id, repo_type) is None:
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
        if _find(_load(text), repo_id, repo_type) is None:
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


def edit_text(text: str, *, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> str:
    """The new lockfile text for these changes (pure; used by the file functions and by tests)."""
    crlf = "\r\n" in text
    work = text.replace("\r\n", "\n")
    data = _load(work)
    expected = _expected(data, upserts, removals)
    try:
        new = _edit_in_place(work, upserts, removals)
        ok = _load(new) == expected
    except (yaml.YAMLError, _Unsupported):
        ok = False
    if not ok:
        log.warning("warning: could not edit project_cache.yaml in place; rewrote it (comments were not kept)")
        new = render_document(expected)
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


class _Unsupported(Exception):
    """A layout the text editor does not handle; the caller falls back to re-rendering."""


def _load(text: str) -> Any:
    return yaml.load(text, Loader=Loader) or {}


def _find(data: Any, repo_id: str, repo_type: str) -> int | None:
    models = data.get("models") if isinstance(data, dict) else None
    for i, item in enumerate(models or []):
        if isinstance(item, dict) and item.get("id") == repo_id and item.get("type", "model") == repo_type:
            return i
    return None


# ---------------------------------------------------------------------------------------------------------------
# The data an edit must produce


def _normalize(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Plain YAML data for an entry: files as {path: {size, hash}}, defaults as None (= absent)."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "files" and value is not None:
            value = {p: _file_data(f) for p, f in sorted(value.items())}
        elif key in ("include", "exclude") and value is not None:
            value = list(value)
        if key in _DEFAULTS and value == _DEFAULTS[key]:
            value = None
        out[key] = value
    return out


def _file_data(f: Any) -> dict[str, Any]:
    if isinstance(f, LockedFile):
        return {"size": f.size, "hash": f.hash}
    if isinstance(f, Mapping):
        return {"size": int(f["size"]), "hash": str(f["hash"])}
    size, digest = f
    return {"size": int(size), "hash": str(digest)}


def _key(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (entry.get("type") or "model", entry["id"])


def _expected(data: Any, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> Any:
    data = copy.deepcopy(data) if isinstance(data, dict) and data else {"version": 1}
    models = data.get("models") or []
    removed = set(removals)
    models = [m for m in models if not (isinstance(m, dict) and _key(m) in removed)]
    for raw in upserts:
        fields = _normalize(raw)
        for m in models:
            if isinstance(m, dict) and _key(m) == _key(raw):
                for k, v in fields.items():
                    if k in _IDENTITY:
                        continue
                    if v is None:
                        m.pop(k, None)
                    else:
                        m[k] = v
                break
        else:
            models.append({k: fields[k] for k in ENTRY_KEY_ORDER if fields.get(k) is not None})
    data["models"] = models
    return data


# ---------------------------------------------------------------------------------------------------------------
# Rendering


def scalar(value: Any) -> str:
    """A YAML scalar: plain when that reads back as the same string, else double-quoted."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    s = str(value)
    if _PLAIN.fullmatch(s) and yaml.load(s, Loader=Loader) == s:
        return s
    return json.dumps(s)


def _flow_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(json.dumps(str(v)) for v in values) + "]"


def _file_line(path: str, f: Mapping[str, Any]) -> str:
    return f"{scalar(path)}: {{size: {int(f['size'])}, hash: {scalar(f['hash'])}}}"


def _value_inline(key: str, value: Any) -> str | None:
    """The text after `key:` when the value fits on the key's line (None for a block map)."""
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, (list, tuple)):
        return _flow_list(value)
    return scalar(value)


def _key_lines(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` lines at `indent` (files maps continue on the following lines)."""
    inline = _value_inline(key, value)
    pad = " " * indent
    if inline is not None:
        return [f"{pad}{key}: {inline}"]
    return [f"{pad}{key}:"] + [f"{pad}  {_file_line(p, f)}" for p, f in value.items()]


def _entry_lines(fields: Mapping[str, Any], dash_col: int, key_col: int) -> list[str]:
    """A whole sequence item: `- id: ...` then the other keys, in `fields` order."""
    lines: list[str] = []
    for key, value in fields.items():
        if value is None:
            continue
        lines += _key_lines(key, value, key_col)
    if not lines:
        raise _Unsupported("empty entry")
    lines[0] = " " * dash_col + "-" + " " * max(key_col - dash_col - 1, 1) + lines[0][key_col:]
    return lines


def _ordered(fields: Mapping[str, Any]) -> dict[str, Any]:
    known = {k: fields[k] for k in ENTRY_KEY_ORDER if k in fields}
    return {**known, **{k: v for k, v in fields.items() if k not in known}}


def render_document(data: Mapping[str, Any]) -> str:
    """The whole lockfile from data, in linker's style (the fallback when a text edit is not possible)."""
    lines = []
    for key, value in data.items():
        if key == "models":
            continue
        lines.append(f"{scalar(key)}: {scalar(value)}")
    models = data.get("models") or []
    if not models:
        lines.append("models: []")
    else:
        lines.append("models:")
        for m in models:
            lines += _entry_lines(_ordered(m), 2, 4)
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------------------
# Text edits located with node marks


@dataclass
class _Splice:
    start: int
    end: int
    text: str


def _apply(text: str, splices: list[_Splice]) -> str:
    out, pos = [], 0
    for s in sorted(splices, key=lambda s: (s.start, s.end)):
        if s.start < pos:
            raise _Unsupported("overlapping edits")
        out += [text[pos : s.start], s.text]
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


def _content_end(node: yaml.Node) -> int:
    """Where a node's own text ends (block collections' end marks run on to the next token, past comments)."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1][1])
    if isinstance(node, yaml.SequenceNode) and not node.flow_style and node.value:
        return _content_end(node.value[-1])
    return node.end_mark.index


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end < 0 else end


def _colon_after(text: str, key: yaml.Node) -> int:
    pos = text.find(":", key.end_mark.index)
    if pos < 0 or text[key.end_mark.index : pos].strip():
        raise _Unsupported("no colon after key")
    return pos


def _top(text: str) -> yaml.MappingNode | None:
    root = yaml.compose(text, Loader=Loader)
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise _Unsupported("the document is not a block mapping")
    return root


def _pair(mapping: yaml.MappingNode, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    for k, v in mapping.value:
        if isinstance(k, yaml.ScalarNode) and k.value == name:
            return k, v
    return None


def _item_key(item: yaml.Node) -> tuple[str, str] | None:
    if not isinstance(item, yaml.MappingNode):
        return None
    found = {
        k.value: v.value for k, v in item.value if isinstance(k, yaml.ScalarNode) and isinstance(v, yaml.ScalarNode)
    }
    return (found.get("type") or "model", found["id"]) if "id" in found else None


def _dash(text: str, item: yaml.Node) -> int:
    """The position of an item's `-` (it precedes the item node, possibly on an earlier line)."""
    pos = item.start_mark.index - 1
    while pos >= 0 and text[pos] in " \t\n":
        pos -= 1
    if pos < 0 or text[pos] != "-" or text[_line_start(text, pos) : pos].strip():
        raise _Unsupported("sequence item without a leading dash")
    return pos


def _item_end(text: str, item: yaml.Node, dash_col: int) -> int:
    """The end of an item's last line, including comment lines after it indented deeper than its dash."""
    end = _line_end(text, _content_end(item))
    while end < len(text):
        nxt = _line_end(text, end + 1)
        line = text[end + 1 : nxt]
        stripped = line.lstrip()
        if not stripped.startswith("#") or len(line) - len(stripped) <= dash_col:
            break
        end = nxt
    return end


def _col(text: str, pos: int) -> int:
    return pos - _line_start(text, pos)


def _edit_in_place(text: str, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> str:
    """Phase 1: update and remove existing entries. Phase 2 (on the new text): append new entries."""
    root = _top(text)
    existing: set[tuple[str, str]] = set()
    if root is not None and (models := _pair(root, "models")) is not None:
        existing = {k for item in _items(models[1]) if (k := _item_key(item))}
    updates = {_key(u): _normalize(u) for u in upserts if _key(u) in existing}
    appends = [_ordered(_normalize(u)) for u in upserts if _key(u) not in existing]
    if updates or removals:
        text = _edit_existing(text, updates, set(removals))
    if appends:
        text = _append(text, appends)
    return text


def _items(models: yaml.Node) -> list[yaml.Node]:
    return list(models.value) if isinstance(models, yaml.SequenceNode) else []


def _edit_existing(text: str, updates: dict[tuple[str, str], dict[str, Any]], removals: set[tuple[str, str]]) -> str:
    root = _top(text)
    assert root is not None
    key_node, models = _pair(root, "models")  # type: ignore[misc]
    items = _items(models)
    keep = [i for i in items if _item_key(i) not in removals]
    if (isinstance(models, yaml.SequenceNode) and models.flow_style) or (items and not keep):
        # A flow list, or nothing left: rewrite the whole `models:` value from data.
        data = _expected(_load(text), [{"id": k[1], "type": k[0], **v} for k, v in updates.items()], list(removals))
        return _replace_models(text, key_node, models, data["models"])
    splices: list[_Splice] = []
    for item in items:
        ident = _item_key(item)
        if ident in removals:
            splices.append(_remove_item(text, item))
        elif ident in updates:
            splices += _update_item(text, item, updates[ident])
    return _apply(text, splices)


def _replace_models(text: str, key: yaml.Node, value: yaml.Node, models: list[dict[str, Any]]) -> str:
    colon = _colon_after(text, key)
    end = _content_end(value) if not (isinstance(value, yaml.ScalarNode) and value.value == "") else colon + 1
    if not models:
        new = " []"
    else:
        indent = _col(text, key.start_mark.index)
        lines = [ln for m in models for ln in _entry_lines(_ordered(m), indent + 2, indent + 4)]
        new = "\n" + "\n".join(lines)
    return text[: colon + 1] + new + text[end:]


def _remove_item(text: str, item: yaml.Node) -> _Splice:
    dash = _dash(text, item)
    start = _line_start(text, dash)
    # Comment lines directly above the item belong to it.
    while start > 0:
        prev = _line_start(text, start - 1)
        if not text[prev : start - 1].lstrip().startswith("#"):
            break
        start = prev
    end = _item_end(text, item, _col(text, dash))
    return _Splice(start, min(end + 1, len(text)), "")


def _update_item(text: str, item: yaml.Node, fields: dict[str, Any]) -> list[_Splice]:
    if not isinstance(item, yaml.MappingNode) or item.flow_style:
        return [_rerender_item(text, item, fields)]
    dash = _dash(text, item)
    key_col = _col(text, item.start_mark.index)
    splices: list[_Splice] = []
    additions: list[str] = []
    pairs = {k.value: (k, v) for k, v in item.value if isinstance(k, yaml.ScalarNode)}
    for name, value in fields.items():
        if name in _IDENTITY:
            continue
        if name in pairs:
            k, v = pairs[name]
            if value is not None and _load_node(v) == value:
                continue  # unchanged: keep the user's spelling (quotes, flow or block style)
            if value is None:
                if (
                    k.start_mark.index <= dash + 1
                    or text[_line_start(text, k.start_mark.index) : k.start_mark.index].strip()
                ):
                    return [_rerender_item(text, item, fields)]  # the key shares its line with the dash
                start = _line_start(text, k.start_mark.index)
                splices.append(_Splice(start, min(_line_end(text, _content_end(v)) + 1, len(text)), ""))
            else:
                splices.append(_replace_value(text, k, v, value, key_col))
        elif value is not None:
            additions += _key_lines(name, value, key_col)
    if additions:
        at = _line_end(text, _content_end(item))
        splices.append(_Splice(at, at, "\n" + "\n".join(additions)))
    return splices


def _replace_value(text: str, key: yaml.Node, old: yaml.Node, value: Any, key_col: int) -> _Splice:
    colon = _colon_after(text, key)
    end = _content_end(old)
    if old.start_mark.index == old.end_mark.index:  # an empty (null) value
        end = colon + 1
    inline = _value_inline(key.value, value)
    if inline is not None:
        return _Splice(colon + 1, end, " " + inline)
    block = "\n".join(f"{' ' * (key_col + 2)}{_file_line(p, f)}" for p, f in value.items())
    if end > colon + 1 and old.start_mark.line > key.start_mark.line:
        # Keep a comment on the key's line: replace from the end of that line.
        return _Splice(_line_end(text, colon), end, "\n" + block)
    return _Splice(colon + 1, end, "\n" + block)


def _rerender_item(text: str, item: yaml.Node, fields: dict[str, Any]) -> _Splice:
    """Rewrite one whole item in block style (flow entries, or layouts the key edits cannot handle)."""
    dash = _dash(text, item)
    flow = isinstance(item, yaml.CollectionNode) and item.flow_style
    data = yaml.load(text[item.start_mark.index : item.end_mark.index], Loader=Loader) if flow else None
    if data is None:
        data = _load_item(text, item)
    for k, v in fields.items():
        if k in _IDENTITY:
            continue
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    dash_col = _col(text, dash)
    key_col = dash_col + 2
    start = _line_start(text, dash)
    return _Splice(start, _content_end(item), "\n".join(_entry_lines(data, dash_col, key_col)))


def _load_item(text: str, item: yaml.Node) -> dict[str, Any]:
    return _load_node(item)


def _load_node(node: yaml.Node) -> Any:
    return yaml.constructor.SafeConstructor().construct_document(node)


def _append(text: str, entries: list[dict[str, Any]]) -> str:
    root = _top(text)
    if root is None or _pair(root, "models") is None:
        base = text if not text or text.endswith("\n") else text + "\n"
        if root is None and not base.strip():
            base = "version: 1\n"
        lines = [ln for e in entries for ln in _entry_lines(e, 2, 4)]
        return base + "models:\n" + "\n".join(lines) + "\n"
    key, models = _pair(root, "models")  # type: ignore[misc]
    items = _items(models)
    if not items or (isinstance(models, yaml.SequenceNode) and models.flow_style):
        data = _load(text)
        return _replace_models(text, key, models, list(data.get("models") or []) + entries)
    first = items[0]
    dash_col = _col(text, _dash(text, first))
    key_col = _col(text, first.start_mark.index) if isinstance(first, yaml.MappingNode) else dash_col + 2
    if key_col <= dash_col:
        key_col = dash_col + 2
    lines = [ln for e in entries for ln in _entry_lines(e, dash_col, key_col)]
    at = _item_end(text, items[-1], dash_col)
    return text[:at] + "\n" + "\n".join(lines) + text[at:]
