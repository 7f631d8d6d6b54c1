"""The format policy: which pinned files run code when loaded, and what add/lock/sync/verify do about them.

Every file an entry pins falls in one risk class, by name: `pickle` (`*.bin`, `*.pt`, `*.pth`, `*.ckpt`, `*.pkl`,
`*.pickle`, `*.joblib`, and `*.npy` unless its header, read locally, shows no Python objects), `remote_code`
(`*.py`, which `trust_remote_code=True` executes) or `safe` (safetensors, gguf, onnx, json, txt...). A pickle
whose bytes are on this machine is read (opcodes only, linker/pickles.py); one importing anything outside the
allow-list is `dangerous`, and is refused under every setting but `allow`.

`check_policy` is the one check every command calls; it returns typed findings, and `PolicyRefused` carries
the refusals (exit 1, one line per file with the `exclude` that avoids it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import LinkerError
from .hfcache import CacheRepo
from .lockfile import Entry, FormatPolicy, Lockfile

if TYPE_CHECKING:
    from .lockplan import LockPlan
    from .pickles import PickleScan

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".npy")
CODE_SUFFIXES = (".py",)
_RISKY_SUFFIXES = PICKLE_SUFFIXES + CODE_SUFFIXES


class Risk(str, Enum):
    PICKLE = "pickle"
    REMOTE_CODE = "remote_code"
    SAFE = "safe"


class Verdict(str, Enum):
    """Why a file is refused or warned about (`kind` of a finding)."""

    PICKLE = "pickle"  # policy.pickle says so
    REMOTE_CODE = "remote_code"  # policy.remote_code says so
    DANGEROUS = "dangerous_pickle"  # imports outside the allow-list: refused unless pickle: allow


@dataclass(frozen=True)
class FileAudit:
    path: str
    risk: Risk
    scan: PickleScan | None = None  # a pickle whose bytes were read here (None: not on this machine)

    @property
    def dangerous(self) -> bool:
        return self.scan is not None and self.scan.dangerous

    def to_json(self) -> dict[str, object]:
        doc: dict[str, object] = {"path": self.path, "risk": self.risk.value}
        if self.risk is Risk.PICKLE:
            doc["scanned"] = self.scan is not None
            if self.scan is not None:
                doc.update(globals=list(self.scan.globals), unsafe=list(self.scan.unsafe), dangerous=self.dangerous)
                doc.update(complete=self.scan.complete, note=self.scan.note)
        return doc


@dataclass
class EntryAudit:
    label: str
    files: list[FileAudit] = field(default_factory=list)

    def of(self, risk: Risk) -> list[FileAudit]:
        return [f for f in self.files if f.risk is risk]

    @property
    def dangerous(self) -> list[FileAudit]:
        return [f for f in self.files if f.dangerous]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.label,
            **{r.value: [f.to_json() for f in self.of(r)] for r in Risk},
            "dangerous": [f.path for f in self.dangerous],
        }


@dataclass(frozen=True)
class Finding:
    """One file the policy refuses or warns about, and the `exclude` glob that would leave it out."""

    kind: Verdict
    label: str
    path: str
    exclude: str
    refused: bool
    unsafe: tuple[str, ...] = ()

    def line(self) -> str:
        what = {
            Verdict.PICKLE: "is a pickle (runs code when loaded)",
            Verdict.REMOTE_CODE: "is Python code (run by trust_remote_code=True)",
            Verdict.DANGEROUS: "is a dangerous pickle, importing " + ", ".join(self.unsafe[:4] or ("unreadable data",)),
        }[self.kind]
        return f"{self.label}: {self.path} {what}; `exclude: [{self.exclude!r}]` leaves it out"


class PolicyRefused(LinkerError):
    """The format policy refuses a file an entry would link (exit 1)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        head = f"the format policy refuses {len(findings)} file{'s' if len(findings) != 1 else ''}:"
        super().__init__("\n".join([head, *("  " + f.line() for f in findings)]), hint=_HINT)


_HINT = "add the exclude to the entry (or set `policy:` in the lock); `linker audit` lists every file by risk"


def _risky(paths: Iterable[str]) -> list[str]:
    """The paths `classify` does not call safe, found with one `endswith` each (no suffix holds a `/`)."""
    return [p for p in paths if p.lower().endswith(_RISKY_SUFFIXES)]


def classify(path: str) -> Risk:
    name = path.rsplit("/", 1)[-1].lower()
    if name.endswith(PICKLE_SUFFIXES):
        return Risk.PICKLE
    if name.endswith(CODE_SUFFIXES):
        return Risk.REMOTE_CODE
    return Risk.SAFE


Locator = Callable[[Entry, str], "Path | None"]


def cache_locator(*caches: Path) -> Locator:
    """Where an entry's file has its bytes on this machine: its blob in the first of `caches` holding it."""

    def locate(entry: Entry, path: str) -> Path | None:
        for cache in caches:
            repo = CacheRepo(cache, entry.id, entry.type)
            etag = entry.files[path].hash if entry.files and path in entry.files else repo.blob_of(entry.revision, path)
            if etag is not None and os.path.isfile(blob := repo.blob(etag)):
                return blob
        return None

    return locate


_scanned: dict[tuple[int, int, int, int], PickleScan] = {}


def _scan(blob: Path) -> PickleScan:
    """The blob's scan, remembered for this process by device, inode, size and mtime. A blob that cannot be read
    is an incomplete scan (dangerous): what cannot be checked is not linked."""
    from .pickles import PickleScan, scan_file  # pickletools, zipfile: only when a pickle is on this machine

    try:
        st = os.stat(blob)
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if key not in _scanned:
            _scanned[key] = scan_file(blob)
    except OSError as exc:
        return PickleScan((), False, f"cannot be read: {exc.strerror or exc}")
    return _scanned[key]


def audit_entry(entry: Entry, paths: Iterable[str], locate: Locator | None = None) -> EntryAudit:
    """Each path's risk class; pickles whose bytes `locate` finds are read (opcodes only)."""
    out = EntryAudit(entry.label)
    for path in sorted(paths):
        risk = classify(path)
        scan = None
        if risk is Risk.PICKLE and locate is not None and (blob := locate(entry, path)) is not None:
            scan = _scan(blob)
            if not scan.objects:
                risk, scan = Risk.SAFE, None
        out.files.append(FileAudit(path, risk, scan))
    return out


def findings(audit: EntryAudit, policy: FormatPolicy) -> list[Finding]:
    """What the policy says about an entry's files: refusals (deny, or a dangerous pickle unless allow), warnings."""
    out: list[Finding] = []
    for f in audit.files:
        if f.risk is Risk.SAFE:
            continue
        action = policy.pickle if f.risk is Risk.PICKLE else policy.remote_code
        if action == "allow":
            continue
        if f.dangerous:
            unsafe = f.scan.unsafe if f.scan is not None else ()
            out.append(Finding(Verdict.DANGEROUS, audit.label, f.path, f.path, True, unsafe))
            continue
        kind = Verdict.PICKLE if f.risk is Risk.PICKLE else Verdict.REMOTE_CODE
        out.append(Finding(kind, audit.label, f.path, _glob(f.path), action == "deny"))
    return out


def _glob(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return f"*.{name.rsplit('.', 1)[-1]}" if "." in name else path


def check_policy(
    policy: FormatPolicy,
    entries: Iterable[tuple[Entry, Iterable[str]]],
    *,
    locate: Locator | None = None,
    log: Callable[[str], None] | None = None,
) -> list[Finding]:
    """The one policy check of add, lock, sync and verify: raise `PolicyRefused` (exit 1) naming every refused
    file; else log one warning line per entry with warned files, and return the findings."""
    found: list[Finding] = []
    for entry, paths in entries:  # a safe file gives no finding: only risky names are audited (a no-op has 1000s)
        found.extend(findings(audit_entry(entry, _risky(paths), locate), policy))
    refused = [f for f in found if f.refused]
    if refused:
        raise PolicyRefused(refused)
    if log is not None:
        for line in warning_lines(found):
            log(line)
    return found


def warning_lines(found: list[Finding]) -> list[str]:
    """One `warning:` line per entry: its pickles / Python files and the exclude that would leave them out."""
    by_entry: dict[str, list[Finding]] = {}
    for f in found:
        by_entry.setdefault(f.label, []).append(f)
    lines = []
    for label, items in by_entry.items():
        names = ", ".join(f.path for f in items[:3]) + (", ..." if len(items) > 3 else "")
        globs = sorted({f.exclude for f in items})
        kinds = " and ".join(sorted({"Python code" if f.kind is Verdict.REMOTE_CODE else "pickles" for f in items}))
        lines.append(f"warning: {label} links {kinds} that run code when loaded ({names}); exclude: {globs} avoids it")
    return lines


def safe_subset(paths: Iterable[str]) -> list[str] | None:
    """The `exclude` globs that keep only the safetensors weights, when a repo has both safetensors and pickles
    (`model.safetensors` and `pytorch_model.bin`: `["*.bin"]`); None when there is no such choice."""
    paths = list(paths)
    if not any(p.endswith(".safetensors") for p in paths):
        return None
    globs = sorted({_glob(p) for p in paths if classify(p) is Risk.PICKLE and not p.endswith(".npy")})
    return globs or None


def pinned_paths(
    lock: Lockfile,
    global_cache: Path,
    entries: Iterable[Entry] | None = None,
    tiers: Sequence[Path] = (),
    recorded: Mapping[str, list[str]] | None = None,
) -> list[tuple[Entry, list[str]]]:
    """(entry, the paths it pins) from the lock's `files`, else the caches' listings (linker/pins.py; with shared
    `tiers`, theirs too, as sync reads them); `recorded` (entry label -> files) holds the lists of the view's
    manifest records that match their entry exactly (`sync.fastpath.recorded_files`): a no-op reads no
    trees/<sha>.json."""
    from .pins import pinned_files

    out = []
    for e in lock.entries if entries is None else entries:
        if e.files is not None:
            out.append((e, list(e.files)))
        elif recorded and (paths := recorded.get(e.label)) is not None:
            out.append((e, paths))
        elif tiers:
            from .sync.desired import tiered_pins

            out.append((e, list(tiered_pins(e, CacheRepo(global_cache, e.id, e.type), tiers).files)))
        else:
            g, v = CacheRepo(global_cache, e.id, e.type), CacheRepo(lock.view, e.id, e.type)
            out.append((e, list(pinned_files(e, g, v).files)))
    return out


def check_planned(lock: Lockfile, plan: LockPlan, global_cache: Path, log: Callable[[str], None] | None = None) -> None:
    """`check_policy` for the lock `linker lock` leaves: each changed entry with its new files, and the entries it
    found up to date."""
    from dataclasses import replace

    by_label = {e.label: e for e in lock.entries}
    pairs = [(replace(by_label[c.repo], revision=c.new_revision, files=c.files), list(c.files)) for c in plan.changes]
    pairs += [(e, list(e.files)) for label in plan.unchanged if (e := by_label[label]).files is not None]
    check_policy(lock.policy, pairs, locate=cache_locator(global_cache, lock.view), log=log)


def check_lock(
    lock: Lockfile,
    global_cache: Path,
    entries: Iterable[Entry] | None = None,
    log: Callable[[str], None] | None = None,
    *,
    view_first: bool = False,
    tiers: Sequence[Path] = (),
    recorded: Mapping[str, list[str]] | None = None,
) -> list[Finding]:
    """`check_policy` for entries of the lock, reading pickles from the shared `tiers` and the global cache (what
    sync links, in its order) or, with `view_first`, from the view first (what code loads: verify). Reading only:
    nothing is written into a tier. `recorded`: see `pinned_paths`."""
    pairs = pinned_paths(lock, global_cache, entries, tiers, recorded)
    caches = (lock.view, *tiers, global_cache) if view_first else (*tiers, global_cache, lock.view)
    return check_policy(lock.policy, pairs, locate=cache_locator(*caches), log=log)
