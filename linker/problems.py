"""The one vocabulary of problems shared by `linker verify` and `linker repair`.

verify reports `Finding`s; repair plans one fix per finding kind. A finding is a `plan.Problem` with a few more
fields: where it is (the view or the global cache), how bad it is (an error fails verify, a warning does not),
the blob it concerns and the absolute path to act on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .plan import MISMATCH, MISSING, Problem

# Kinds. Each names what is wrong, not how to fix it; `REPAIRS` says what repair does about it.
NOT_SYNCED = "not-synced"  # the entry has no folder in the view
MISSING_FILE = "missing-file"  # a pinned file has no link in the view
DANGLING = "dangling-link"  # a link of the view does not resolve (global blob removed, or the cache moved)
WRONG_BLOB = "wrong-blob"  # a snapshot link points at another blob than the lock says
SIZE = "size-mismatch"  # a file's size differs from the lock
CORRUPT = "corrupt-blob"  # (--full) a blob's content does not hash to its name
LINK_FORM = "link-form"  # a snapshot link that is not `../../blobs/<etag>` (absolute or CWD-relative, hub 0.13)
BAD_REF = "bad-ref"  # a view ref that is missing, has a trailing newline, or holds another sha
PROJECT_REF = "project-ref"  # the project's ref in the global cache is missing or stale
STALE_NO_EXIST = "stale-no-exist"  # a `.no_exist` marker shadows a file that exists
LEFTOVER = "leftover"  # `*.incomplete` or `*.linker-tmp` from an interrupted run
JOURNAL = "migrate-journal"  # an interrupted `linker migrate`
UNPROVEN = "completeness-unproven"  # no file list (lock `files`, trees/): a file absent everywhere goes unseen
QUARANTINED = "quarantined"  # a corrupt blob repair moved aside: inspect it, then delete it
NOT_REGULAR = "not-regular-file"  # a pinned file resolves to a device, a FIFO, a socket or a folder: never opened
OUTSIDE = "outside-caches"  # a link resolves to a wrong file outside the view and the global cache: left alone
UNFIXABLE = "unfixable"  # what repair tried and could not do (repair's report only)

ERROR, WARNING = "error", "warning"
VIEW, GLOBAL = "view", "global"

#: What `linker repair` does about each kind (for the README and `--help`).
REPAIRS: dict[str, str] = {
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
