"""The SBOM as an SPDX 2.3 JSON document, with the content of the CycloneDX one.

An entry is a package (purl external ref, revision as `versionInfo`, the card's license as `licenseDeclared`,
its front matter summarised in `description`). SPDX 2.3 requires a SHA1 of the bytes for every `File`, which the
lock does not have (LFS files are named by sha256, the others by their git blob sha1, which differs from the
bytes' SHA1), so each pinned file is a package of purpose `FILE` that the entry `CONTAINS`: `SHA256` checksum
for LFS/Xet files, a `PERSISTENT-ID` `gitoid` and `swh` external ref for git blobs."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from .. import __version__
from .card import ModelCard
from .licenses import spdx_id
from .model import Sbom, SbomEntry, SbomFile
from .stamp import serial, timestamp

NOASSERTION = "NOASSERTION"
PROJECT_REF = "SPDXRef-project"
_PURPOSE_COMMENT = {"model": "machine-learning-model", "dataset": "dataset", "space": "application"}
_REF_CHARS = re.compile(r"[^A-Za-z0-9.\-]+")
_DNS_NAME = re.compile(r"(?i)[a-z0-9]+([.-][a-z0-9]+)*\.[a-z]{2,5}")  # what SPDX tools accept as a host


def spdx(sbom: Sbom) -> dict[str, Any]:
    packages: list[dict[str, Any]] = [_project(sbom)]
    relationships = [_rel("SPDXRef-DOCUMENT", "DESCRIBES", PROJECT_REF)]
    extracted: dict[str, dict[str, str]] = {}
    for n, entry in enumerate(sbom.entries, 1):
        ref = f"SPDXRef-{entry.type}-{n}-{_idstring(entry.id)}"
        packages.append(_package(entry, ref, extracted))
        relationships.append(_rel(PROJECT_REF, "DEPENDS_ON", ref))
        for m, f in enumerate(entry.files, 1):
            file_ref = f"{ref}-file-{m}"
            packages.append(_file_package(entry, f, file_ref))
            relationships.append(_rel(ref, "CONTAINS", file_ref))
    content = {"packages": packages, "relationships": relationships}
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{sbom.project} (hf-linker)",
        "documentNamespace": f"https://spdx.org/spdxdocs/hf-linker/{_idstring(sbom.project)}-{serial(content)}",
        "creationInfo": {"created": timestamp(), "creators": [f"Tool: hf-linker-{__version__}"]},
        **content,
    }
    if extracted:
        doc["hasExtractedLicensingInfos"] = list(extracted.values())
    return doc


def _rel(element: str, kind: str, related: str) -> dict[str, str]:
    return {"spdxElementId": element, "relationshipType": kind, "relatedSpdxElement": related}


def _project(sbom: Sbom) -> dict[str, Any]:
    """The project (the lockfile's folder), which the document describes and which depends on every entry (as
    CycloneDX's `metadata.component`)."""
    return {
        "SPDXID": PROJECT_REF,
        "name": sbom.project,
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "primaryPackagePurpose": "APPLICATION",
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
    }


def _idstring(text: str) -> str:
    return _REF_CHARS.sub("-", text).strip("-") or "x"


def _location(url: str) -> str:
    """`url` if SPDX tools accept it as a download location (a DNS host name), else NOASSERTION."""
    host = urlsplit(url).hostname or ""
    return url if _DNS_NAME.fullmatch(host) else NOASSERTION


def _package(entry: SbomEntry, ref: str, extracted: dict[str, dict[str, str]]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "SPDXID": ref,
        "name": entry.id,
        "versionInfo": entry.revision,
        "downloadLocation": NOASSERTION if entry.local else _location(f"git+{entry.repo_url}@{entry.revision}"),
        "filesAnalyzed": False,
        "primaryPackagePurpose": "OTHER",
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": _license(entry.card, extracted) if entry.card else NOASSERTION,
        "copyrightText": NOASSERTION,
        "externalRefs": [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": entry.purl}
        ],
        "comment": f"{_PURPOSE_COMMENT[entry.type]}; ref {entry.ref}; file list from {entry.listing}"
        + ("; local revision (derived from content by linker migrate, on no Hub)" if entry.local else ""),
    }
    if entry.card is not None and (summary := _summary(entry.card)):
        out["description"] = summary
    return out


def _file_package(entry: SbomEntry, f: SbomFile, ref: str) -> dict[str, Any]:
    url = f"{entry.repo_url}/resolve/{entry.revision}/{quote(f.path)}"
    location = NOASSERTION if entry.local else _location(url)
    out: dict[str, Any] = {
        "SPDXID": ref,
        "name": f.path,
        "downloadLocation": location,
        "filesAnalyzed": False,
        "primaryPackagePurpose": "FILE",
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
    }
    if f.sha256:
        out["checksums"] = [{"algorithm": "SHA256", "checksumValue": f.sha256}]
    if f.gitoid:
        out["externalRefs"] = [
            {
                "referenceCategory": "PERSISTENT-ID",
                "referenceType": "gitoid",
                "referenceLocator": f"gitoid:blob:sha1:{f.gitoid}",
            },
            {"referenceCategory": "PERSISTENT-ID", "referenceType": "swh", "referenceLocator": f"swh:1:cnt:{f.gitoid}"},
        ]
    if f.size is not None:
        out["comment"] = f"size {f.size} bytes"
    return out


def _license(card: ModelCard, extracted: dict[str, dict[str, str]]) -> str:
    """An SPDX expression of the card's licenses; a license SPDX does not list becomes a `LicenseRef-`."""
    terms: list[str] = []
    for lic in card.license:
        known = spdx_id(lic)
        if known is None:
            name = card.license_name if lic.lower() == "other" and card.license_name else lic
            known = f"LicenseRef-huggingface-{_idstring(name)}"
            extracted.setdefault(
                known,
                {"licenseId": known, "name": name, "extractedText": f"license: {name} (from the model card)"},
            )
        terms.append(known)
    return " AND ".join(terms) if terms else NOASSERTION


def _summary(card: ModelCard) -> str:
    parts = [
        ("task", [card.pipeline_tag] if card.pipeline_tag else []),
        ("library", [card.library_name] if card.library_name else []),
        ("license", list(card.license)),
        ("datasets", list(card.datasets)),
        ("base model", list(card.base_model)),
        ("language", list(card.language)),
        ("tags", list(card.tags)),
    ]
    return "; ".join(f"{k}: {', '.join(v)}" for k, v in parts if v)
