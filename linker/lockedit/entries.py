"""A lockfile entry as data and as text in linker's style: the data an edit must produce (defaults dropped, files
as `{size, hash}`), and how entries and whole documents are written (the fallback when a text edit is not possible).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from ..lockfile import Loader, LockedFile

#: Key order of a new entry.
ENTRY_KEY_ORDER = ("id", "type", "revision", "ref", "local", "include", "exclude", "absent", "files")
_DEFAULTS: dict[str, Any] = {"type": "model", "ref": "main", "local": False, "include": [], "exclude": [], "absent": []}
IDENTITY = ("id", "type")  # how an entry is found; never rewritten
_PLAIN = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./@+=-]*")
NEW_LOCKFILE = "# Pinned Hugging Face models of this project (see `linker --help`).\nversion: 1\nmodels: []\n"


class Unsupported(Exception):
    """A layout the text editor does not handle; the caller falls back to re-rendering."""


def load(text: str) -> Any:
    return yaml.load(text, Loader=Loader) or {}


# ---------------------------------------------------------------------------------------------------------------
# The data an edit must produce


def normalize(entry: Mapping[str, Any]) -> dict[str, Any]:
    """Plain YAML data for an entry: files as {path: {size, hash}}, defaults as None (= absent)."""
    out: dict[str, Any] = {}
    for key, value in entry.items():
        if key == "files" and value is not None:
            value = {p: _file_data(f) for p, f in sorted(value.items())}
        elif key in ("include", "exclude", "absent") and value is not None:
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


def entry_key(entry: Mapping[str, Any]) -> tuple[str, str]:
    return (entry.get("type") or "model", entry["id"])


def expected(data: Any, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> Any:
    data = copy.deepcopy(data) if isinstance(data, dict) and data else {"version": 1}
    models = data.get("models") or []
    removed = set(removals)
    models = [m for m in models if not (isinstance(m, dict) and entry_key(m) in removed)]
    for raw in upserts:
        fields = normalize(raw)
        for m in models:
            if isinstance(m, dict) and entry_key(m) == entry_key(raw):
                merge_fields(m, fields)
                break
        else:
            models.append({k: fields[k] for k in ENTRY_KEY_ORDER if fields.get(k) is not None})
    data["models"] = models
    return data


def merge_fields(target: dict[str, Any], fields: Mapping[str, Any]) -> None:
    """Set each field of an update on an entry's data (None removes the key); the identity keys never change."""
    for k, v in fields.items():
        if k in IDENTITY:
            continue
        if v is None:
            target.pop(k, None)
        else:
            target[k] = v


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


def file_line(path: str, f: Mapping[str, Any]) -> str:
    return f"{scalar(path)}: {{size: {int(f['size'])}, hash: {scalar(f['hash'])}}}"


def value_inline(key: str, value: Any) -> str | None:
    """The text after `key:` when the value fits on the key's line (None for a block map)."""
    if isinstance(value, dict):
        return "{}" if not value else None
    if isinstance(value, (list, tuple)):
        return _flow_list(value)
    return scalar(value)


def key_lines(key: str, value: Any, indent: int) -> list[str]:
    """`key: value` lines at `indent` (files maps continue on the following lines)."""
    inline = value_inline(key, value)
    pad = " " * indent
    if inline is not None:
        return [f"{pad}{key}: {inline}"]
    return [f"{pad}{key}:"] + [f"{pad}  {file_line(p, f)}" for p, f in value.items()]


def entry_lines(fields: Mapping[str, Any], dash_col: int, key_col: int) -> list[str]:
    """A whole sequence item: `- id: ...` then the other keys, in `fields` order."""
    lines: list[str] = []
    for key, value in fields.items():
        if value is None:
            continue
        lines += key_lines(key, value, key_col)
    if not lines:
        raise Unsupported("empty entry")
    lines[0] = " " * dash_col + "-" + " " * max(key_col - dash_col - 1, 1) + lines[0][key_col:]
    return lines


def ordered(fields: Mapping[str, Any]) -> dict[str, Any]:
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
            lines += entry_lines(ordered(m), 2, 4)
    return "\n".join(lines) + "\n"
