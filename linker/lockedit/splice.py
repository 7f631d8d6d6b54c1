"""Text edits of a lockfile at positions taken from yaml's node marks, so everything outside the edited values stays
byte for byte (see linker/lockedit/__init__.py for the rules)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from ..lockfile import Loader
from .entries import (
    IDENTITY,
    Unsupported,
    entry_key,
    entry_lines,
    expected,
    file_line,
    key_lines,
    load,
    merge_fields,
    normalize,
    ordered,
    value_inline,
)

# ---------------------------------------------------------------------------------------------------------------
# Text edits located with node marks


@dataclass
class _Splice:
    start: int
    end: int
    text: str


def _is_flow(node: yaml.Node) -> bool:
    return isinstance(node, yaml.CollectionNode) and bool(node.flow_style)


def _apply(text: str, splices: list[_Splice]) -> str:
    out, pos = [], 0
    for s in sorted(splices, key=lambda s: (s.start, s.end)):
        if s.start < pos:
            raise Unsupported("overlapping edits")
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
        raise Unsupported("no colon after key")
    return pos


def _top(text: str) -> yaml.MappingNode | None:
    root = yaml.compose(text, Loader=Loader)
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise Unsupported("the document is not a block mapping")
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
        raise Unsupported("sequence item without a leading dash")
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


def edit_in_place(text: str, upserts: list[dict[str, Any]], removals: list[tuple[str, str]]) -> str:
    """Phase 1: update and remove existing entries. Phase 2 (on the new text): append new entries."""
    root = _top(text)
    existing: set[tuple[str, str]] = set()
    if root is not None and (models := _pair(root, "models")) is not None:
        existing = {k for item in _items(models[1]) if (k := _item_key(item))}
    updates = {entry_key(u): normalize(u) for u in upserts if entry_key(u) in existing}
    appends = [ordered(normalize(u)) for u in upserts if entry_key(u) not in existing]
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
        data = expected(load(text), [{"id": k[1], "type": k[0], **v} for k, v in updates.items()], list(removals))
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
        lines = [ln for m in models for ln in entry_lines(ordered(m), indent + 2, indent + 4)]
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
        if name in IDENTITY:
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
            additions += key_lines(name, value, key_col)
    if additions:
        at = _line_end(text, _content_end(item))
        splices.append(_Splice(at, at, "\n" + "\n".join(additions)))
    return splices


def _replace_value(text: str, key: yaml.Node, old: yaml.Node, value: Any, key_col: int) -> _Splice:
    colon = _colon_after(text, key)
    end = _content_end(old)
    if old.start_mark.index == old.end_mark.index:  # an empty (null) value
        end = colon + 1
    inline = value_inline(key.value, value)
    if inline is not None:
        return _Splice(colon + 1, end, " " + inline)
    block = "\n".join(f"{' ' * (key_col + 2)}{file_line(p, f)}" for p, f in value.items())
    if end > colon + 1 and old.start_mark.line > key.start_mark.line:
        # Keep a comment on the key's line: replace from the end of that line.
        return _Splice(_line_end(text, colon), end, "\n" + block)
    return _Splice(colon + 1, end, "\n" + block)


def _rerender_item(text: str, item: yaml.Node, fields: dict[str, Any]) -> _Splice:
    """Rewrite one whole item in block style (flow entries, or layouts the key edits cannot handle)."""
    dash = _dash(text, item)
    data = yaml.load(text[item.start_mark.index : item.end_mark.index], Loader=Loader) if _is_flow(item) else None
    if data is None:
        data = _load_item(text, item)
    merge_fields(data, fields)
    dash_col = _col(text, dash)
    key_col = dash_col + 2
    start = _line_start(text, dash)
    return _Splice(start, _content_end(item), "\n".join(entry_lines(data, dash_col, key_col)))


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
        lines = [ln for e in entries for ln in entry_lines(e, 2, 4)]
        return base + "models:\n" + "\n".join(lines) + "\n"
    key, models = _pair(root, "models")  # type: ignore[misc]
    items = _items(models)
    if not items or _is_flow(models):
        data = load(text)
        return _replace_models(text, key, models, list(data.get("models") or []) + entries)
    first = items[0]
    dash_col = _col(text, _dash(text, first))
    key_col = _col(text, first.start_mark.index) if isinstance(first, yaml.MappingNode) else dash_col + 2
    if key_col <= dash_col:
        key_col = dash_col + 2
    lines = [ln for e in entries for ln in entry_lines(e, dash_col, key_col)]
    at = _item_end(text, items[-1], dash_col)
    return text[:at] + "\n" + "\n".join(lines) + text[at:]
