"""Parse less: before `ast.parse`, a top-level function or class whose lines name no loader is replaced by a stub
that binds the same name (`def f(): pass`), padded with blank lines so every line keeps its number.

Its body cannot name a repo, and its own names are local to it; a block that says `global` is kept, as it may
rebind a module constant. Top-level statements are the lines that start at column 0 outside a multi-line string;
when that guess is wrong the reduced text does not parse, and the caller parses the whole file instead.
"""

from __future__ import annotations

import bisect
import re

_STRINGS_AND_COMMENTS = re.compile(
    r"#[^\n]*"
    r'|"""(?:[^"\\]|\\.|"(?!""))*(?:"""|$)'
    r"|'''(?:[^'\\]|\\.|'(?!''))*(?:'''|$)"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'",
    re.S,
)
_STATEMENT_START = re.compile(r"^[^\s#]", re.M)
_HEADER = re.compile(r"(?:async[ \t]+def|def|class)[ \t]+(\w+)")
_MIN_SAVING = 8  # lines: below this a block is not worth replacing


def reduce_source(text: str, trigger_lines: list[int]) -> str | None:
    """The text with the top-level functions and classes that name no loader stubbed out; None when nothing
    would be saved."""
    starts = _statement_lines(text)
    if not starts:
        return None
    lines = text.split("\n")
    out = list(lines)
    changed = False
    for first, header, end in _blocks(starts, lines):
        if end - first < _MIN_SAVING:
            continue
        i = bisect.bisect_left(trigger_lines, first + 1)
        if i < len(trigger_lines) and trigger_lines[i] <= end:  # 1-based trigger lines in [first+1, end]
            continue
        block = lines[first:end]
        if any("global" in ln for ln in block):
            continue
        m = _HEADER.match(lines[header])
        if m is None:
            continue
        keyword = "class" if lines[header].startswith("class") else "def"
        stub = f"class {m[1]}: pass" if keyword == "class" else f"def {m[1]}(): pass"
        out[first:end] = [stub] + [""] * (end - first - 1)
        changed = True
    return "\n".join(out) if changed else None


def _statement_lines(text: str) -> list[int]:
    """0-based numbers of the lines that start at column 0 with code, outside multi-line strings."""
    spans: list[tuple[int, int]] = []  # (start, end) offsets of strings that span lines
    for m in _STRINGS_AND_COMMENTS.finditer(text):
        if "\n" in m[0] and m[0][0] != "#":
            spans.append((m.start(), m.end()))
    starts: list[int] = []
    line, pos, s = 0, 0, 0
    for m in _STATEMENT_START.finditer(text):
        at = m.start()
        while s < len(spans) and spans[s][1] <= at:
            s += 1
        if s < len(spans) and spans[s][0] < at:
            continue  # inside a multi-line string
        line += text.count("\n", pos, at)
        pos = at
        starts.append(line)
    return starts


def _blocks(starts: list[int], lines: list[str]) -> list[tuple[int, int, int]]:
    """(first line, header line, end line) of each top-level def/class, its decorators included (0-based, end
    exclusive)."""
    blocks: list[tuple[int, int, int]] = []
    k = 0
    while k < len(starts):
        first = starts[k]
        j = k
        while j < len(starts) and lines[starts[j]].startswith("@"):
            j += 1
        if j < len(starts) and _HEADER.match(lines[starts[j]]):
            end = starts[j + 1] if j + 1 < len(starts) else len(lines)
            blocks.append((first, starts[j], end))
            k = j + 1
        else:
            k = max(j, k + 1)
    return blocks
