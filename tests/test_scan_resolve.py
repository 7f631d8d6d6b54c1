"""How `linker scan` resolves names without running the code (in-process: the library's `find_references`)."""

from __future__ import annotations

from pathlib import Path

from linker.scan import find_references


def refs(tmp_path: Path, source: str) -> list[tuple[int, str | None]]:
    (tmp_path / "m.py").write_text(source)
    _, found, problems = find_references([tmp_path], tmp_path)
    assert problems == []
    return [(f.place.line, f.repo_id) for f in found]


def test_a_name_bound_once_resolves_and_a_name_bound_twice_does_not(tmp_path):
    src = (
        'A = "acme/a"\nB = "acme/b"\nB = "acme/b2"\nC: str = f"{A}-x"\n'
        "AutoModel.from_pretrained(A)\nAutoModel.from_pretrained(B)\nAutoModel.from_pretrained(C)\n"
    )
    assert refs(tmp_path, src) == [(5, "acme/a"), (6, None), (7, "acme/a-x")]


def test_global_rebinding_and_shadowing_are_not_guessed(tmp_path):
    src = """\
M = "acme/m"
G = "acme/g"


def reset():
    global G
    G = "acme/other"


def f(M="acme/default", n="acme/n"):
    n = n.strip()
    return AutoModel.from_pretrained(M), AutoModel.from_pretrained(n), AutoModel.from_pretrained(G)


class K:
    M = "acme/class"

    def g(self):
        return AutoModel.from_pretrained(M)


xs = [AutoModel.from_pretrained(M) for M in ("a/b", "c/d")]
"""
    assert refs(tmp_path, src) == [(12, "acme/default"), (12, None), (12, None), (19, "acme/m"), (22, None)]


def test_stubbed_functions_keep_line_numbers_and_strings_are_not_code(tmp_path):
    filler = "\n".join(f"    x{i} = {i}" for i in range(12))
    src = f'''\
def helper():
    """Text at column 0 inside a docstring:
def not_code():
    AutoModel.from_pretrained("acme/in-a-string")
"""
{filler}


@decorator
def unrelated():
{filler}
    return 1


def load():
    return AutoModel.from_pretrained("acme/real")
'''
    line = src.splitlines().index('    return AutoModel.from_pretrained("acme/real")') + 1
    assert refs(tmp_path, src) == [(line, "acme/real")]


def test_walrus_in_a_scope_binds_the_name(tmp_path):
    src = 'N = "acme/n"\nif (N := pick()):\n    pass\nAutoModel.from_pretrained(N)\n'
    assert refs(tmp_path, src) == [(4, None)]
