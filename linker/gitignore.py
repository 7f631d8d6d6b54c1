"""Keep a new project's view out of git: when linker creates a lockfile, the view folder goes into the project's
`.gitignore` (never a file inside the view, where `scan_cache_dir` would warn about it)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import fs_boundary
from .fsutil import atomic_write_text

GITIGNORE = ".gitignore"


@dataclass(frozen=True)
class IgnoreResult:
    """What `ignore_view` did: `line` was added to `path` (`created`: the file is new), or was there already."""

    path: Path
    line: str
    added: bool
    created: bool = False

    def describe(self) -> str:
        if not self.added:
            return f"{self.path} already ignores {self.line}"
        if self.created:
            return f"created {self.path} with {self.line} (the view is not checked in)"
        return f"added {self.line} to {self.path} (the view is not checked in)"

    def to_json(self) -> dict[str, object]:
        return {"path": str(self.path), "line": self.line, "added": self.added, "created": self.created}


def _covers(existing: str, folder: str) -> bool:
    forms = {folder, f"{folder}/", f"/{folder}", f"/{folder}/"}
    return any(raw.strip() in forms for raw in existing.splitlines())


def ignore_view(project_root: Path, view: Path) -> IgnoreResult | None:
    """Add `/<view>/` to `<project_root>/.gitignore` (created if needed) unless a line already names it. None when
    the view is not inside the project folder (nothing there to ignore)."""
    try:
        rel = view.absolute().relative_to(project_root.absolute())
    except ValueError:
        return None
    if not rel.parts:
        return None
    folder = rel.as_posix()
    path = project_root / GITIGNORE
    real = Path(os.path.realpath(path))  # a symlinked .gitignore: its target is edited
    line = f"/{folder}/"
    with fs_boundary(path, "cannot update"):
        existed = real.exists()
        text = real.read_text(encoding="utf-8") if existed else ""
        if _covers(text, folder):
            return IgnoreResult(path, line, added=False)
        sep = "" if not text or text.endswith("\n") else "\n"
        mode = os.stat(real).st_mode & 0o7777 if existed else None
        atomic_write_text(real, f"{text}{sep}# the linker view (rebuilt by `linker sync`)\n{line}\n")
        if mode is not None:
            os.chmod(real, mode)
    return IgnoreResult(path, line, added=True, created=not existed)
