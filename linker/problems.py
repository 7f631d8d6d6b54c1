"""The one vocabulary of problems: what sync cannot fix by itself, and what verify finds and repair fixes.

sync reports `Problem`s. verify reports `Finding`s; repair plans one fix per finding kind. A finding is a
`Problem` with a few more fields: where it is (the view or the global cache), how bad it is (an error fails
verify, a warning does not), the blob it concerns and the absolute path to act on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final, Literal

FindingKind = Literal[
    "missing",
    "conflict",
    "mismatch",
    "not-synced",
    "missing-file",
    "dangling-link",
    "wrong-blob",
    "size-mismatch",
    "corrupt-blob",
    "link-form",
    "bad-ref",
    "project-ref",
    "stale-no-exist",
    "leftover",
    "migrate-journal",
    "completeness-unproven",
    "quarantined",
    "not-regular-file",
    "outside-caches",
    "unfixable",
]

# Kinds. Each names what is wrong, not how to fix it; `REPAIRS` says what repair does about it.
# What a sync plan cannot fix by itself (sync's problems; repair reports the first and the last too):
MISSING: Final = "missing"  # not in the global cache and not fetched (offline)
CONFLICT: Final = "conflict"  # a path linker did not create is in the way (--force overrides)
MISMATCH: Final = "mismatch"  # the global cache holds a different blob than the lock says
# What verify finds:
NOT_SYNCED: Final = "not-synced"  # the entry has no folder in the view
MISSING_FILE: Final = "missing-file"  # a pinned file has no link in the view
DANGLING: Final = "dangling-link"  # a link of the view does not resolve (global blob removed, or the cache moved)
WRONG_BLOB: Final = "wrong-blob"  # a snapshot link points at another blob than the lock says
SIZE: Final = "size-mismatch"  # a file's size differs from the lock
CORRUPT: Final = "corrupt-blob"  # (--full) a blob's content does not hash to its name
LINK_FORM: Final = "link-form"  # a snapshot link that is not `../../blobs/<etag>` (absolute or CWD-relative, hub 0.13)
BAD_REF: Final = "bad-ref"  # a view ref that is missing, has a trailing newline, or holds another sha
PROJECT_REF: Final = "project-ref"  # the project's ref in the global cache is missing or stale
STALE_NO_EXIST: Final = "stale-no-exist"  # a `.no_exist` marker shadows a file that exists
LEFTOVER: Final = "leftover"  # `*.incomplete` or `*.linker-tmp` from an interrupted run
JOURNAL: Final = "migrate-journal"  # an interrupted `linker migrate`
UNPROVEN: Final = "completeness-unproven"  # no file list (lock `files`, trees/): a file absent everywhere goes unseen
QUARANTINED: Final = "quarantined"  # a corrupt blob repair moved aside: inspect it, then delete it
NOT_REGULAR: Final = "not-regular-file"  # a pinned file resolves to a device, a FIFO, a socket or a folder: not opened
OUTSIDE: Final = "outside-caches"  # a link resolves to a wrong file outside the view and the global cache: left alone
UNFIXABLE: Final = "unfixable"  # what repair tried and could not do (repair's report only)

ERROR, WARNING = "error", "warning"
VIEW, GLOBAL = "view", "global"


@dataclass(frozen=True)
class Problem:
    """What a plan cannot do by itself, and the command that does it. `kind` is open: sync's kinds are
    `MISSING`, `CONFLICT` and `MISMATCH`; migrate has its own; a `Finding` narrows it to `FindingKind`."""

    kind: str
    repo: str
    path: str = ""
    detail: str = ""
    fix: str = ""  # the command that fixes it

    def describe(self) -> str:
        where = f"{self.repo}: {self.path}: " if self.path else f"{self.repo}: "
        return where + self.detail + (f"\n    fix: {self.fix}" if self.fix else "")


#: What `linker repair` does about each kind (for the README and `--help`).
REPAIRS: dict[FindingKind, str] = {
    NOT_SYNCED: "link the entry from the global cache (as sync does)",
    MISSING_FILE: "link the file from the global cache; else restore or fetch its blob",
    DANGLING: "relink to the blob wherever the global cache holds it (verified by hash); else fetch; else report",
    WRONG_BLOB: "relink to the locked blob",
    SIZE: "treated as a corrupt blob",
    CORRUPT: "quarantine it (moved aside, never deleted), then relink a verified copy or fetch it",
    LINK_FORM: "rewrite as the relative link huggingface_hub writes",
    BAD_REF: "rewrite the ref: the 40-hex pin, no newline",
    PROJECT_REF: "rewrite the project's ref in the global cache",
    STALE_NO_EXIST: "remove the marker",
    LEFTOVER: "remove it when no download holds its blob lock",
    JOURNAL: "resume or roll back the migrate",
    NOT_REGULAR: "relink to a verified copy of the blob (or fetch it); the device or FIFO is never opened or moved",
    OUTSIDE: "relink to a verified copy of the blob (or fetch it); the file outside is never moved or changed",
    MISSING: "fetch it when online; else report the command that does",
    MISMATCH: "report: the lock and the global cache disagree (`linker lock`)",
}


@dataclass(frozen=True)
class Finding(Problem):
    """A problem found by verify, with what repair needs to act on it."""

    kind: FindingKind
    scope: str = VIEW  # view | global
    severity: str = ERROR  # error fails verify; warning is listed only
    etag: str = ""  # the blob concerned, when there is one
    where: str = ""  # the absolute path to act on
    revision: str = ""

    def describe(self) -> str:
        tag = "" if self.severity == ERROR else " (warning)"
        where = f"{self.repo}: {self.path}: " if self.path else (f"{self.repo}: " if self.repo else "")
        return f"[{self.kind}]{tag} {where}{self.detail}" + (f"\n      fix: {self.fix}" if self.fix else "")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == ERROR]
