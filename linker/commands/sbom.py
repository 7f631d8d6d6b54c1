"""`linker sbom`: the pinned entries as a CycloneDX 1.6 or SPDX 2.3 JSON document, offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..context import App, pass_app
from ..errors import EXIT_OK, EXIT_USAGE, LinkerError, fs_boundary
from ..fsutil import atomic_write_text
from ..lockfile import repo_label
from ..pins import PROVEN


class InvalidSbomError(LinkerError):
    """--validate: the official validator rejects the document (exit 1: a bug to report, never the user's)."""


@click.command()
@click.argument("ids", nargs=-1)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cyclonedx", "spdx"]),
    default="cyclonedx",
    show_default=True,
    help="CycloneDX 1.6 JSON or SPDX 2.3 JSON.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write the document to FILE (default, and `-`: stdout)."
)
@click.option("--validate", is_flag=True, help="Check the document against its schema (needs hf-linker[sbom]).")
@pass_app
def command(app: App, ids: tuple[str, ...], fmt: str, output: str | None, validate: bool) -> int:
    """Write the pinned entries (all, or IDs) as a software bill of materials, from the lock and the view."""
    from ..sbom import collect, document

    lock, global_cache = app.project()
    sbom = collect(lock, global_cache, lock.select(ids))
    for e in sbom.entries:
        label = repo_label(e.id, e.type)
        if e.listing not in PROVEN:
            app.log(
                f"warning: {label}: the file list comes from the {e.listing} listing, not the lock: run `linker lock`"
            )
        unknown = sum(1 for f in e.files if not (f.sha256 or f.gitoid))
        if unknown:
            app.log(f"warning: {label}: {unknown} file(s) without a known hash: run `linker lock`")
    doc = document(sbom, fmt)
    if validate:
        from ..sbom.validate import problems

        found = problems(doc, fmt)
        if found:
            raise InvalidSbomError(
                f"the {fmt} document is invalid: {found[0]}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else "")
            )
    text = json.dumps(doc, indent=2) + "\n"
    if output is None or output == "-":
        click.echo(text, nl=False)
        return EXIT_OK
    path = Path(output)
    with fs_boundary(path, "the SBOM file", wrong_kind_exit=EXIT_USAGE):
        atomic_write_text(path, text)
    app.log(f"wrote {fmt} SBOM of {len(sbom.entries)} entr{'y' if len(sbom.entries) == 1 else 'ies'} to {path}")
    return EXIT_OK
