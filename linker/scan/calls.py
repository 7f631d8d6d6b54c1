"""Finding the loader calls in one parsed source and the repos they name (`Found`), with their place.

Only the branches of the tree whose lines hold a loader's name (found in the text first) are visited, so a
file is parsed once and walked only where it matters. Scopes are built on the way down, when a name must be
resolved.
"""

from __future__ import annotations

import ast
import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ..hfcache import REPO_TYPES, check_repo_id
from .finders import TRIGGERS, Arg, Finder, finders_for
from .scope import Scope, global_names, module_scope, string_value

DynamicKind = Literal["argument", "repo-type", "revision", "default-model"]
_EXPR_MAX = 60


@dataclass(frozen=True)
class Place:
    path: str  # relative to the project folder when inside it
    line: int
    col: int  # 1-based, as editors count
    cell: int | None = None  # a notebook's cell (1-based, counting every cell); `line` is within the cell

    def __str__(self) -> str:
        cell = f"cell{self.cell}:" if self.cell is not None else ""
        return f"{self.path}:{cell}{self.line}:{self.col}"


@dataclass(frozen=True)
class Dynamic:
    """Why a reference cannot be read without running the code: which part is not a literal, and its text."""

    kind: DynamicKind
    expr: str

    def describe(self) -> str:
        if self.kind == "default-model":
            return "no model given: the library picks its default for the task"
        what = {"argument": "the repo id", "repo-type": "repo_type=", "revision": "revision="}[self.kind]
        return f"{what} is `{self.expr}`, not a literal"


@dataclass(frozen=True)
class Found:
    """One repo reference in the code: an id (None when dynamic), its type and the revision the code asks for."""

    place: Place
    loader: str  # the finder's name: from_pretrained, pipeline, hf_hub_download...
    call: str  # the call as written: AutoModel.from_pretrained
    repo_id: str | None
    repo_type: str
    revision: str | None = None  # the literal `revision=`, None when not given
    dynamic: Dynamic | None = None


class SourceScan:
    """The references in the trees of one file (one tree per notebook cell; the cells share module constants)."""

    def __init__(self, path: str, is_local: Callable[[str], bool]) -> None:
        self.path = path
        self.is_local = is_local
        self.found: list[Found] = []
        self._trees: list[ast.Module] = []
        self._module: Scope | None = None
        self._globals = False  # some source has `global`
        self._walrus = False  # some source has `:=`

    def add_tree(self, tree: ast.Module, text: str) -> None:
        self._trees.append(tree)
        self._globals = self._globals or "global" in text
        self._walrus = self._walrus or ":=" in text

    def run(self, tree: ast.Module, text: str, cell: int | None = None, lines: list[int] | None = None) -> None:
        """Find the loader calls in `tree` (one of the added trees), whose source is `text` (`lines`: the lines
        where a loader's name appears, when already known)."""
        lines = trigger_lines(text) if lines is None else lines
        if lines:
            self._cell, self._lines = cell, lines
            self._visit(tree, _LazyModule(self))

    def module(self) -> Scope:
        if self._module is None:
            names: set[str] = set()
            for tree in self._trees if self._globals else ():
                names |= global_names(tree)
            self._module = module_scope(self._trees, names, walrus=self._walrus)
        return self._module

    # the walk ---------------------------------------------------------------------------------------------------
    def _spans_trigger(self, node: ast.AST) -> bool:
        start = getattr(node, "lineno", None)
        if start is None:
            return True  # arguments, comprehension, withitem...: no position of their own
        decorators = getattr(node, "decorator_list", None)
        if decorators:
            start = min(start, decorators[0].lineno)
        end = getattr(node, "end_lineno", None) or start
        i = bisect.bisect_left(self._lines, start)
        return i < len(self._lines) and self._lines[i] <= end

    def _visit(self, node: ast.AST, scope: _AnyScope) -> None:
        self._each(ast.iter_child_nodes(node), scope)

    def _each(self, nodes: Iterable[ast.AST], scope: _AnyScope) -> None:
        for child in nodes:
            if isinstance(child, _NO_CALLS) or not self._spans_trigger(child):
                continue
            if isinstance(child, ast.Call):
                self._call(child, scope)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self._each(_evaluated_outside(child), scope)
                inner = _Lazy(_function_scope(scope, child))
                self._each([child.body] if isinstance(child, ast.Lambda) else child.body, inner)
            elif isinstance(child, ast.ClassDef):
                self._each([*child.decorator_list, *child.bases, *child.keywords], scope)
                self._each(child.body, _Lazy(_class_scope(scope, child)))
            elif isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                self._visit(child, _Lazy(_comprehension_scope(scope, child)))
            else:
                self._visit(child, scope)

    # one call ---------------------------------------------------------------------------------------------------
    def _call(self, call: ast.Call, scope: _AnyScope) -> None:
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name is None:
            return
        receiver = _last_name(func.value) if isinstance(func, ast.Attribute) else None
        for finder in finders_for(name):
            if finder.method_only and not isinstance(func, ast.Attribute):
                continue
            if finder.receiver is not None and not (receiver and finder.receiver.fullmatch(receiver)):
                continue
            self._use(finder, call, _dotted(func), receiver, scope)
            return

    def _use(self, finder: Finder, call: ast.Call, text: str, receiver: str | None, scope: _AnyScope) -> None:
        real = _real(scope)
        repo_type, revision, trouble = self._type_and_revision(finder, call, real)
        for n, arg in enumerate(finder.ids):
            expr = _argument(call, arg)
            if expr is None:
                if n == 0 and finder.default_when_missing and not _has_splat(call):
                    self._add(call, finder, text, None, repo_type, None, Dynamic("default-model", ""))
                elif n == 0 and arg.required and _has_splat(call):
                    self._add(call, finder, text, None, repo_type, None, Dynamic("argument", "**kwargs"))
                continue
            value = string_value(expr, real)
            if value is None:
                literal_other = isinstance(expr, ast.Constant)  # None, a number: not a repo name at all
                wanted = arg.required and (finder.prefix is None or receiver in (finder.dynamic_receivers or ()))
                if wanted and not literal_other:
                    self._add(expr, finder, text, None, repo_type, None, Dynamic("argument", _source(expr)))
                continue
            repo_id = self._repo_id(finder, value)
            if repo_id is None:
                continue
            if trouble is not None:
                self._add(expr, finder, text, repo_id, repo_type, None, trouble)
            else:
                self._add(expr, finder, text, repo_id, repo_type, revision, None)

    def _type_and_revision(
        self, finder: Finder, call: ast.Call, scope: Scope
    ) -> tuple[str, str | None, Dynamic | None]:
        repo_type, trouble = finder.repo_type or "model", None
        if finder.repo_type is None and (expr := _keyword(call, "repo_type")) is not None:
            value = string_value(expr, scope)
            if value in REPO_TYPES:
                repo_type = value
            elif not (isinstance(expr, ast.Constant) and expr.value is None):
                trouble = Dynamic("repo-type", _source(expr))
        revision = None
        if finder.prefix is None and (expr := _keyword(call, "revision")) is not None:
            revision = string_value(expr, scope)
            if revision is None and not (isinstance(expr, ast.Constant) and expr.value is None):
                trouble = trouble or Dynamic("revision", _source(expr))
        return repo_type, revision, trouble

    def _repo_id(self, finder: Finder, value: str) -> str | None:
        """The Hub id a string names for this loader, or None: a local path, a builder's name, not an id."""
        if finder.prefix is not None:
            if not value.startswith(finder.prefix):
                return None
            value = value[len(finder.prefix) :]
        elif self.is_local(value):
            return None
        if value.lower() in finder.not_ids:
            return None
        if finder.bare_org and "/" not in value and value.lower() not in finder.bare_kept:
            value = f"{finder.bare_org}/{value}"
        return None if check_repo_id(value) else value

    def _add(
        self,
        node: ast.expr,
        finder: Finder,
        text: str,
        repo_id: str | None,
        repo_type: str,
        revision: str | None,
        dynamic: Dynamic | None,
    ) -> None:
        place = Place(self.path, node.lineno, node.col_offset + 1, self._cell)
        self.found.append(Found(place, finder.loader, text, repo_id, repo_type, revision, dynamic))


class _LazyModule:
    """The module scope, built only when a name must be resolved."""

    def __init__(self, scan: SourceScan) -> None:
        self.scan = scan


class _Lazy:
    def __init__(self, build: Callable[[], Scope]) -> None:
        self.build = build
        self.scope: Scope | None = None


_AnyScope = Scope | _LazyModule | _Lazy
#: Nodes that hold no call: never entered.
_NO_CALLS = (ast.Import, ast.ImportFrom, ast.Name, ast.Constant, ast.Pass, ast.Global, ast.Nonlocal, ast.alias)


def _real(scope: _AnyScope) -> Scope:
    if isinstance(scope, Scope):
        return scope
    if isinstance(scope, _LazyModule):
        return scope.scan.module()
    if scope.scope is None:
        scope.scope = scope.build()
    return scope.scope


def _function_scope(outer: _AnyScope, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Callable[[], Scope]:
    return lambda: _real(outer).function(node)


def _class_scope(outer: _AnyScope, node: ast.ClassDef) -> Callable[[], Scope]:
    return lambda: _real(outer).klass(node)


def _comprehension_scope(
    outer: _AnyScope, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp
) -> Callable[[], Scope]:
    return lambda: _real(outer).comprehension(node)


def trigger_lines(text: str) -> list[int]:
    """The line numbers (sorted, 1-based) where a loader's name appears as a whole word."""
    found: set[int] = set()
    size = len(text)
    for word in TRIGGERS:
        i = text.find(word)
        while i != -1:
            j = i + len(word)
            if (i == 0 or not _is_ident(text[i - 1])) and (j >= size or not _is_ident(text[j])):
                found.add(text.count("\n", 0, i) + 1)
            i = text.find(word, j)
    return sorted(found)


def _is_ident(char: str) -> bool:
    return char.isalnum() or char == "_"


def _evaluated_outside(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[ast.AST]:
    """A function's parts evaluated where it is defined: decorators and default values."""
    parts: list[ast.AST] = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
    if not isinstance(node, ast.Lambda):
        parts.extend(node.decorator_list)
    return parts


def _argument(call: ast.Call, arg: Arg) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg in arg.keywords:
            return kw.value
    if arg.pos is None:
        return None
    for i, value in enumerate(call.args):
        if isinstance(value, ast.Starred):
            return value if i <= arg.pos and arg.required else None
        if i == arg.pos:
            return value
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _has_splat(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args)


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return "(...)"


def _source(expr: ast.expr) -> str:
    text = ast.unparse(expr)
    return text if len(text) <= _EXPR_MAX else text[: _EXPR_MAX - 3] + "..."
