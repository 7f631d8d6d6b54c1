"""Formatting shared by every renderer (and by library messages that quote a size): sizes, counts, tables."""

from __future__ import annotations

from collections.abc import Callable


def human_size(n: float) -> str:
    """Decimal units, as the Hub shows them: `512 B`, `1.5 MB`."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n} B"


def n_entries(n: int) -> str:
    """`1 entry`, `2 entries`."""
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def render_table(out: Callable[[str], None], rows: list[list[str]], headers: list[str]) -> None:
    """Left-aligned columns as wide as their widest cell, two spaces apart, no trailing blanks."""
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        out("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=False)).rstrip())
