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
