"""Which files `linker scan` reads, and how: Python files and the code cells of Jupyter notebooks, read as text
and parsed with `ast`; never imported, never run.

A walk skips the view, virtualenvs, version-control folders, `node_modules`, `site-packages` and what the
`--exclude` globs name; it does not follow symlinks.
"""

from __future__ import annotations

import ast
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from .calls import SourceScan, trigger_lines
from .finders import TRIGGERS
from .reduce import reduce_source

SUFFIXES = (".py", ".ipynb")
#: Folders never read: version control, dependencies, caches, notebook autosaves (copies of the notebooks).
SKIP_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "node_modules",
        "site-packages",
        "__pycache__",
        ".ipynb_checkpoints",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
#: A folder holding one of these is a virtualenv (or a conda environment).
VENV_MARKERS = ("pyvenv.cfg", "conda-meta")
_TRIGGER_BYTES = re.compile(b"|".join(re.escape(t.encode()) for t in TRIGGERS))
#: Notebook cell magics whose body is still Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug"})

UnreadableKind = Literal["syntax", "notebook", "io"]


@dataclass(frozen=True)
class Unreadable:
    """A file (or a notebook cell) that could not be read or parsed: its references are unknown."""

    path: str
    kind: UnreadableKind
    detail: str

    def describe(self) -> str:
        return f"{self.path}: {self.detail}"


@dataclass(frozen=True)
class Rules:
    """What a walk leaves out; paths are shown relative to `root` (the project folder)."""

    root: Path
    skip: tuple[Path, ...] = ()  # absolute folders never entered (the view)
    excludes: tuple[str, ...] = ()
    listings: dict[Path, frozenset[str]] = field(default_factory=dict, compare=False)  # for is_local, per scan

    def relative(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def excluded(self, path: Path, rel: str) -> bool:
        name = path.name
        return any(fnmatchcase(rel, g) or fnmatchcase(name, g) for g in self.excludes)

    def skipped_dir(self, path: Path) -> bool:
        return path.name in SKIP_DIRS or path in self.skip


def source_files(paths: list[Path], rules: Rules, problems: list[Unreadable]) -> Iterator[Path]:
    """The files to read under `paths` (absolute), in a stable order, each once."""
    seen: set[Path] = set()
    for path in paths:
        rel = rules.relative(path)
        if path.is_dir() and not path.is_symlink():
            if rules.skipped_dir(path) or (rel != "." and rules.excluded(path, rel)):
                continue
            for found in _walk(path, rules, problems, top=True):
                if found not in seen:
                    seen.add(found)
                    yield found
        elif path.suffix in SUFFIXES and path not in seen and not _named_out(path, rules):
            seen.add(path)
            yield path


def _named_out(path: Path, rules: Rules) -> bool:
    """A file given by name (e.g. by pre-commit) is still left out when a walk would leave it out."""
    rel = rules.relative(path)
    parents = [p for p in path.parents if p != rules.root and rules.root in p.parents]
    return rules.excluded(path, rel) or any(
        rules.skipped_dir(p) or rules.excluded(p, rules.relative(p)) for p in parents
    )


def _walk(folder: Path, rules: Rules, problems: list[Unreadable], *, top: bool = False) -> Iterator[Path]:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        problems.append(Unreadable(rules.relative(folder), "io", f"cannot list the folder: {exc.strerror}"))
        return
    if not top and any(e.name in VENV_MARKERS for e in entries):
        return  # a virtualenv (a folder asked for by name is read even so)
    for entry in entries:
        if entry.is_symlink():
            continue  # never followed out of the tree we were asked to read
        path = Path(entry.path)
        if entry.is_dir():
            if not rules.skipped_dir(path) and not rules.excluded(path, rules.relative(path)):
                yield from _walk(path, rules, problems)
        elif entry.name.endswith(SUFFIXES) and not rules.excluded(path, rules.relative(path)):
            yield path


def scan_file(path: Path, rules: Rules, problems: list[Unreadable]) -> SourceScan | None:
    """The references in one file; None when it names no loader (most files: they are not even parsed)."""
    rel = rules.relative(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        problems.append(Unreadable(rel, "io", f"cannot read: {exc.strerror}"))
        return None
    if not _TRIGGER_BYTES.search(data):
        return None
    scan = SourceScan(rel, _local_check(path.parent, rules))
    if path.suffix == ".ipynb":
        _scan_notebook(scan, data, problems)
        return scan
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:  # another encoding (PEP 263): parsed from bytes, whole
        text = None
    lines = trigger_lines(text) if text is not None else None
    tree = _parse_reduced(text, lines) if text is not None and lines else None
    if tree is None:
        try:
            tree = ast.parse(data, filename=rel)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            problems.append(Unreadable(rel, "syntax", _why(exc)))
            return None
    if text is None:
        text = data.decode("utf-8", errors="replace")
    scan.add_tree(tree, text)
    _run(scan, tree, text, None, problems, lines)
    return scan


def _parse_reduced(text: str, lines: list[int]) -> ast.Module | None:
    """The tree of `text` with the functions and classes that name no loader stubbed out (reduce.py); None
    when that saves nothing or does not parse (a syntax error only in a stubbed body is then not reported)."""
    reduced = reduce_source(text, lines)
    if reduced is None:
        return None
    try:
        return ast.parse(reduced)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _scan_notebook(scan: SourceScan, data: bytes, problems: list[Unreadable]) -> None:
    try:
        notebook: Any = json.loads(data)
        cells = notebook["cells"]
        if not isinstance(cells, list):
            raise TypeError("cells is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        problems.append(Unreadable(scan.path, "notebook", f"not a Jupyter notebook ({type(exc).__name__})"))
        return
    parsed: list[tuple[int, ast.Module, str]] = []
    for n, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = _cell_python("".join(source) if isinstance(source, list) else str(source))
        if text is None or (not _TRIGGER_BYTES.search(text.encode()) and "=" not in text):
            continue  # neither a loader nor a constant a loader could use
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            problems.append(Unreadable(f"{scan.path}:cell{n}", "syntax", _why(exc)))
            continue
        scan.add_tree(tree, text)
        parsed.append((n, tree, text))
    for n, tree, text in parsed:
        _run(scan, tree, text, n, problems)


def _run(
    scan: SourceScan,
    tree: ast.Module,
    text: str,
    cell: int | None,
    problems: list[Unreadable],
    lines: list[int] | None = None,
) -> None:
    try:
        scan.run(tree, text, cell, lines)
    except RecursionError:
        where = f"{scan.path}:cell{cell}" if cell is not None else scan.path
        problems.append(Unreadable(where, "syntax", "nested too deeply to read"))


def _cell_python(text: str) -> str | None:
    """A code cell as Python: IPython magics (`%pip`, `!ls`) become blank lines, so line numbers stay right;
    None for a cell magic whose body is another language (`%%bash`)."""
    lines = text.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        if first[2:].split(maxsplit=1)[0:1] and first[2:].split()[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    return "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)


def _local_check(folder: Path, rules: Rules) -> Callable[[str], bool]:
    """`is_local(name)`: a path, not a Hub id: `./x`, `../x`, `/abs`, `~/x`, `C:\\x`, or a name that exists on disk
    beside the file or in the project folder."""

    def is_local(name: str) -> bool:
        if not name or name.startswith((".", "/", "~")) or "\\" in name or (len(name) > 1 and name[1] == ":"):
            return True
        return any(_exists(base, name, rules.listings) for base in (folder, rules.root))

    return is_local


def _exists(base: Path, name: str, listings: dict[Path, frozenset[str]]) -> bool:
    """`base/name` exists; the first part is looked up in a cached listing of `base`, so most names cost no
    system call."""
    listing = listings.get(base)
    if listing is None:
        try:
            listing = frozenset(os.listdir(base))
        except OSError:
            listing = frozenset()
        listings[base] = listing
    head, _, rest = name.partition("/")
    if head not in listing:
        return False
    try:
        return not rest or os.path.exists(os.path.join(base, name))
    except (OSError, ValueError):  # a name too long for a path, a NUL: not one
        return False


def _why(exc: BaseException) -> str:
    if isinstance(exc, SyntaxError):
        return f"not valid Python (line {exc.lineno}: {exc.msg})"
    return f"not valid Python ({type(exc).__name__})"
