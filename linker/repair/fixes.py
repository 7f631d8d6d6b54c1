"""Repair's vocabulary: the kinds of fix, in the order the executor applies them, a `Fix`, a `RepairPlan`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from ..problems import Finding, FindingKind
from ..verify.local import VerifyReport

FixKind = Literal[
    "recover-journal",
    "remove-marker",
    "remove-leftover",
    "quarantine",
    "drop-name",
    "drop-link",
    "restore-blob",
    "global-link",
    "fetch",
    "view-link",
    "view-ref",
    "relink-view",
]
# Fix kinds, in the order they are applied.
RECOVER: Final = "recover-journal"
REMOVE_MARKER: Final = "remove-marker"
REMOVE_LEFTOVER: Final = "remove-leftover"
QUARANTINE: Final = "quarantine"
DROP_NAME: Final = "drop-name"  # another hardlink name of a quarantined blob: its data stays in quarantine
DROP_LINK: Final = "drop-link"  # a global blob link to a device, a FIFO or a file outside, before a fetch replaces it
RESTORE: Final = "restore-blob"
GLOBAL_LINK: Final = "global-link"
FETCH: Final = "fetch"
VIEW_LINK: Final = "view-link"  # a link inside the view set to a shared tier's blob (or to `../../blobs/<etag>`)
VIEW_REF: Final = "view-ref"  # a view ref rewritten to the pin (an entry served by shared tiers)
RELINK: Final = "relink-view"
ORDER: tuple[FixKind, ...] = (
    RECOVER,
    REMOVE_MARKER,
    REMOVE_LEFTOVER,
    QUARANTINE,
    DROP_NAME,
    DROP_LINK,
    RESTORE,
    GLOBAL_LINK,
    FETCH,
    VIEW_LINK,
    VIEW_REF,
    RELINK,
)


@dataclass(frozen=True)
class Fix:
    """One fix. `path` is the absolute path acted on; `target` the destination, source or link text."""

    kind: FixKind
    repo: str  # the entry label ("" for what concerns no entry)
    folder: str  # the repo folder acted in, when there is one
    path: str = ""
    target: str = ""
    mode: str = ""  # RESTORE: hardlink | copy
    reason: str = ""
    etag: str = ""
    lock: str = ""  # the blob lock to hold (huggingface_hub's `.locks/<repo>/<etag>.lock`)
    paths: tuple[str, ...] = ()  # FETCH: repo paths (empty: the whole revision)
    revision: str = ""
    finding: FindingKind | Literal[""] = ""  # the finding kind this fixes

    def describe(self) -> str:
        what = f"{len(self.paths)} file(s)" if self.paths else "the revision"
        text = _DESCRIBE.get(self.kind, "{kind} {path}")
        return text.format(**{**asdict(self), "what": what, "rev12": self.revision[:12]})

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in ("", (), 0) or k in ("kind",)}


@dataclass
class RepairPlan:
    view: Path
    global_cache: Path
    fixes: list[Fix] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)  # what cannot be fixed, and why
    before: VerifyReport | None = None
    online: bool = False
    notices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.fixes

    def ordered(self) -> list[Fix]:
        rank = {k: i for i, k in enumerate(ORDER)}
        return sorted(self.fixes, key=lambda f: rank.get(f.kind, len(ORDER)))

    def to_json(self) -> dict[str, Any]:
        return {
            "fixes": [f.to_json() for f in self.ordered()],
            "unfixable": [p.to_json() for p in self.problems],
            "notices": self.notices,
        }


#: One line per fix kind, formatted with the fix's fields (plus `what` and `rev12`).
_DESCRIBE: dict[str, str] = {
    RECOVER: "resume or roll back the interrupted migrate {path}",
    REMOVE_MARKER: "remove the stale marker {path}",
    REMOVE_LEFTOVER: "remove the leftover {path}",
    QUARANTINE: "quarantine the corrupt blob {path} -> {target}",
    DROP_NAME: "drop {path}, a second name of that corrupt blob (its data stays in quarantine)",
    DROP_LINK: "drop the link {path} -> {target} ({reason}; its target is left alone)",
    RESTORE: "restore {path} from {target} ({mode}; hash verified)",
    GLOBAL_LINK: "link {path} -> {target} ({reason})",
    FETCH: "fetch {what} of {repo}@{rev12} from the Hub",
    VIEW_LINK: "link {path} -> {target} ({reason})",
    VIEW_REF: "write {reason} = {target} in the view",
    RELINK: "relink {repo}: {target} ({reason})",
}
