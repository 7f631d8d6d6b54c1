"""The bounded pool that downloads several entries side by side (used by `fetch.fetch_entries`).

* `LINKER_FETCH_JOBS` entries at once (default 8; 1 = one entry after the other, as before). Inside an entry,
  huggingface_hub's own pool gets `per_entry_workers`, so at most about `MAX_DOWNLOADS` files are in flight in all.
* Entries of the same repo folder run one after the other in one task (each hashes the blobs that appeared
  since it started; two downloads into one folder at once would see each other's).
* Once one entry finds the Hub unreachable or silent, `GiveUp` says so to every task: entries not yet started are
  not tried (each in flight ends within `LINKER_HUB_TIMEOUT`).
* Log lines are written whole, under one lock; huggingface_hub's progress bars are off while several entries run.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from ..lockfile import Entry
from . import HubFailure

ENV = "LINKER_FETCH_JOBS"
DEFAULT_JOBS = 8
#: huggingface_hub's default pool inside one `snapshot_download`, kept when one entry runs alone.
PER_ENTRY_MAX = 8
#: File downloads in flight across all entries (about): the per-entry pool shrinks as more entries run at once.
MAX_DOWNLOADS = 32


_warned: set[str] = set()


def fetch_jobs(warn: Callable[[str], None]) -> int:
    """`LINKER_FETCH_JOBS`: entries downloaded at once; an invalid value is warned about (once), then the default."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return DEFAULT_JOBS
    if raw.isdigit() and int(raw) >= 1:
        return int(raw)
    if raw not in _warned:
        _warned.add(raw)
        warn(f"warning: {ENV}={raw!r} is not a whole number >= 1; using {DEFAULT_JOBS}")
    return DEFAULT_JOBS


def per_entry_workers(active: int) -> int:
    """huggingface_hub's `max_workers` for each of `active` entries running at once."""
    return max(1, min(PER_ENTRY_MAX, MAX_DOWNLOADS // max(1, active)))


def repo_groups(entries: list[Entry]) -> list[list[Entry]]:
    """`entries` grouped by repo folder (type and id), in the order each folder first appears."""
    groups: dict[tuple[str, str], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.type, entry.id), []).append(entry)
    return list(groups.values())


class GiveUp:
    """The first failure after which the Hub is not asked again in this run, shared by every task."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failure: HubFailure | None = None

    def set(self, failure: HubFailure) -> None:
        with self._lock:
            if self._failure is None:
                self._failure = failure

    @property
    def failure(self) -> HubFailure | None:
        with self._lock:
            return self._failure


def whole_lines(say: Callable[[str], None]) -> Callable[[str], None]:
    """`say`, one call at a time: lines from several threads never interleave."""
    lock = threading.Lock()

    def locked(text: str) -> None:
        with lock:
            say(text)

    return locked


def quiet_bars() -> type[Any]:
    """A tqdm class for `snapshot_download` that draws nothing (several entries' bars would overwrite each other)."""
    from huggingface_hub.utils import tqdm as hf_tqdm

    class QuietBar(hf_tqdm):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

    return QuietBar
