"""Progress bars on a TTY (stderr), silent otherwise."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from ..context import App


@contextlib.contextmanager
def action_progress(app: App, what: str) -> Iterator[Callable[[Any], None] | None]:
    """A per-action callback advancing a bar, or None when not on a TTY."""
    if not app.tty:
        yield None
        return
    from tqdm import tqdm

    bar = tqdm(desc=what, unit=" action", leave=False, dynamic_ncols=True)
    try:
        yield lambda _action: bar.update(1)
    finally:
        bar.close()


@contextlib.contextmanager
def byte_progress(app: App, what: str, total: int) -> Iterator[Callable[[int], None]]:
    """A bytes bar with rate and ETA on a TTY; a no-op callback otherwise."""
    if not app.tty:
        yield lambda _n: None
        return
    from tqdm import tqdm

    bar = tqdm(desc=what, total=total, unit="B", unit_scale=True, unit_divisor=1024, leave=False, dynamic_ncols=True)
    try:
        yield bar.update
    finally:
        bar.close()
