"""Point a running process at a view, offline, including the libraries it has already imported.

huggingface_hub reads `HF_HUB_CACHE` and `HF_HUB_OFFLINE` once, at import, into `huggingface_hub.constants`;
setting `os.environ` afterwards changes nothing. Other modules copy those values at import too: in
huggingface_hub 2.4 `utils._cache_manager.HF_HUB_CACHE` (the default of `scan_cache_dir`); in transformers 4.x
`utils.hub.TRANSFORMERS_CACHE` (and its `PYTORCH_*` aliases, the default `cache_dir` of `cached_file`) and
`utils.hub._is_offline_mode` (what its `is_offline_mode()` returns); in datasets `config.HF_HUB_OFFLINE` and
`config.HF_DATASETS_OFFLINE`. transformers 5 and sentence-transformers read huggingface_hub's constants at call
time (sentence-transformers also reads `SENTENCE_TRANSFORMERS_HOME` then).

So `point_at` sets the environment (for libraries imported later and for child processes), then, in every module
of those packages that is ALREADY imported, replaces those copies and any function default bound to the old
cache path. It imports nothing itself. Afterwards every `is_offline_mode()` it can find must say True; if one
does not (a copy it could not reach), it raises `ActivationError` naming the module.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import PurePath
from typing import Any

from .errors import LinkerError

PACKAGES = frozenset({"huggingface_hub", "transformers", "sentence_transformers", "datasets"})
#: module-level copies of the hub cache path
CACHE_NAMES = (
    "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE",
    "PYTORCH_PRETRAINED_BERT_CACHE",
)  # fmt: skip
#: module-level copies of the offline flag
OFFLINE_NAMES = ("HF_HUB_OFFLINE", "_is_offline_mode", "HF_DATASETS_OFFLINE")
#: variables that would send a library somewhere else than HF_HUB_CACHE: removed
REDIRECTS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE",
             "SENTENCE_TRANSFORMERS_HOME")  # fmt: skip
_FIX = "call linker.activate() before importing it, or start the program with `linker run -- ...`"


def point_at(view: str) -> list[str]:
    """Make this process load from `view` offline; the `module.NAME`s it patched, in order."""
    old: set[str] = set()
    _environment(view, old)
    modules = [(name, mod) for name, mod in list(sys.modules.items()) if _ours(name, mod)]
    patched: list[str] = []
    for name, mod in modules:
        patched += _patch_copies(name, mod, view, old)
    old.discard(view)
    for name, mod in modules:
        patched += _patch_defaults(name, mod, view, old)
    for name, mod in modules:
        _check_offline(name, mod)
    return patched


def _environment(view: str, old: set[str]) -> None:
    env = os.environ
    old.update(env[k] for k in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", *REDIRECTS) if env.get(k))
    for key in REDIRECTS:
        env.pop(key, None)
    env.update(HF_HUB_CACHE=view, HUGGINGFACE_HUB_CACHE=view)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HF_DATASETS_OFFLINE="1")


def _ours(name: str, mod: Any) -> bool:
    return isinstance(mod, types.ModuleType) and name.partition(".")[0] in PACKAGES


def _patch_copies(name: str, mod: types.ModuleType, view: str, old: set[str]) -> list[str]:
    out = []
    ns = vars(mod)  # not getattr: a lazy module (transformers) would import on a miss
    for attr in CACHE_NAMES:
        value = ns.get(attr)
        if isinstance(value, (str, PurePath)):
            old.add(os.fspath(value))
            _set(mod, name, attr, type(value)(view))
            out.append(f"{name}.{attr}")
    for attr in OFFLINE_NAMES:
        if isinstance(ns.get(attr), bool):
            _set(mod, name, attr, True)
            out.append(f"{name}.{attr}")
    return out


def _set(mod: types.ModuleType, name: str, attr: str, value: object) -> None:
    try:
        setattr(mod, attr, value)
    except (AttributeError, TypeError) as exc:
        raise ActivationError(f"cannot set {name}.{attr}: {exc}", hint=_FIX) from exc


def _patch_defaults(name: str, mod: types.ModuleType, view: str, old: set[str]) -> list[str]:
    """Function defaults bound at definition time to the old cache path (`def f(cache_dir=HF_HUB_CACHE)`)."""
    if not old:
        return []
    out = []
    for fn in _functions(name, mod):
        defaults, kwdefaults = fn.__defaults__ or (), fn.__kwdefaults__ or {}
        if any(_is_old(v, old) for v in (*defaults, *kwdefaults.values())):
            fn.__defaults__ = tuple(_swap(v, view, old) for v in defaults) or None
            fn.__kwdefaults__ = {k: _swap(v, view, old) for k, v in kwdefaults.items()} or None
            out.append(f"{name}.{fn.__qualname__}()")
    return out


def _functions(name: str, mod: types.ModuleType) -> list[types.FunctionType]:
    """The plain functions defined in `mod`, and the methods of the classes defined there."""
    found: list[types.FunctionType] = []
    for obj in list(vars(mod).values()):
        if getattr(obj, "__module__", None) != name:
            continue
        if isinstance(obj, type):
            for member in list(vars(obj).values()):
                member = getattr(member, "__func__", member)  # classmethod, staticmethod
                if isinstance(member, types.FunctionType):
                    found.append(member)
        elif isinstance(obj, types.FunctionType):
            found.append(obj)
    return found


def _is_old(value: object, old: set[str]) -> bool:
    return isinstance(value, (str, PurePath)) and os.fspath(value) in old


def _swap(value: object, view: str, old: set[str]) -> object:
    return type(value)(view) if isinstance(value, (str, PurePath)) and _is_old(value, old) else value


def _check_offline(name: str, mod: types.ModuleType) -> None:
    fn = vars(mod).get("is_offline_mode")
    if not isinstance(fn, types.FunctionType) or fn.__module__ != name:
        return
    try:
        offline = fn()
    except TypeError:
        return  # not the zero-argument flag reader we know
    if offline is not True:
        raise ActivationError(
            f"{name}.is_offline_mode() still says online after linker.activate(): {name.partition('.')[0]} keeps "
            "a copy of the offline flag linker cannot reach, so a load could fetch or use another revision",
            hint=_FIX,
        )


class ActivationError(LinkerError):
    """`activate()` could not make an already imported library load from the view offline."""
