"""The one module that talks to the Hugging Face Hub, through huggingface_hub's public API.

huggingface_hub is imported inside the functions, so commands that never reach the Hub start fast. The client
reads `HF_ENDPOINT`, `HF_TOKEN` and `HF_HUB_OFFLINE` itself, exactly as huggingface_hub defines them.

Every huggingface_hub error is mapped to one of ours with a one-line message that never contains the token:

* the Hub says the pin does not exist (repo, revision, file) -> `NotFoundError` (exit 1);
* the Hub cannot be reached, refuses the token, gates the repo, rate-limits us, fails or does not answer within
  `LINKER_HUB_TIMEOUT` -> `HubError` (exit 3);
* a short sha -> `ConfigError` (exit 2), with the hint "pin the full 40-character commit".

Every request goes through the deadline client of `client.py`; downloads into the global cache live in `fetch.py`.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

from ..errors import ConfigError, HubError, LinkerError, NotFoundError
from ..hfcache import SHA40, TreeFile, matches_patterns
from ..lockfile import LockedFile, repo_label
from ..redact import guard_std_streams, scrub_text, scrub_url

T = TypeVar("T")
R = TypeVar("R")

# Failure kinds, shared with verify.remote and sync.
FailureKind = Literal[
    "repo-not-found",
    "revision-not-found",
    "file-missing",
    "gated",
    "unauthorized",
    "rate-limited",
    "network-error",
    "hub-error",
    "timeout",
    "transfer-failed",
    "disk-error",
]
REPO_NOT_FOUND: Final = "repo-not-found"
REVISION_NOT_FOUND: Final = "revision-not-found"
FILE_MISSING: Final = "file-missing"
GATED: Final = "gated"
UNAUTHORIZED: Final = "unauthorized"
RATE_LIMITED: Final = "rate-limited"
UNREACHABLE: Final = "network-error"  # no answer at all: connection refused, DNS, timeout, offline mode
HUB_FAILED: Final = "hub-error"  # an answer we cannot use: 5xx, an unexpected status, not a Hub endpoint
TIMEOUT: Final = "timeout"  # no answer within LINKER_HUB_TIMEOUT
TRANSFER_FAILED: Final = "transfer-failed"  # the connection broke, or the bytes received are not the file
DISK_ERROR: Final = "disk-error"  # the download could not be written (full disk, read-only, ...)
#: The Hub says the pin (or part of it) does not exist: the lock is wrong.
NOT_FOUND_KINDS = frozenset({REPO_NOT_FOUND, REVISION_NOT_FOUND, FILE_MISSING})
#: The Hub could not tell us: network, auth, gating, rate limit.
TROUBLE_KINDS = frozenset({GATED, UNAUTHORIZED, RATE_LIMITED, UNREACHABLE, HUB_FAILED, TIMEOUT})
#: Files the Hub serves even for a gated repo (so they prove nothing about access).
UNGATED_FILES = ("README.md", ".gitattributes")

_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,39}")
_UPPER_SHA = re.compile(r"[0-9a-fA-F]{40}")


@dataclass(frozen=True)
class HubFailure:
    """Why a Hub call failed: a kind (see above), a one-line detail, and what was being asked (`org/name@sha`)."""

    kind: FailureKind
    detail: str
    what: str = ""

    @property
    def message(self) -> str:
        return f"{self.what}: {self.detail}" if self.what else self.detail

    def error(self, hint: str | None = None) -> LinkerError:
        if self.kind in NOT_FOUND_KINDS:
            return HubNotFound(self, hint=hint)
        return HubTrouble(self, hint=hint)


class HubNotFound(NotFoundError):
    """The Hub says a repo, revision or file does not exist (exit 1)."""

    def __init__(self, failure: HubFailure, *, hint: str | None = None) -> None:
        super().__init__(failure.message, hint=hint)
        self.failure = failure


class HubTrouble(HubError):
    """The Hub could not be reached, refused us, or failed (exit 3)."""

    def __init__(self, failure: HubFailure, *, hint: str | None = None) -> None:
        super().__init__(failure.message, hint=hint)
        self.failure = failure


def failure_of(exc: BaseException) -> HubFailure | None:
    """The `HubFailure` behind one of our errors raised by this module, if any."""
    return getattr(exc, "failure", None)


# ---------------------------------------------------------------------------------------------------------------
# Environment


def endpoint() -> str:
    """The Hub endpoint in effect (`HF_ENDPOINT`, else https://huggingface.co), without userinfo: for display."""
    from huggingface_hub import constants

    return scrub_url(constants.ENDPOINT)


def _token() -> str | None:
    from huggingface_hub import get_token

    try:
        return get_token()
    except Exception:  # an unreadable token file is "no token"
        return None


def scrub(text: str) -> str:
    """Remove URL userinfo, the token (and anything shaped like an HF token) from text we are about to show."""
    token = _token()
    text = scrub_text(text, (token,) if token else ())
    return re.sub(r"\bhf_[A-Za-z0-9]{8,}\b", "hf_***", text)


_ready: list[bool] = []


def setup() -> None:
    """Route huggingface_hub's requests through the deadline client (see `client.py`), once per process."""
    if _ready:
        return
    from .client import install

    token = _token()
    guard_std_streams((token,) if token else ())  # a last net: tracebacks printed with -v are scrubbed too
    install(warn=_stderr)
    _ready.append(True)


def _api() -> Any:
    from huggingface_hub import HfApi

    setup()
    return HfApi()


# ---------------------------------------------------------------------------------------------------------------
# Error mapping


def classify(exc: BaseException, what: str = "") -> HubFailure | None:
    """Map a huggingface_hub (or network) exception to a `HubFailure`; None when it is not a Hub problem."""
    from huggingface_hub import errors as hf_errors

    from .client import HubDeadline

    where = endpoint()
    if isinstance(exc, HubDeadline):
        return HubFailure(TIMEOUT, scrub(str(exc)), what)
    if isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return HubFailure(UNREACHABLE, "offline mode is on (HF_HUB_OFFLINE=1): no request was made", what)
    if isinstance(exc, hf_errors.LocalEntryNotFoundError):
        if exc.__cause__ is not None:
            return classify(exc.__cause__, what)
        return HubFailure(UNREACHABLE, f"not in the cache and the Hub was not asked ({_one_line(exc)})", what)
    if isinstance(exc, hf_errors.GatedRepoError):
        who = "your token has" if _token() else "anonymous requests have"
        return HubFailure(GATED, f"gated repo: {who} no access (request access on the Hub, then set HF_TOKEN)", what)
    if isinstance(exc, hf_errors.DisabledRepoError):
        return HubFailure(REPO_NOT_FOUND, f"the repository is disabled on {where}", what)
    if isinstance(exc, hf_errors.RepositoryNotFoundError):
        status = _status(exc)
        if status == 401 and _token():
            return HubFailure(UNAUTHORIZED, "the Hub rejected the token (HTTP 401): it is invalid or expired", what)
        hint = "" if _token() else "; if it is private, set HF_TOKEN"
        return HubFailure(REPO_NOT_FOUND, f"repository not found on {where}{hint}", what)
    if isinstance(exc, hf_errors.RevisionNotFoundError):
        return HubFailure(REVISION_NOT_FOUND, f"revision not found on {where}", what)
    if isinstance(exc, hf_errors.EntryNotFoundError) and isinstance(exc, hf_errors.HfHubHTTPError):
        return HubFailure(FILE_MISSING, f"file not found on {where}", what)
    if isinstance(exc, hf_errors.HfHubHTTPError):
        status = _status(exc)
        retries = getattr(exc, "linker_retries", 0)
        after = f" after {retries} retr{'y' if retries == 1 else 'ies'}" if retries else ""
        if status == 429:
            hint = "retry later or set HF_TOKEN"
            return HubFailure(RATE_LIMITED, f"rate limited by {where} (HTTP 429{after}); {hint}", what)
        if status in (401, 403):
            return HubFailure(UNAUTHORIZED, f"access denied by {where} (HTTP {status}); check HF_TOKEN", what)
        return HubFailure(HUB_FAILED, f"{where} answered HTTP {status or '?'}{after}", what)
    if isinstance(exc, hf_errors.FileMetadataError):
        return HubFailure(HUB_FAILED, f"{where} does not answer like a Hugging Face Hub ({_one_line(exc)})", what)
    if _is_broken_transfer(exc):
        name = _request_file(exc)
        detail = f"{name}: the connection broke" if name else f"the connection to {where} broke"
        return HubFailure(TRANSFER_FAILED, f"{detail}: {_one_line(exc)}", what)
    if _is_network_error(exc):
        return HubFailure(UNREACHABLE, f"cannot reach {where}: {_one_line(exc) or type(exc).__name__}", what)
    return None


def _status(exc: BaseException) -> int | None:
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def _is_network_error(exc: BaseException) -> bool:
    try:
        import httpx2

        if isinstance(exc, httpx2.TransportError):
            return True
    except ImportError:  # pragma: no cover - huggingface_hub always brings it
        pass
    return isinstance(exc, (ConnectionError, TimeoutError))


def _is_broken_transfer(exc: BaseException) -> bool:
    """The Hub answered, then the connection broke (not "unreachable": other requests may well succeed)."""
    import httpx2

    return isinstance(exc, (httpx2.RemoteProtocolError, httpx2.ReadError, httpx2.WriteError))


def _request_file(exc: BaseException) -> str | None:
    """The file name a failed download request was for (the CDN's `filename`, else the URL's last segment)."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):
        return None
    name = url.params.get("filename") or url.path.rsplit("/", 1)[-1]
    return str(name) or None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return scrub(text[0]) if text else ""


@contextlib.contextmanager
def hub_call(what: str) -> Iterator[None]:
    """Turn huggingface_hub errors raised inside into our own one-line errors about `what`."""
    try:
        yield
    except LinkerError:
        raise
    except Exception as exc:
        from huggingface_hub import errors as hf_errors

        if isinstance(exc, hf_errors.HFValidationError):
            raise ConfigError(f"{what}: {_one_line(exc)}") from None
        failure = classify(exc, what)
        if failure is None:
            raise
        raise failure.error() from None


# ---------------------------------------------------------------------------------------------------------------
# Revisions and listings


def check_revision_syntax(revision: str) -> str:
    """Reject short shas before asking the Hub (they would be taken for branch names); lowercase a full sha."""
    if _UPPER_SHA.fullmatch(revision):
        return revision.lower()
    if _SHORT_SHA.fullmatch(revision) and not revision.isdigit():
        raise ConfigError(f"revision {revision!r} looks like a short sha", hint="pin the full 40-character commit")
    return revision


def resolve_revision(repo_id: str, revision: str = "main", repo_type: str = "model") -> str:
    """A branch, tag or full sha -> its 40-hex commit on the Hub."""
    return repo_state(repo_id, revision, repo_type).sha


@dataclass(frozen=True)
class RepoState:
    sha: str
    gated: bool
    private: bool


def repo_state(repo_id: str, revision: str = "main", repo_type: str = "model") -> RepoState:
    """The commit a revision points at, and whether the repo is gated or private."""
    revision = check_revision_syntax(revision)
    what = f"{repo_label(repo_id, repo_type)}@{revision}"
    with hub_call(what):
        info = _api().repo_info(repo_id, revision=revision, repo_type=repo_type, expand=_expand(repo_type))
    sha = getattr(info, "sha", None)
    if not sha or not SHA40.fullmatch(sha):
        raise HubError(f"{what}: {endpoint()} did not return a commit for this revision")
    return RepoState(sha, bool(getattr(info, "gated", False)), bool(getattr(info, "private", False)))


def _expand(repo_type: str) -> list[str]:
    return ["sha", "private"] if repo_type == "space" else ["sha", "gated", "private"]


@dataclass(frozen=True)
class RevisionInfo:
    """One commit of a repo as the Hub describes it, in one request."""

    sha: str
    gated: bool
    private: bool
    files: dict[str, TreeFile] | None  # None when not asked for, or when the Hub listed no files


def revision_info(repo_id: str, revision: str, repo_type: str = "model", *, files: bool = True) -> RevisionInfo:
    """`repo_info(revision, files_metadata=files)`: existence, visibility, gating, and every file's size and blob
    hash (falling back to the tree listing when the answer carries no blob metadata)."""
    what = f"{repo_label(repo_id, repo_type)}@{revision[:12]}"
    with hub_call(what):
        info = _api().repo_info(repo_id, revision=revision, repo_type=repo_type, files_metadata=files)
    listing: dict[str, TreeFile] | None = None
    siblings = getattr(info, "siblings", None)
    if files and siblings is not None:
        listing = {s.rfilename: _tree_file(s.size, s.blob_id, s.lfs) for s in siblings}
        if any(not f.etag for f in listing.values()):
            listing = list_tree(repo_id, revision, repo_type)
    return RevisionInfo(
        sha=getattr(info, "sha", None) or revision,
        gated=bool(getattr(info, "gated", False)),
        private=bool(getattr(info, "private", False)),
        files=listing,
    )


def list_tree(repo_id: str, revision: str, repo_type: str = "model") -> dict[str, TreeFile]:
    """Every file of a commit from the Hub's tree listing: size, blob name (sha256 for LFS/Xet, else git sha1)."""
    from huggingface_hub.hf_api import RepoFile

    what = f"{repo_label(repo_id, repo_type)}@{revision[:12]}"
    out: dict[str, TreeFile] = {}
    with hub_call(what):
        for item in _api().list_repo_tree(repo_id, revision=revision, repo_type=repo_type, recursive=True):
            if isinstance(item, RepoFile):
                out[item.path] = _tree_file(item.size, item.blob_id, item.lfs)
    return dict(sorted(out.items()))


def _tree_file(size: int | None, blob_id: str | None, lfs: Any) -> TreeFile:
    sha256 = lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None)
    if sha256:
        lfs_size = lfs.get("size") if isinstance(lfs, dict) else getattr(lfs, "size", None)
        return TreeFile(size=int(lfs_size if lfs_size is not None else size or 0), etag=sha256, lfs=True)
    return TreeFile(size=int(size or 0), etag=blob_id or "", lfs=False)


def list_files(
    repo_id: str,
    revision: str,
    repo_type: str = "model",
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> dict[str, LockedFile]:
    """The lock's `files` map for a commit: repo path -> size and blob hash, honouring include/exclude."""
    inc, exc = list(include), list(exclude)
    return {
        path: LockedFile(f.size, f.etag)
        for path, f in list_tree(repo_id, revision, repo_type).items()
        if matches_patterns(path, inc, exc)
    }


def list_commits(repo_id: str, repo_type: str = "model", branch: str = "main") -> list[str]:
    """Commit ids of a branch's history, newest first."""
    with hub_call(f"{repo_label(repo_id, repo_type)}@{branch}"):
        return [c.commit_id for c in _api().list_repo_commits(repo_id, repo_type=repo_type, revision=branch)]


def branch_heads(repo_id: str, repo_type: str = "model") -> dict[str, str]:
    """Branches and tags -> commit (a branch wins over a tag of the same name)."""
    with hub_call(repo_label(repo_id, repo_type)):
        refs = _api().list_repo_refs(repo_id, repo_type=repo_type)
    heads = {t.name: t.target_commit for t in refs.tags}
    heads.update({b.name: b.target_commit for b in refs.branches})
    return heads


def repo_exists(repo_id: str, repo_type: str = "model") -> bool:
    """Whether the repo exists and is visible with the current token (a gated repo exists)."""
    with hub_call(repo_label(repo_id, repo_type)):
        return bool(_api().repo_exists(repo_id, repo_type=repo_type))


def check_access(repo_id: str, revision: str, path: str, repo_type: str = "model") -> None:
    """HEAD one file, as a download would: raises our error if the token cannot read it (gated, private)."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    setup()
    with hub_call(f"{repo_label(repo_id, repo_type)}@{revision[:12]}: {path}"):
        get_hf_file_metadata(hf_hub_url(repo_id, path, repo_type=repo_type, revision=revision))


def gated_probe_path(paths: Iterable[str]) -> str | None:
    """A file whose download a gate would refuse (not the card or .gitattributes), if any."""
    return next((p for p in sorted(paths) if p not in UNGATED_FILES), None)


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def parallel_map(fn: Callable[[T], R], items: Iterable[T], *, jobs: int = 8) -> list[R]:
    """`fn` over `items` in a bounded thread pool, results in input order (the first error is raised)."""
    items = list(items)
    if len(items) <= 1 or jobs <= 1:
        return [fn(i) for i in items]
    with ThreadPoolExecutor(max_workers=min(jobs, len(items)), thread_name_prefix="linker-hub") as pool:
        return list(pool.map(fn, items))


def _stderr(text: str) -> None:
    import click

    click.echo(text, err=True)
