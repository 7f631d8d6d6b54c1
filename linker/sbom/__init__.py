"""`linker sbom`: the pinned entries as a software bill of materials, CycloneDX 1.6 or SPDX 2.3 JSON.

* `model`: what the document says (plain data, from the lock, `linker.pins`, the view's model cards);
* `cyclonedx`, `spdx`: that data as each format's JSON (plain dicts: no library needed);
* `validate`: the official validators, from the optional `hf-linker[sbom]` extra.
"""

from __future__ import annotations

from typing import Any

from .cyclonedx import cyclonedx
from .model import Sbom, SbomEntry, SbomFile, collect, hub_endpoint, purl
from .spdx import spdx

FORMATS = ("cyclonedx", "spdx")


def document(sbom: Sbom, fmt: str) -> dict[str, Any]:
    """The SBOM as a JSON-ready document in `fmt` (one of FORMATS)."""
    return cyclonedx(sbom) if fmt == "cyclonedx" else spdx(sbom)


__all__ = [
    "FORMATS",
    "Sbom",
    "SbomEntry",
    "SbomFile",
    "collect",
    "cyclonedx",
    "document",
    "hub_endpoint",
    "purl",
    "spdx",
]
