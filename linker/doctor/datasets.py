"""`doctor`'s datasets check: a prepared `datasets` cache that could serve a pinned dataset at another revision.

`datasets.load_dataset("org/ds")` keeps the Arrow files it prepared in `<HF_DATASETS_CACHE>/org___ds/...` (default
`$HF_HOME/datasets`). Under `linker run` (offline) it can return those, built from whatever revision was current
when they were made, instead of the pin; and datasets 5.x refuses a Hub id offline before it looks at the hub
cache. Loading the pinned snapshot by path, `load_dataset(str(linker.path("org/ds", type="dataset")))`, avoids
both: a local folder gets a cache entry of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..lockfile import Lockfile
from .report import OK, WARN, Check


def datasets_cache_dir() -> tuple[Path, str]:
    """Where datasets keeps prepared data, and the variable that chose it (datasets' own precedence)."""
    env = os.environ
    if env.get("HF_DATASETS_CACHE"):
        return Path(os.path.expanduser(env["HF_DATASETS_CACHE"])).absolute(), "HF_DATASETS_CACHE"
    if env.get("HF_HOME"):
        return Path(os.path.expanduser(env["HF_HOME"])).absolute() / "datasets", "HF_HOME"
    base = env.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(os.path.expanduser(base)).absolute() / "huggingface" / "datasets", "default"


def prepared_caches(lock: Lockfile, cache: Path) -> list[tuple[str, Path]]:
    """(dataset id, folder) for each pinned dataset with a prepared cache folder (`org___name`, any case)."""
    wanted = {e.id.replace("/", "___").lower(): e.id for e in lock.entries if e.type == "dataset"}
    if not wanted:
        return []
    try:
        names = sorted(os.listdir(cache))
    except OSError:
        return []
    return [(wanted[n.lower()], cache / n) for n in names if n.lower() in wanted and (cache / n).is_dir()]


def dataset_cache_checks(lock: Lockfile | None) -> list[Check]:
    """One WARN per pinned dataset that has a prepared datasets cache; one ok line when there is none."""

    if lock is None or not any(e.type == "dataset" for e in lock.entries):
        return []
    cache, source = datasets_cache_dir()
    found = prepared_caches(lock, cache)
    out = [
        Check(
            "datasets-cache",
            WARN,
            f"{folder} (datasets' cache, chosen by {source}) holds prepared data of the pinned dataset {ds_id}: "
            f'load_dataset("{ds_id}") can return it whatever revision it was built from, not the pin',
            fix=f'load the pin by path: load_dataset(str(linker.path("{ds_id}", type="dataset"))); '
            f"or delete {folder} (datasets rebuilds it)",
        )
        for ds_id, folder in found
    ]
    return out or [Check("datasets-cache", OK, f"no prepared datasets cache of a pinned dataset in {cache}")]
