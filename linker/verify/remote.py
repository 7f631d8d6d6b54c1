"""`linker verify --remote`: check every pin of the lock on the Hub, concurrently, for CI.

Per entry, one `repo_info(revision=<pin>, files_metadata=True)` request proves that the repo is visible with the
current token, that the pinned commit exists, and gives every file's size and blob hash at that commit, which are
compared with the lock's `files`. A gated repo costs one more request: a HEAD of one locked file, as a download
would make, to learn whether the token has access.

Exit code (`RemoteReport.exit_code`):

* 1 when the Hub says any pin is wrong: repo or revision not found, a locked file missing, its hash or size
  changed. This wins over 3: a definite "your lock is wrong" is worth failing on even if other entries could
  not be checked.
* 3 when nothing is wrong but some entry could not be checked: network error, Hub error, unauthorized,
  gated without access, rate limited, no answer within `LINKER_HUB_TIMEOUT`, a connection that broke.
* 0 otherwise. Entries with `local: true` (a revision derived from content by `linker migrate`) that the Hub
  does not know are reported as "not on the Hub (local revision)" and do not fail the check: they were never
  expected to be there.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import EXIT_FAILED, EXIT_HUB, EXIT_OK, LinkerError
from ..hfcache import TreeFile
from ..hub import (  # light: huggingface_hub itself is imported only when a call is made
    FILE_MISSING,
    GATED,
    HUB_FAILED,
    RATE_LIMITED,
    REPO_NOT_FOUND,
    REVISION_NOT_FOUND,
    TIMEOUT,
    TRANSFER_FAILED,
    UNAUTHORIZED,
    UNREACHABLE,
)
from ..lockfile import Entry, Lockfile

OK = "ok"
HASH_CHANGED = "hash-changed"
SIZE_CHANGED = "size-changed"
HUB_ERROR = HUB_FAILED
TRANSFER = TRANSFER_FAILED
LOCAL = "local-not-on-hub"

#: The lock is wrong (exit 1).
WRONG = frozenset({REPO_NOT_FOUND, REVISION_NOT_FOUND, FILE_MISSING, HASH_CHANGED, SIZE_CHANGED})
#: The Hub could not tell (exit 3).
TROUBLE = frozenset({GATED, UNAUTHORIZED, UNREACHABLE, HUB_ERROR, RATE_LIMITED, TIMEOUT, TRANSFER})

TEXT = {
    OK: "ok",
    REPO_NOT_FOUND: "repo not found",
    REVISION_NOT_FOUND: "revision not found",
    GATED: "gated (no access)",
    UNAUTHORIZED: "unauthorized",
    FILE_MISSING: "file missing",
    HASH_CHANGED: "hash changed",
    SIZE_CHANGED: "size changed",
    UNREACHABLE: "network error",
    HUB_ERROR: "hub error",
    RATE_LIMITED: "rate limited",
    TIMEOUT: "no answer in time",
    TRANSFER: "connection broke",
    LOCAL: "not on the Hub (local revision)",
}
# Which status an entry shows when several of its files differ.
_SEVERITY = (REPO_NOT_FOUND, REVISION_NOT_FOUND, FILE_MISSING, HASH_CHANGED, SIZE_CHANGED)


@dataclass
class FileProblem:
    path: str
    status: str  # file-missing | hash-changed | size-changed
    locked: str = ""  # locked hash or size
    remote: str = ""  # the Hub's

    def describe(self) -> str:
        if self.status == FILE_MISSING:
            return f"{self.path}: not at this revision on the Hub"
        what = "hash" if self.status == HASH_CHANGED else "size"
        return f"{self.path}: {what} {self.remote} on the Hub, {self.locked} in the lock"


@dataclass
class EntryResult:
    repo: str  # label
    id: str
    type: str
    revision: str
    status: str
    message: str = ""
    files_checked: int = 0
    file_problems: list[FileProblem] = field(default_factory=list)
    cause: str = field(default="", compare=False)  # the Hub failure's detail, without the `repo@rev: ` prefix

    @property
    def text(self) -> str:
        return TEXT.get(self.status, self.status)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        del doc["cause"]
        return {**doc, "text": self.text}


@dataclass
class RemoteReport:
    endpoint: str
    entries: list[EntryResult]
    elapsed: float = 0.0
    jobs: int = 8

    def count(self, statuses: frozenset[str] | set[str]) -> int:
        return sum(e.status in statuses for e in self.entries)

    @property
    def exit_code(self) -> int:
        if self.count(WRONG):
            return EXIT_FAILED
        if any(e.status not in (OK, LOCAL) for e in self.entries):  # TROUBLE, or any kind added later
            return EXIT_HUB
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "ok": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "elapsed": round(self.elapsed, 3),
            "summary": {
                "entries": len(self.entries),
                "ok": self.count({OK}),
                "wrong": self.count(WRONG),
                "unchecked": self.count(TROUBLE),
                "local": self.count({LOCAL}),
            },
            "entries": [e.to_json() for e in self.entries],
        }


# ---------------------------------------------------------------------------------------------------------------


def verify_remote(lock: Lockfile, *, jobs: int = 8) -> RemoteReport:
    """Check every entry of `lock` on the Hub in a bounded pool of `jobs` threads; results in lock order."""
    from .. import hub

    start = time.perf_counter()
    entries = list(lock.entries)
    results = hub.parallel_map(_check_entry, entries, jobs=jobs)
    return RemoteReport(hub.endpoint(), results, time.perf_counter() - start, jobs)


def _check_entry(entry: Entry) -> EntryResult:
    from .. import hub

    result = EntryResult(entry.label, entry.id, entry.type, entry.revision, OK)
    try:
        info = hub.revision_info(entry.id, entry.revision, entry.type)
        if info.files is not None and entry.files is not None:
            _compare(result, entry, info.files)
        if result.status == OK and info.gated:
            # A gated repo's metadata is public: HEAD one locked file, as a download would, to test access.
            path = hub.gated_probe_path(entry.files or info.files or ())
            if path is not None:
                hub.check_access(entry.id, entry.revision, path, entry.type)
        if result.status == OK and entry.local:
            result.message = "a local revision, yet the Hub has it: `local: true` can go"
        elif result.status == OK and entry.files is None:
            result.message = "no `files` in the lock: only the pin was checked (`linker lock` writes them)"
    except LinkerError as exc:
        failure = hub.failure_of(exc)
        kind = failure.kind if failure else HUB_ERROR
        result.status = kind
        result.message, result.cause = exc.message, failure.detail if failure else exc.message
        if entry.local and result.status in (REPO_NOT_FOUND, REVISION_NOT_FOUND):
            result.status, result.message = LOCAL, "derived from content by `linker migrate`; not expected on the Hub"
    return result


def _compare(result: EntryResult, entry: Entry, remote: dict[str, TreeFile]) -> None:
    assert entry.files is not None
    for path, locked in sorted(entry.files.items()):
        result.files_checked += 1
        found = remote.get(path)
        if found is None:
            result.file_problems.append(FileProblem(path, FILE_MISSING))
        elif found.etag != locked.hash:
            result.file_problems.append(FileProblem(path, HASH_CHANGED, locked.hash[:12], found.etag[:12]))
        elif found.size != locked.size:
            result.file_problems.append(FileProblem(path, SIZE_CHANGED, str(locked.size), str(found.size)))
    if result.file_problems:
        kinds = {p.status for p in result.file_problems}
        result.status = next(s for s in _SEVERITY if s in kinds)
        n = len(result.file_problems)
        result.message = f"{n} of {result.files_checked} locked file(s) differ from the Hub"
