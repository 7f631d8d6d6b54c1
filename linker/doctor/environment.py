"""Doctor's checks of the environment: which global cache is chosen, offline mode, the token, and variables that send
libraries to another cache."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..globalcache import RECORDED, GlobalCache
from ..hfcache import is_true, offline_mode
from ..lockfile import Lockfile
from .report import FAIL, INFO, WARN, Check

_TRANSFORMERS_VARS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")


def global_cache_check(global_cache: Path, source: str) -> Check:
    chosen = {
        "--cache-dir": "the --cache-dir option",
        "HF_HUB_CACHE": "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE": "HUGGINGFACE_HUB_CACHE (legacy name of HF_HUB_CACHE)",
        "HF_HOME": "HF_HOME (+ /hub)",
        "XDG_CACHE_HOME": "XDG_CACHE_HOME (+ /huggingface/hub)",
        "default": "the default (~/.cache/huggingface/hub)",
        RECORDED: "the view's manifest (the global cache the view was last synced from)",
    }.get(source, source)
    env = os.environ
    if (
        env.get("HF_HUB_CACHE")
        and env.get("HUGGINGFACE_HUB_CACHE")
        and env["HF_HUB_CACHE"] != env["HUGGINGFACE_HUB_CACHE"]
    ):
        return Check(
            "global-cache",
            WARN,
            f"{global_cache}, chosen by {chosen}; HUGGINGFACE_HUB_CACHE is set to another folder and ignored",
            fix="unset HUGGINGFACE_HUB_CACHE",
        )
    try:
        is_dir = stat.S_ISDIR(os.stat(global_cache).st_mode)
    except FileNotFoundError:
        is_dir = False
    except OSError as exc:  # a parent that is a file, a name too long, a loop: nothing can use it
        return Check(
            "global-cache",
            FAIL,
            f"{global_cache} (chosen by {chosen}) cannot be used: {exc.strerror}",
            fix="point HF_HUB_CACHE at a folder",
        )
    if os.path.lexists(global_cache) and not is_dir:
        return Check(
            "global-cache",
            FAIL,
            f"{global_cache} (chosen by {chosen}) is not a folder",
            fix="point HF_HUB_CACHE at a folder",
        )
    state = "" if is_dir else " (does not exist yet: created by the first download)"
    return Check("global-cache", INFO, f"{global_cache}, chosen by {chosen}{state}")


def view_source_checks(chosen: GlobalCache) -> list[Check]:
    """A source (HF_HUB_CACHE, as `linker env` sets it) that names a linker view: linker never takes a view for the
    global cache; it says which one it uses instead (code run in this shell loads from the view)."""
    if chosen.view is None:
        return []
    shown = chosen.view_source if chosen.view_source == "--cache-dir" else f"{chosen.view_source}={chosen.view}"
    why = (
        "the global cache it was last synced from" if chosen.source == RECORDED else f"the next source, {chosen.source}"
    )
    return [
        Check(
            "view-env",
            INFO,
            f"{shown} is a linker view (a shell that evaluated `linker env`): code run here loads the pins from it, "
            f"offline; linker commands use {why}, {chosen.path}, and never write a global ref into the view",
        )
    ]


def offline_checks() -> list[Check]:
    env = os.environ
    hub, tf = env.get("HF_HUB_OFFLINE"), env.get("TRANSFORMERS_OFFLINE")
    out = []
    effective = offline_mode()
    shown = ", ".join(f"{k}={v!r}" for k, v in (("HF_HUB_OFFLINE", hub), ("TRANSFORMERS_OFFLINE", tf)) if v is not None)
    out.append(
        Check(
            "offline",
            INFO,
            f"offline mode is {'on' if effective else 'off'}"
            + (f" ({shown})" if shown else " (HF_HUB_OFFLINE not set)"),
        )
    )
    if hub and is_true(tf) and not is_true(hub):
        out.append(
            Check(
                "offline",
                WARN,
                f"HF_HUB_OFFLINE={hub!r} masks TRANSFORMERS_OFFLINE={tf!r}: huggingface_hub is online",
                fix="unset HF_HUB_OFFLINE, or set HF_HUB_OFFLINE=1",
            )
        )
    for var, value in (("HF_HUB_OFFLINE", hub), ("TRANSFORMERS_OFFLINE", tf)):
        if value and not is_true(value) and value.strip().upper() not in {"0", "OFF", "NO", "FALSE"}:
            out.append(
                Check(
                    "offline",
                    WARN,
                    f"{var}={value!r} is not understood and counts as off",
                    fix=f"use {var}=1 (1, ON, YES or TRUE)",
                )
            )
    return out


def token_checks() -> list[Check]:
    env = os.environ
    if env.get("HF_TOKEN"):
        return [Check("token", INFO, "HF_TOKEN is set (its value is never shown)")]
    if env.get("HUGGING_FACE_HUB_TOKEN"):
        return [Check("token", INFO, "HUGGING_FACE_HUB_TOKEN is set (legacy name; its value is never shown)")]
    home = Path(os.path.expanduser(os.path.expandvars(env.get("HF_HOME") or "~/.cache/huggingface")))
    token_file = Path(env["HF_TOKEN_PATH"]) if env.get("HF_TOKEN_PATH") else home / "token"
    if os.path.isfile(token_file):
        return [Check("token", INFO, f"HF_TOKEN is not set; a saved token ({token_file}) is used")]
    return [Check("token", INFO, "HF_TOKEN is not set and no token is saved: private and gated repos are out of reach")]


def library_cache_checks(global_cache: Path, lock: Lockfile | None) -> list[Check]:
    env = os.environ
    out = []
    ours = {os.path.realpath(global_cache)} | ({os.path.realpath(lock.view)} if lock else set())
    for var in _TRANSFORMERS_VARS:
        value = env.get(var)
        if value and os.path.realpath(os.path.expanduser(value)) not in ours:
            out.append(
                Check(
                    "library-cache",
                    WARN,
                    f"{var}={value}: transformers 4.x loads and downloads weights "
                    "there, not from the HF_HUB_CACHE linker manages (huggingface_hub and transformers 5 "
                    "ignore it)",
                    fix=f"unset {var} (or pass cache_dir= explicitly)",
                )
            )
    value = env.get("SENTENCE_TRANSFORMERS_HOME")
    if value and os.path.realpath(os.path.expanduser(value)) not in ours:
        where = f"cache_folder='{lock.view}'" if lock else "cache_folder="
        out.append(
            Check(
                "library-cache",
                WARN,
                f"SENTENCE_TRANSFORMERS_HOME={value}: sentence-transformers uses it "
                "as its cache folder (>= 2.3: an HF cache there; < 2.3: its own flat folders), not the view",
                fix=f"unset SENTENCE_TRANSFORMERS_HOME, or pass {where}",
            )
        )
    return out
