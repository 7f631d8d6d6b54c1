"""`linker scan`: the Hub repos a project's code names, found statically (with `ast`, never importing or running
the code), judged against the lock. `finders.py` lists the loaders, `files.py` reads files and notebooks,
`calls.py` finds the calls, `scope.py` resolves names, `report.py` judges and reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from ..errors import ConfigError
from ..lockfile import Lockfile
from .calls import Dynamic, Found, Place
from .files import Rules, Unreadable, scan_file, source_files
from .report import Conflict, Reference, ScanReport, State

__all__ = [
    "Conflict",
    "Dynamic",
    "Found",
    "Place",
    "Reference",
    "ScanReport",
    "State",
    "Unreadable",
    "find_references",
    "scan",
]


def find_references(
    paths: Sequence[Path], root: Path, *, skip: Iterable[Path] = (), excludes: Iterable[str] = ()
) -> tuple[int, list[Found], list[Unreadable]]:
    """Files read, the references in them (in file order), and what could not be read. `paths` must exist."""
    rules = Rules(root.absolute(), tuple(p.absolute() for p in skip), tuple(g.rstrip("/") for g in excludes))
    problems: list[Unreadable] = []
    found: list[Found] = []
    files = 0
    for path in source_files([p.absolute() for p in paths], rules, problems):
        files += 1
        result = scan_file(path, rules, problems)
        if result is not None:
            found.extend(sorted(result.found, key=lambda f: (f.place.cell or 0, f.place.line, f.place.col)))
    return files, found, problems


def scan(paths: Sequence[Path], *, root: Path, lock: Lockfile | None, excludes: Iterable[str] = ()) -> ScanReport:
    """Scan `paths` (default: `root`, the lockfile's folder; the lockfile itself, given as a path, stands for its
    folder) and judge what they name against `lock`. The lock's view is never read. Lock entries no code names
    are listed only when the whole folder was scanned. ConfigError (exit 2) for a path that does not exist."""
    targets = list(paths) or [root]
    for p in targets:
        if not p.exists():
            raise ConfigError(f"{p}: no such file or folder")
    if lock is not None:
        lock_file = lock.path.resolve()
        targets = [root if p.resolve() == lock_file else p for p in targets]
    complete = any(p.resolve() == root.resolve() for p in targets)
    skip = [lock.view] if lock is not None else []
    files, found, problems = find_references(targets, root, skip=skip, excludes=excludes)
    report = ScanReport.build(root.absolute(), lock, files, found, problems)
    if not complete:
        report.unnamed = []  # some files only (a pre-commit hook): what the others name is unknown
    report.complete = complete
    return report
