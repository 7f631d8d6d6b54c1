"""`linker sbom --validate`: the document checked against its official schema by the well-kept libraries of the
`sbom` extra (cyclonedx-python-lib's strict JSON validator; spdx-tools' parser and full validation). Imported
only when asked for."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ConfigError

INSTALL_HINT = "pip install 'hf-linker[sbom]'"


class MissingExtraError(ConfigError):
    """--validate needs a library the base install leaves out (exit 2)."""


def problems(doc: dict[str, Any], fmt: str) -> list[str]:
    """What the official validator finds wrong with `doc` (empty: valid)."""
    return _cyclonedx(doc) if fmt == "cyclonedx" else _spdx(doc)


def _missing(exc: ImportError) -> MissingExtraError:
    return MissingExtraError(f"--validate needs the sbom extra ({exc.name or exc} is not installed)", hint=INSTALL_HINT)


def _cyclonedx(doc: dict[str, Any]) -> list[str]:
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        validator = JsonStrictValidator(SchemaVersion.V1_6)
        error = validator.validate_str(json.dumps(doc))
    except ImportError as exc:
        raise _missing(exc) from None
    if error is None:
        return []
    data = getattr(error, "data", None)
    return [str(getattr(data, "message", None) or error)]


def _spdx(doc: dict[str, Any]) -> list[str]:
    try:
        from spdx_tools.spdx.parser.error import SPDXParsingError
        from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
        from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
    except ImportError as exc:
        raise _missing(exc) from None
    try:
        parsed = JsonLikeDictParser().parse(json.loads(json.dumps(doc)))
    except SPDXParsingError as exc:
        return [str(m) for m in exc.get_messages()]
    return [m.validation_message for m in validate_full_spdx_document(parsed)]
