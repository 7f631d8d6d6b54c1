"""What an SBOM says, as plain data: per lock entry its purl, revision, pinned files (from `linker.pins`, the one
answer to what an entry pins) with their hashes, and the model card summary when the view has the card.

Offline and read-only: the lock, the view and the global cache are read, nothing is written or downloaded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from ..hfcache import CacheRepo, etag_kind
from ..lockfile import Entry, Lockfile
from ..pins import Listing, pinned_files
from ..redact import scrub_url
from ..roots import managed_roots
from .card import CARD_PATH, ModelCard, read_card

DEFAULT_ENDPOINT = "https://huggingface.co"
#: the URL prefix of a repo of each type on the Hub (models have none)
TYPE_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass(frozen=True)
class SbomFile:
    """One pinned file. An LFS/Xet file is named by the sha256 of its bytes; any other by its git blob sha1
    (`gitoid`), which is NOT the sha1 of its bytes (git hashes `blob <size>\\0` + bytes)."""

    path: str
    size: int | None = None
    sha256: str | None = None
    gitoid: str | None = None


@dataclass(frozen=True)
class SbomEntry:
    id: str
    type: str
    revision: str
    ref: str
    purl: str
    repo_url: str  # the repo on the endpoint, userinfo removed
    files: tuple[SbomFile, ...]
    listing: Listing  # where the file list came from (linker/pins.py)
    card: ModelCard | None = None
    local: bool = False  # the revision was derived from content by `linker migrate`: no Hub commit has it

    @property
    def namespace(self) -> str:
        return self.id.rsplit("/", 1)[0] if "/" in self.id else ""

    @property
    def name(self) -> str:
        return self.id.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Sbom:
    project: str  # the lockfile's folder name
    endpoint: str  # the Hub endpoint the purls and URLs name, userinfo removed
    entries: tuple[SbomEntry, ...]


def hub_endpoint() -> str:
    """`HF_ENDPOINT` (else the default Hub) without userinfo, query or trailing slash."""
    raw = os.environ.get("HF_ENDPOINT", "").strip() or DEFAULT_ENDPOINT
    parts = urlsplit(raw)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None:
        netloc += f":{port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return scrub_url(clean) if parts.scheme else raw.rsplit("@", 1)[-1].rstrip("/")  # no scheme: no URL, but no secret


def purl(entry: Entry, endpoint: str) -> str:
    """`pkg:huggingface/<namespace>/<name>@<revision>`; `?repository_url=` names a non-default endpoint, and the
    datasets or spaces part of it for those repo types (so a dataset never shares a model's purl)."""
    parts = [quote(p, safe="") for p in entry.id.split("/")]
    out = f"pkg:huggingface/{'/'.join(parts)}@{entry.revision.lower()}"
    repository = endpoint + ("/" + TYPE_PREFIX[entry.type].rstrip("/") if TYPE_PREFIX[entry.type] else "")
    if repository != DEFAULT_ENDPOINT:
        out += "?repository_url=" + quote(repository, safe=":/")
    return out


def collect(lock: Lockfile, global_cache: Path, entries: list[Entry] | None = None) -> Sbom:
    """The SBOM of `entries` (default: every entry of the lock), from the lock, the view and the global cache."""
    endpoint = hub_endpoint()
    roots = managed_roots(lock.view, global_cache)
    out = [_entry(e, lock.view, global_cache, endpoint, roots) for e in (entries or lock.entries)]
    return Sbom(lock.root.name, endpoint, tuple(out))


def _entry(entry: Entry, view: Path, global_cache: Path, endpoint: str, roots: tuple[str, ...]) -> SbomEntry:
    g = CacheRepo(global_cache, entry.id, entry.type)
    v = CacheRepo(view, entry.id, entry.type)
    pins = pinned_files(entry, g, v)
    files: list[SbomFile] = []
    for path in sorted(pins.files):
        pf = pins.files[path]
        etag = pf.etag or v.blob_of(entry.revision, path) or g.blob_of(entry.revision, path)
        kind = etag_kind(etag) if etag else None
        files.append(
            SbomFile(
                path,
                pf.size,
                sha256=etag if kind == "sha256" else None,
                gitoid=etag if kind == "sha1" else None,
            )
        )
    card = read_card(v.snapshot_file(entry.revision, CARD_PATH), roots) if CARD_PATH in pins.files else None
    repo_url = f"{endpoint}/{TYPE_PREFIX[entry.type]}{entry.id}"
    return SbomEntry(
        entry.id,
        entry.type,
        entry.revision,
        entry.ref,
        purl(entry, endpoint),
        repo_url,
        tuple(files),
        pins.listing,
        card,
        entry.local,
    )
