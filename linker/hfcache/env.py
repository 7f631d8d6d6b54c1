"""Which Hugging Face cache is in effect, and offline mode, read from the environment as huggingface_hub reads it."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import warn_once


def _expand(value: str) -> str:
    return os.path.expandvars(os.path.expanduser(value))


def global_cache_dir(explicit: str | os.PathLike[str] | None = None) -> tuple[Path, str]:
    """The global hub cache and what chose it, with huggingface_hub's own precedence (views not skipped: see
    linker/globalcache.py for the choice every command makes)."""
    return cache_sources(explicit)[0]


def cache_sources(explicit: str | os.PathLike[str] | None = None) -> list[tuple[Path, str]]:
    """Every cache dir a source names, in huggingface_hub's order of precedence (`--cache-dir` first), each with
    the source that names it; the default always comes last."""
    out: list[tuple[Path, str]] = []
    if explicit:
        out.append((Path(_expand(os.fspath(explicit))).absolute(), "--cache-dir"))
    env = os.environ
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if env.get(var):
            out.append((Path(_expand(env[var])).absolute(), var))
    if env.get("HF_HOME"):
        out.append((Path(_expand(env["HF_HOME"])).absolute() / "hub", "HF_HOME"))
    if env.get("XDG_CACHE_HOME"):
        out.append((Path(_expand(env["XDG_CACHE_HOME"])).absolute() / "huggingface" / "hub", "XDG_CACHE_HOME"))
    out.append((Path(os.path.expanduser("~/.cache/huggingface/hub")), "default"))
    return out


def is_true(value: str | None) -> bool:
    """huggingface_hub's reading of boolean variables."""
    return (value or "").upper() in {"1", "ON", "YES", "TRUE"}


_FALSE = {"", "0", "OFF", "NO", "FALSE"}


def offline_mode() -> bool:
    """`HF_HUB_OFFLINE`, falling back to `TRANSFORMERS_OFFLINE` only when it is unset or empty. A value that is
    neither true nor false is read as huggingface_hub reads it (false: online), with a warning."""
    var = "HF_HUB_OFFLINE" if os.environ.get("HF_HUB_OFFLINE") else "TRANSFORMERS_OFFLINE"
    value = os.environ.get(var)
    if not is_true(value) and (value or "").strip().upper() not in _FALSE:
        warn_once(var, f"{var}={value!r} is not 1/0, true/false, yes/no or on/off; read as false (online)")
    return is_true(value)
