"""What a name in the scanned code stands for, without running it: a module-level constant or a parameter's default
value in the same file, when it is bound exactly once to a string. Anything else is unknown (None), never guessed.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_MAX_DEPTH = 20  # constants defined from constants: deeper chains (or cycles) are not followed


class Scope:
    """Names bound in one scope: the expression a name is bound to once, or None (bound otherwise, or more than
    once). A name not bound here is looked up in `parent` (a method skips its class body, as Python does)."""

    def __init__(
        self,
        bindings: dict[str, ast.expr | None],
        parent: Scope | None,
        *,
        is_class: bool = False,
        params: frozenset[str] = frozenset(),
        walrus: bool = False,
    ) -> None:
        self.bindings = bindings
        self.parent = parent
        self.is_class = is_class
        self.params = params  # parameters: their default is evaluated where the function is defined
        self.walrus = walrus  # the source has `:=`, which binds names inside expressions

    def lookup(self, name: str) -> tuple[ast.expr | None, Scope | None]:
        """The expression `name` is bound to and the scope to evaluate it in; (None, None) when unknown."""
        scope: Scope | None = self
        while scope is not None:
            if name in scope.bindings:
                where = scope.parent if name in scope.params else scope
                return scope.bindings[name], where
            scope = scope.parent
        return None, None

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> Scope:
        """The scope of a function defined here: its parameters (with their default, when the body never binds
        them again) and every name its body binds."""
        outer = self.parent if self.is_class and self.parent is not None else self
        body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
        bound, declared = _bindings(body, self.walrus)
        names: dict[str, ast.expr | None] = {}
        for arg, default in _parameters(node.args):
            names[arg] = default if arg not in bound else None
        params = frozenset(names)
        for name, value in bound.items():
            if name not in declared and name not in params:
                names[name] = value
        for name in declared:
            names.pop(name, None)  # `global X` / `nonlocal X`: looked up outside
        return Scope(names, outer, params=params, walrus=self.walrus)

    def klass(self, node: ast.ClassDef) -> Scope:
        bound, _ = _bindings(list(node.body), self.walrus)
        return Scope(dict(bound), self, is_class=True, walrus=self.walrus)

    def comprehension(self, node: ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp) -> Scope:
        targets = {n.id: None for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        return Scope(dict.fromkeys(targets), self, walrus=self.walrus)


def module_scope(trees: Iterable[ast.Module], global_names: set[str], *, walrus: bool = False) -> Scope:
    """The module scope of one file (or of every code cell of a notebook, which share one namespace). A name some
    function declares `global` may be rebound there, so it is never a constant."""
    body: list[ast.AST] = [stmt for tree in trees for stmt in tree.body]
    bound, _ = _bindings(body, walrus)
    return Scope({k: (None if k in global_names else v) for k, v in bound.items()}, None, walrus=walrus)


def global_names(tree: ast.Module) -> set[str]:
    return {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}


def string_value(expr: ast.expr, scope: Scope, depth: int = 0) -> str | None:
    """The string `expr` evaluates to, when it is a literal, a name bound once to one, an f-string or a `+` of
    those; None otherwise."""
    if depth > _MAX_DEPTH:
        return None
    if isinstance(expr, ast.Constant):
        return expr.value if isinstance(expr.value, str) else None
    if isinstance(expr, ast.Name):
        value, where = scope.lookup(expr.id)
        return string_value(value, where, depth + 1) if value is not None and where is not None else None
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        left, right = string_value(expr.left, scope, depth + 1), string_value(expr.right, scope, depth + 1)
        return left + right if left is not None and right is not None else None
    if isinstance(expr, ast.JoinedStr):
        parts: list[str] = []
        for part in expr.values:
            if isinstance(part, ast.FormattedValue):
                if part.format_spec is not None or part.conversion not in (-1, 115):  # plain or !s
                    return None
                part = part.value
            text = string_value(part, scope, depth + 1)
            if text is None:
                return None
            parts.append(text)
        return "".join(parts)
    return None


# ---------------------------------------------------------------------------------------------------------------


def _parameters(args: ast.arguments) -> Iterator[tuple[str, ast.expr | None]]:
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    yield from ((a.arg, d) for a, d in zip(positional, defaults, strict=True))
    yield from ((a.arg, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True))
    for extra in (args.vararg, args.kwarg):
        if extra is not None:
            yield extra.arg, None


def _bindings(body: list[ast.AST], walrus: bool) -> tuple[dict[str, ast.expr | None], set[str]]:
    """Names bound in a scope's own code (not in nested functions, classes or comprehensions): name -> the value
    of its one plain assignment, or None; and the names declared `global` or `nonlocal`. Only statements are
    read, and their targets; expressions are searched only when the source has a `:=` (`walrus`)."""
    values: dict[str, list[ast.expr | None]] = {}
    declared: set[str] = set()

    def bind(name: str, value: ast.expr | None = None) -> None:
        values.setdefault(name, []).append(value)

    def bind_targets(*targets: ast.AST | None) -> None:
        for target in targets:
            if target is not None:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                        bind(n.id)
                    elif isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name:
                        bind(n.name)
                    elif isinstance(n, ast.MatchMapping) and n.rest:
                        bind(n.rest)

    for node in _statements(body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    bind(target.id, node.value)
                else:
                    bind_targets(target)
        elif isinstance(node, ast.AnnAssign):
            if isinstance(node.target, ast.Name) and node.value is not None:  # `x: str` alone binds nothing
                bind(node.target.id, node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor)):
            bind_targets(node.target)
        elif isinstance(node, ast.Delete):
            bind_targets(*node.targets)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            bind_targets(*(item.optional_vars for item in node.items))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bind(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bind((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bind(node.name)
        elif isinstance(node, ast.match_case):
            bind_targets(node.pattern)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared.update(node.names)
    if walrus:
        for node in _walk_scope(body):
            if isinstance(node, ast.NamedExpr):
                bind(node.target.id)
    return {k: (v[0] if len(v) == 1 else None) for k, v in values.items()}, declared


def _statements(body: list[ast.AST]) -> Iterator[ast.AST]:
    """The statements of one scope, in compound statements too (and their except handlers and match cases),
    not inside nested functions or classes."""
    todo = list(reversed(body))
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or not isinstance(
            node, (ast.stmt, ast.ExceptHandler, ast.match_case)
        ):
            continue
        inner: list[ast.AST] = []
        for name in ("body", "handlers", "orelse", "finalbody", "cases"):
            inner.extend(getattr(node, name, ()))
        todo.extend(reversed(inner))


def _walk_scope(nodes: list[ast.AST]) -> Iterator[ast.AST]:
    """Every node of one scope's code: nested functions, classes and lambdas are yielded but not entered
    (their decorators and defaults are); comprehensions are entered only for `:=`, which binds outside them."""
    todo = list(reversed(nodes))
    while todo:
        node = todo.pop()
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            todo.extend([*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d)])
        elif isinstance(node, ast.ClassDef):
            todo.extend([*node.decorator_list, *node.bases, *node.keywords])
        elif isinstance(node, ast.Lambda):
            todo.extend([*node.args.defaults, *(d for d in node.args.kw_defaults if d)])
        elif isinstance(node, _COMPREHENSIONS):
            todo.extend(n for n in ast.walk(node) if isinstance(n, ast.NamedExpr))
        else:
            todo.extend(reversed(list(ast.iter_child_nodes(node))))
