"""Hub license ids (the `license:` of a model card) to SPDX license ids; the others are named, not identified."""

from __future__ import annotations

_SPDX = [
    "0BSD",
    "AFL-3.0",
    "AGPL-3.0-only",
    "Apache-2.0",
    "Artistic-2.0",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-3-Clause-Clear",
    "BSL-1.0",
    "CC-BY-2.0",
    "CC-BY-2.5",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-NC-2.0",
    "CC-BY-NC-3.0",
    "CC-BY-NC-4.0",
    "CC-BY-NC-ND-3.0",
    "CC-BY-NC-ND-4.0",
    "CC-BY-NC-SA-2.0",
    "CC-BY-NC-SA-3.0",
    "CC-BY-NC-SA-4.0",
    "CC-BY-ND-4.0",
    "CC-BY-SA-3.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDLA-Permissive-1.0",
    "CDLA-Permissive-2.0",
    "CDLA-Sharing-1.0",
    "ECL-2.0",
    "EPL-1.0",
    "EPL-2.0",
    "etalab-2.0",
    "EUPL-1.1",
    "EUPL-1.2",
    "GPL-2.0-only",
    "GPL-3.0-only",
    "ISC",
    "LGPL-2.1-only",
    "LGPL-3.0-only",
    "LPPL-1.3c",
    "MIT",
    "MPL-2.0",
    "MS-PL",
    "NCSA",
    "OFL-1.1",
    "OSL-3.0",
    "PostgreSQL",
    "Unlicense",
    "WTFPL",
    "Zlib",
]
#: lower-case Hub id -> SPDX id
HUB_TO_SPDX: dict[str, str] = {s.lower(): s for s in _SPDX}
HUB_TO_SPDX.update(
    {
        "agpl-3.0": "AGPL-3.0-only",
        "gpl-2.0": "GPL-2.0-only",
        "gpl-3.0": "GPL-3.0-only",
        "lgpl-2.1": "LGPL-2.1-only",
        "lgpl-3.0": "LGPL-3.0-only",
        "odc-by": "ODC-By-1.0",
        "odbl": "ODbL-1.0",
        "pddl": "PDDL-1.0",
    }
)


def spdx_id(hub_license: str) -> str | None:
    """The SPDX id of a Hub license id (`apache-2.0` -> `Apache-2.0`), None for `other`, `llama3`, `openrail`..."""
    return HUB_TO_SPDX.get(hub_license.strip().lower())
