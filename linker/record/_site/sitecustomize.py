"""linker's recorder (`linker record`, `linker run --strict`): put first on PYTHONPATH with LINKER_RECORD_FILE set.

When (and only when) the program imports huggingface_hub, the lookups it makes are wrapped: `hf_hub_download`,
`snapshot_download`, `try_to_load_from_cache` and `HfApi.model_info`/`dataset_info`/`repo_info`. Each call
appends one JSON line to LINKER_RECORD_FILE (O_APPEND, one write per line, so child processes append safely).
Results and exceptions pass through unchanged. Any other `sitecustomize` on the path is run afterwards.
This file imports nothing outside the standard library and must never break the program it is loaded into.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import threading
from typing import Any

_FILE = os.environ.get("LINKER_RECORD_FILE", "")
_HERE = os.path.dirname(os.path.abspath(__file__))
_SHA = re.compile(r"[0-9a-f]{40}")
_local = threading.local()
_TARGETS = ("huggingface_hub.file_download", "huggingface_hub._snapshot_download", "huggingface_hub.hf_api")


def _write(rec: dict[str, Any]) -> None:
    rec["pid"] = os.getpid()
    line = (json.dumps(rec, default=str) + "\n").encode()
    try:
        fd = os.open(_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError:
        pass


def _cache_dir(cache_dir: Any) -> str:
    if cache_dir:
        return str(cache_dir)
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:
        return ""


def _commit(cache: str, repo_id: str, repo_type: str, revision: str | None, path: Any) -> str | None:
    """The commit a lookup resolved to: the sha asked, the snapshot folder of the path returned, or the ref."""
    rev = revision or "main"
    if _SHA.fullmatch(rev):
        return rev
    if isinstance(path, str):
        m = re.search(r"/snapshots/([0-9a-f]{40})(/|$)", path)
        if m:
            return m.group(1)
    folder = f"{repo_type}s--" + repo_id.replace("/", "--")
    try:
        with open(os.path.join(cache, folder, "refs", rev)) as f:
            sha = f.read().strip()
        return sha if _SHA.fullmatch(sha) else None
    except OSError:
        return None


def _record(
    fn: str,
    repo_id: Any,
    repo_type: Any,
    revision: Any,
    filename: Any,
    cache: Any,
    status: str,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    try:
        repo_type = repo_type or "model"
        cache_s = _cache_dir(cache)
        rec: dict[str, Any] = {
            "fn": fn,
            "repo_id": str(repo_id),
            "repo_type": str(repo_type),
            "revision": revision,
            "commit": _commit(cache_s, str(repo_id), str(repo_type), revision, result),
            "path": filename,
            "status": status,
            "cache": cache_s,
            "offline": os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0", "false", "False"),
        }
        if error is not None:
            rec["error"] = f"{type(error).__name__}: {error}".splitlines()[0][:300]
        if fn == "snapshot_download" and isinstance(result, str) and os.path.isdir(result):
            files = []
            for root, _dirs, names in os.walk(result):
                for name in names:
                    files.append(os.path.relpath(os.path.join(root, name), result).replace(os.sep, "/"))
            rec["files"] = sorted(files)
        _write(rec)
    except Exception:
        pass


def _kind(exc: BaseException) -> str:
    names = {c.__name__ for c in type(exc).__mro__}
    if "RemoteEntryNotFoundError" in names:
        return "absent"  # a 404 from the Hub: the file does not exist at this revision
    return "missing"


def _observed(fn: str, orig: Any, repo_id: Any, path: Any, args: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    """Run `orig(*args, **kw)` one level deeper (lookups it makes itself are its own) and record what came of it."""
    where = (repo_id, kw.get("repo_type"), kw.get("revision"), path, kw.get("cache_dir"))
    quiet = bool(kw.get("local_dir") or kw.get("dry_run"))  # not the cache: nothing a view would serve
    _local.depth = getattr(_local, "depth", 0) + 1
    try:
        result = orig(*args, **kw)
    except BaseException as exc:
        if not quiet:
            _record(fn, *where, _kind(exc), error=exc)
        raise
    finally:
        _local.depth -= 1
    if not quiet:
        _record(fn, *where, "found", result)
    return result


def _wrap_download(orig: Any) -> Any:
    @functools.wraps(orig)
    def hf_hub_download(repo_id: str, filename: str, *args: Any, **kw: Any) -> Any:
        sub = kw.get("subfolder")
        path = f"{sub}/{filename}" if sub else filename
        return _observed("hf_hub_download", orig, repo_id, path, (repo_id, filename, *args), kw)

    hf_hub_download.__linker_wrapped__ = True  # type: ignore[attr-defined]
    return hf_hub_download


def _wrap_snapshot(orig: Any) -> Any:
    @functools.wraps(orig)
    def snapshot_download(repo_id: str, *args: Any, **kw: Any) -> Any:
        return _observed("snapshot_download", orig, repo_id, None, (repo_id, *args), kw)

    snapshot_download.__linker_wrapped__ = True  # type: ignore[attr-defined]
    return snapshot_download


def _wrap_try(orig: Any, no_exist: Any) -> Any:
    @functools.wraps(orig)
    def try_to_load_from_cache(repo_id: str, filename: str, *args: Any, **kw: Any) -> Any:
        result = orig(repo_id, filename, *args, **kw)
        if getattr(_local, "depth", 0) == 0:  # inside hf_hub_download it is that call's own business
            given = dict(zip(("cache_dir", "revision", "repo_type"), args, strict=False))
            given.update(kw)
            status = "absent" if result is no_exist else ("found" if isinstance(result, str) else "uncached")
            found = result if isinstance(result, str) else None
            where = (given.get("repo_type"), given.get("revision"), filename, given.get("cache_dir"))
            _record("try_to_load_from_cache", repo_id, *where, status, found)
        return result

    try_to_load_from_cache.__linker_wrapped__ = True  # type: ignore[attr-defined]
    return try_to_load_from_cache


def _wrap_info(orig: Any, kind: str | None) -> Any:
    @functools.wraps(orig)
    def info(self: Any, repo_id: str, *args: Any, **kw: Any) -> Any:
        if getattr(_local, "depth", 0):  # asked by snapshot_download or hf_hub_download, which record the outcome
            return orig(self, repo_id, *args, **kw)
        repo_type = kind or kw.get("repo_type") or "model"
        try:
            result = orig(self, repo_id, *args, **kw)
        except BaseException as exc:
            _record(orig.__name__, repo_id, repo_type, kw.get("revision"), None, None, "missing", error=exc)
            raise
        with contextlib.suppress(Exception):
            rec = {"fn": orig.__name__, "repo_id": repo_id, "repo_type": repo_type, "revision": kw.get("revision")}
            _write({**rec, "commit": getattr(result, "sha", None), "path": None, "status": "info"})
        return result

    info.__linker_wrapped__ = True  # type: ignore[attr-defined]
    return info


def _patch(name: str, module: Any) -> None:
    if name == "huggingface_hub.file_download":
        module.hf_hub_download = _wrap_download(module.hf_hub_download)
        module.try_to_load_from_cache = _wrap_try(module.try_to_load_from_cache, module._CACHED_NO_EXIST)
    elif name == "huggingface_hub._snapshot_download":
        module.snapshot_download = _wrap_snapshot(module.snapshot_download)
    elif name == "huggingface_hub.hf_api":
        cls = module.HfApi
        for attr, kind in (("model_info", "model"), ("dataset_info", "dataset"), ("repo_info", None)):
            if hasattr(cls, attr):
                setattr(cls, attr, _wrap_info(getattr(cls, attr), kind))
                if hasattr(module, "api") and hasattr(module, attr):
                    setattr(module, attr, getattr(module.api, attr))  # the module-level bound aliases
    package = sys.modules.get("huggingface_hub")
    if package is not None:  # names the package already holds (its lazy __getattr__ reads the module each time)
        for attr in (
            "hf_hub_download",
            "try_to_load_from_cache",
            "snapshot_download",
            "model_info",
            "repo_info",
            "dataset_info",
        ):
            held = vars(package).get(attr)
            new = getattr(module, attr, None)
            if held is not None and new is not None and new is not held and _replaces(new, attr):
                setattr(package, attr, new)


def _replaces(new: Any, attr: str) -> bool:
    return bool(getattr(new, "__linker_wrapped__", False)) or attr.endswith("_info")


class _Loader(importlib.abc.Loader):
    def __init__(self, name: str, inner: Any) -> None:
        self.name, self.inner = name, inner

    def create_module(self, spec: Any) -> Any:
        return self.inner.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self.inner.exec_module(module)
        with contextlib.suppress(Exception):
            _patch(self.name, module)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in _TARGETS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _Loader(name, spec.loader)
        return spec


def _chain() -> None:
    """Run the next `sitecustomize` on the path, the one this file shadows."""
    rest = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)


if _FILE:
    sys.meta_path.insert(0, _Finder())
    for _name in _TARGETS:  # imported before this ran (unusual): patch in place
        if _name in sys.modules:
            _patch(_name, sys.modules[_name])
_chain()
