"""The model card summary: the YAML front matter of a pinned `README.md`, read safely from the view.

Read only when the file is a regular file that resolves inside the view or the global cache, at most
`MAX_CARD_BYTES`, with yaml's safe loader (no tags that build objects); anything else is "no card"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..hfcache import read_small
from ..roots import Roots, resolves_inside

CARD_PATH = "README.md"
MAX_CARD_BYTES = 256 * 1024  # front matter sits at the top; a card is rarely over a few dozen KiB
_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class ModelCard:
    """What the SBOM takes from a card's front matter (every field optional)."""

    license: tuple[str, ...] = ()
    license_name: str | None = None  # for `license: other`
    pipeline_tag: str | None = None
    library_name: str | None = None
    tags: tuple[str, ...] = ()
    datasets: tuple[str, ...] = ()
    base_model: tuple[str, ...] = ()
    language: tuple[str, ...] = ()


def read_card(path: Path, roots: Roots) -> ModelCard | None:
    """The card at `path` (a view snapshot's README.md), or None when absent, unsafe to read, or without front
    matter."""
    if not resolves_inside(path, roots):
        return None
    text = read_small(str(path), MAX_CARD_BYTES)  # a regular file only, never blocking on a FIFO
    return None if text is None else parse_front_matter(text)


def parse_front_matter(text: str) -> ModelCard | None:
    """The summary of the `---`-delimited YAML block at the top of `text` (None when there is none or it is not
    a mapping)."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return None
    try:
        meta = yaml.load("\n".join(lines[1:end]), Loader=_SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict):
        return None
    return ModelCard(
        license=_strings(meta.get("license")),
        license_name=_string(meta.get("license_name")),
        pipeline_tag=_string(meta.get("pipeline_tag")),
        library_name=_string(meta.get("library_name")),
        tags=_strings(meta.get("tags")),
        datasets=_strings(meta.get("datasets")),
        base_model=_strings(meta.get("base_model")),
        language=_strings(meta.get("language")),
    )


def _string(value: Any) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and str(value).strip():
        return str(value).strip()
    return None


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        s = _string(item)
        if s is not None and s not in out:
            out.append(s)
    return tuple(out)
