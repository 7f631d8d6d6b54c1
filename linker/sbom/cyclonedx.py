"""The SBOM as a CycloneDX 1.6 JSON document (plain dicts: the base install needs no CycloneDX library).

One component per entry (`machine-learning-model`, `data` for a dataset, `application` for a space) with its
purl and revision, a `modelCard` from the card's front matter, and a nested `file` component per pinned file:
`SHA-256` for LFS/Xet files; a git blob's sha1 is not the SHA-1 of the bytes, so it is given as what it is, the
file's `omniborId` (`gitoid:blob:sha1:<oid>`) and `swhid` (`swh:1:cnt:<oid>`)."""

from __future__ import annotations

from typing import Any

from .. import __version__
from .card import ModelCard
from .licenses import spdx_id
from .model import Sbom, SbomEntry, SbomFile
from .stamp import serial, timestamp

SPEC_VERSION = "1.6"
COMPONENT_TYPE = {"model": "machine-learning-model", "dataset": "data", "space": "application"}
PROJECT_REF = "project"


def cyclonedx(sbom: Sbom) -> dict[str, Any]:
    components = [_component(e, sbom) for e in sbom.entries]
    doc: dict[str, Any] = {
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        "metadata": {
            "timestamp": timestamp(),
            "tools": {"components": [{"type": "application", "name": "hf-linker", "version": __version__}]},
            "component": {"type": "application", "bom-ref": PROJECT_REF, "name": sbom.project},
        },
        "components": components,
        "dependencies": [{"ref": PROJECT_REF, "dependsOn": [e.purl for e in sbom.entries]}],
    }
    return {**doc, "serialNumber": f"urn:uuid:{serial(components)}"}


def _component(entry: SbomEntry, sbom: Sbom) -> dict[str, Any]:
    out: dict[str, Any] = {"type": COMPONENT_TYPE[entry.type], "bom-ref": entry.purl}
    if entry.namespace:
        out["group"] = entry.namespace
    out.update({"name": entry.name, "version": entry.revision, "purl": entry.purl})
    if entry.card is not None and (licenses := _licenses(entry.card)):
        out["licenses"] = licenses
    if not entry.local:  # a local revision exists on no Hub
        out["externalReferences"] = [{"type": "distribution", "url": f"{entry.repo_url}/tree/{entry.revision}"}]
    if entry.card is not None and entry.type == "model":
        out["modelCard"] = _model_card(entry.card, sbom)
    out["properties"] = [
        {"name": "hf-linker:repo-type", "value": entry.type},
        {"name": "hf-linker:ref", "value": entry.ref},
        {"name": "hf-linker:file-list", "value": entry.listing},
        *([{"name": "hf-linker:local", "value": "true"}] if entry.local else []),
    ]
    if entry.card is not None and entry.type != "model":  # a dataset's card has no modelCard: its tags, then
        out["properties"] += _card_properties(entry.card)
    out["components"] = [_file(entry, f) for f in entry.files]
    return out


def _file(entry: SbomEntry, f: SbomFile) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "file", "bom-ref": f"{entry.purl}#{f.path}", "name": f.path}
    if f.sha256:
        out["hashes"] = [{"alg": "SHA-256", "content": f.sha256}]
    if f.gitoid:
        out["omniborId"] = [f"gitoid:blob:sha1:{f.gitoid}"]
        out["swhid"] = [f"swh:1:cnt:{f.gitoid}"]
    if f.size is not None:
        out["properties"] = [{"name": "hf-linker:size", "value": str(f.size)}]
    return out


def _licenses(card: ModelCard) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for lic in card.license:
        known = spdx_id(lic)
        name = card.license_name if lic.lower() == "other" and card.license_name else lic
        out.append({"license": {"id": known} if known else {"name": name}})
    return out


def _model_card(card: ModelCard, sbom: Sbom) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if card.pipeline_tag:
        params["task"] = card.pipeline_tag
    if card.datasets:
        pinned = {e.id: e.purl for e in sbom.entries if e.type == "dataset"}
        params["datasets"] = [
            {"ref": pinned[d]} if d in pinned else {"type": "dataset", "name": d} for d in card.datasets
        ]
    out: dict[str, Any] = {"modelParameters": params} if params else {}
    props = _card_properties(card)
    if props:
        out["properties"] = props
    return out


def _card_properties(card: ModelCard) -> list[dict[str, str]]:
    pairs = [
        *(("huggingface:tag", t) for t in card.tags),
        *(("huggingface:base_model", b) for b in card.base_model),
        *(("huggingface:language", lang) for lang in card.language),
        *(("huggingface:pipeline_tag", p) for p in (card.pipeline_tag,) if p),
        *(("huggingface:library_name", n) for n in (card.library_name,) if n),
        *(("huggingface:dataset", d) for d in card.datasets),
        *(("huggingface:license", lic) for lic in card.license),
    ]
    return [{"name": n, "value": v} for n, v in pairs]
