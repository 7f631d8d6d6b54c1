"""Every `--json` document, results and errors alike, says which version of the JSON output it is."""

from __future__ import annotations

import json

import pytest

COMMANDS = [
    ("status",),
    ("sync", "--dry-run"),
    ("verify",),
    ("verify", "--remote"),
    ("repair", "--dry-run"),
    ("doctor",),
    ("lock",),
    ("migrate",),
    ("remove", "acme/absent"),  # an error document (exit 1)
    ("add", "bad..id"),  # an error document (exit 2)
]


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_every_json_document_carries_the_version(project, args: tuple[str, ...]) -> None:
    project.write_lock([])
    r = project.linker(*args, "--json")
    doc = json.loads(r.stdout)
    assert doc["linker_json_version"] == 1, r.stdout
