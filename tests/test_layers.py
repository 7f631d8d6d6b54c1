"""The layers stay apart: only the click layer (cli, context, commands/) and render/ know the CLI's `App`."""

from __future__ import annotations

import ast
from pathlib import Path

import linker
from linker.lockfile import repo_label
from linker.render.text import human_size, render_table

PACKAGE = Path(linker.__file__).parent
CLI_LAYER = ("cli.py", "context.py", "commands/", "render/")


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (inside functions too), as absolute `linker.x.y` names."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = parts if path.name == "__init__.py" else parts[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            out.add(module)
            out.update(f"{module}.{a.name}" for a in node.names)
    return out


def test_no_library_module_imports_the_cli_context() -> None:
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in sorted(PACKAGE.rglob("*.py"))
        if not str(p.relative_to(PACKAGE)).startswith(CLI_LAYER) and "linker.context" in _imports(p)
    ]
    assert offenders == []


def test_repo_label_names_non_models_by_type() -> None:
    assert repo_label("acme/m", "model") == "acme/m"
    assert repo_label("acme/d", "dataset") == "dataset:acme/d"


def test_text_helpers() -> None:
    assert [human_size(n) for n in (0, 999, 1500, 2_000_000, 3e15)] == ["0 B", "999 B", "1.5 KB", "2.0 MB", "3000.0 TB"]
    lines: list[str] = []
    render_table(lines.append, [["acme/m", "1"]], ["ID", "FILES"])
    assert lines == ["ID      FILES", "acme/m  1"]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_cycles() -> list[list[str]]:
    """Strongly connected groups of linker modules in the import graph, imports inside functions included."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {m: {d for d in _imports(p) if d in modules and d != m} for m, p in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = [stack.pop()]
            while group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for m in sorted(graph):
        if m not in index:
            visit(m)
    return cycles


def test_no_import_cycle_even_inside_functions() -> None:
    assert import_cycles() == []


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch) -> None:
    pkg = tmp_path / "linker"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from . import b\n")
    (pkg / "b.py").write_text("from .a import f\n")
    monkeypatch.setitem(globals(), "PACKAGE", pkg)
    assert import_cycles() == [["linker.a", "linker.b"]]


def test_no_module_over_the_size_limit() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py") if (n := len(p.read_text().splitlines())) > 450
    }
    assert long == {}
