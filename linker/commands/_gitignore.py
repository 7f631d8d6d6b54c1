"""Shared by `add` and `migrate --lock`: once they created the lockfile, keep the view out of git."""

from __future__ import annotations

from pathlib import Path

from ..context import App
from ..errors import LinkerError
from ..gitignore import IgnoreResult, ignore_view
from ..lockfile import load_lockfile


def ignore_new_view(app: App, lock_path: Path) -> IgnoreResult | None:
    """Add the view of the lockfile just created to the project's `.gitignore` and say so (a warning, not an
    error, when that fails: the lockfile is written either way)."""
    try:
        result = ignore_view(lock_path.parent, load_lockfile(lock_path).view)
    except LinkerError as exc:
        app.log(f"warning: {exc.message}; add the view folder to .gitignore yourself")
        return None
    if result is not None and result.added:
        app.log(result.describe())
    return result
