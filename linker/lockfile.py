"""`project_cache.yaml`: finding, parsing and strictly validating the lockfile.

Parsing uses yaml's C loader on the fast path. Only when validation fails is the file composed again with
position marks, so that every error names `file:line:col`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError, LockfileError
from .hfcache import REPO_TYPES, SHA40, check_repo_id, etag_kind, is_safe_repo_path
from .lockpos import locate

LOCKFILE_NAME = "project_cache.yaml"
LINK_MODES = ("symlink", "hardlink", "copy", "auto")
DEFAULT_CACHE_DIR = "models_cache"

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_TOP_KEYS = {"version", "cache_dir", "link_mode", "models", "policy", "shared_caches"}
POLICY_ACTIONS = ("allow", "warn", "deny")
_POLICY_KEYS = ("pickle", "remote_code")
_ENTRY_KEYS = {"id", "revision", "type", "ref", "include", "exclude", "files", "local", "absent"}
_HASH_KEYS = ("verify_hashes", "require_hashes")  # top-level booleans: see linker/hashcheck.py
_TOP_KEYS |= set(_HASH_KEYS)
_FILE_KEYS = {"size", "hash"}
_HEXISH = re.compile(r"[0-9a-fA-F]{4,64}")


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """One mapping names the same key twice (YAML would silently keep the last)."""


class Loader(_BaseLoader):
    """The safe loader (C parser where available) that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *anchor` merges defaults: overriding them is what it is for
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: the base constructor reports it
            if first is not key_node:
                why = f"duplicate key {key!r} (first on line {first.start_mark.line + 1})"
                raise DuplicateKeyError(None, None, why, key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


@dataclass(frozen=True)
class LockedFile:
    size: int
    hash: str  # the blob name: sha256 (LFS) or git sha1


def repo_label(repo_id: str, repo_type: str) -> str:
    """How a repo is named to the user: `org/name` for a model, `TYPE:org/name` otherwise."""
    return repo_id if repo_type == "model" else f"{repo_type}:{repo_id}"


@dataclass(frozen=True)
class Entry:
    id: str
    revision: str  # the pinned 40-hex commit ("" while the entry is not resolved)
    type: str = "model"
    ref: str = "main"
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    files: dict[str, LockedFile] | None = None
    local: bool = False
    wants: str | None = None  # hand-written intent `linker lock` has not resolved yet: the branch or tag to pin
    absent: tuple[str, ...] = ()  # files code probed that the pin does not have (sync writes `.no_exist` markers)

    @property
    def resolved(self) -> bool:
        """Pinned to a commit (not a hand-written `id`-only entry or `revision: <branch or tag>`)."""
        return self.wants is None

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, self.id)

    @property
    def label(self) -> str:
        return repo_label(self.id, self.type)


@dataclass(frozen=True)
class FormatPolicy:
    """`policy:` at the top of the lock: what add/lock/sync/verify do with pickles and Python files."""

    pickle: str = "warn"  # allow | warn | deny
    remote_code: str = "warn"


@dataclass
class Lockfile:
    path: Path
    version: int = 1
    cache_dir: str = DEFAULT_CACHE_DIR
    link_mode: str | None = None
    entries: list[Entry] = field(default_factory=list)
    policy: FormatPolicy = FormatPolicy()
    verify_hashes: bool = False  # sync hashes every blob it links (as `--verify-hashes`)
    require_hashes: bool = False  # every entry must carry `files` (as `--require-hashes`)
    shared_caches: tuple[str, ...] = ()  # read-only caches consulted first (see linker/tiers.py), as written

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def view(self) -> Path:
        """The project's view directory (absolute). `~` and `$VARS` are expanded, as for the global cache."""
        return (self.root / os.path.expandvars(os.path.expanduser(self.cache_dir))).absolute()

    def find(self, repo_id: str, repo_type: str | None = None) -> Entry | None:
        for e in self.entries:
            if e.id == repo_id and (repo_type is None or e.type == repo_type):
                return e
        return None

    def select(self, ids: Iterable[str], *, hint: str = "`linker status` lists the pinned entries") -> list[Entry]:
        """The entries named by `ids` (an id or a `type:id` label), all of them when `ids` is empty."""
        ids = list(ids)
        if not ids:
            return list(self.entries)
        out: list[Entry] = []
        for wanted in ids:
            found = [e for e in self.entries if wanted in (e.id, e.label)]
            if not found:
                raise ConfigError(f"{wanted} is not in {self.path}", hint=hint)
            out.extend(e for e in found if e not in out)
        return out

    @property
    def unresolved(self) -> list[Entry]:
        return [e for e in self.entries if not e.resolved]


class UnresolvedError(ConfigError):
    """The lockfile holds hand-written intent (no commit yet) and the command needs pins (exit 2)."""


def require_resolved(lock: Lockfile) -> Lockfile:
    """The lockfile, if every entry is pinned to a commit; else `UnresolvedError` with the hint `run linker lock`.
    Every command that reads pins goes through this (add, remove and lock do not)."""
    todo = lock.unresolved
    if todo:
        names = ", ".join(f"{e.label} ({e.wants})" for e in todo[:3]) + (", ..." if len(todo) > 3 else "")
        config = "" if lock.path.name == LOCKFILE_NAME else f" -c {lock.path}"
        raise UnresolvedError(
            f"{lock.path}: {len(todo)} entr{'y is' if len(todo) == 1 else 'ies are'} not locked to a commit yet: "
            f"{names}",
            hint=f"run `linker lock{config}`",
        )
    return lock


# ---------------------------------------------------------------------------------------------------------------
# Finding


def find_lockfile(explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """`--config`, else `LINKER_CONFIG`, else `project_cache.yaml` in the current folder or a parent."""
    given = explicit or os.environ.get("LINKER_CONFIG")
    if given:
        path = Path(given).expanduser().absolute()
        if not path.is_file():
            raise ConfigError(f"{path}: no such lockfile")
        return path
    start = (cwd or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        candidate = folder / LOCKFILE_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"no {LOCKFILE_NAME} in {start} or any parent folder",
        hint="create one (see project_cache.example.yaml) or run `linker add ORG/NAME`; or pass -c PATH",
    )


# ---------------------------------------------------------------------------------------------------------------
# Parsing and validation


class _Invalid(Exception):
    def __init__(self, where: tuple[Any, ...], message: str, *, at_key: bool = False) -> None:
        super().__init__(message)
        self.where, self.message, self.at_key = where, message, at_key


def load_lockfile(path: Path) -> Lockfile:
    """Read and validate a lockfile; every problem is a `LockfileError` naming line and column."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the lockfile: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise LockfileError(path, line, col, f"not UTF-8 text (byte 0x{data[exc.start]:02x})") from None
    return parse_lockfile(text, path)


def parse_lockfile(text: str, path: Path) -> Lockfile:
    try:
        data = yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        what = "" if isinstance(exc, DuplicateKeyError) else "invalid YAML: "
        raise LockfileError(path, line, col, f"{what}{exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise LockfileError(path, None, None, f"invalid YAML: {exc}") from None
    try:
        return _build(data, path)
    except _Invalid as inv:
        line, col = locate(text, inv.where, inv.at_key, Loader)
        raise LockfileError(path, line, col, inv.message) from None


def _build(data: Any, path: Path) -> Lockfile:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _Invalid((), "the lockfile must be a mapping with `version` and `models`")
    for key in data:
        if key not in _TOP_KEYS:
            raise _Invalid((key,), f"unknown key {key!r} (allowed: {', '.join(sorted(_TOP_KEYS))})", at_key=True)
    version = data.get("version")
    if version is None:
        raise _Invalid((), "missing `version: 1`")
    if version != 1 or type(version) is not int:  # not true, not 1.0
        raise _Invalid(("version",), f"unsupported lockfile version {version!r}; this linker reads version 1")
    cache_dir = data.get("cache_dir", DEFAULT_CACHE_DIR)
    if not isinstance(cache_dir, str) or not cache_dir.strip():
        raise _Invalid(("cache_dir",), "`cache_dir` must be a non-empty string (a folder path)")
    link_mode = data.get("link_mode")
    if link_mode is not None and link_mode not in LINK_MODES:
        raise _Invalid(("link_mode",), f"`link_mode` must be one of {', '.join(LINK_MODES)}, not {link_mode!r}")
    models = data.get("models")
    if models is None:
        models = []
    if not isinstance(models, list):
        raise _Invalid(("models",), "`models` must be a list of entries")
    entries: list[Entry] = []
    seen: dict[tuple[str, str], int] = {}
    for i, raw in enumerate(models):
        entry = _entry(raw, i)
        if entry.key in seen:
            raise _Invalid(
                ("models", i, "id"), f"{entry.label!r} is listed twice (first as entry {seen[entry.key] + 1})"
            )
        seen[entry.key] = i
        entries.append(entry)
    policy = _policy(data.get("policy"))
    lock = Lockfile(path=path, version=1, cache_dir=cache_dir, link_mode=link_mode, entries=entries, policy=policy)
    for key in _HASH_KEYS:
        value = data.get(key, False)
        if type(value) is not bool:
            raise _Invalid((key,), f"`{key}` must be true or false, not {value!r}")
        setattr(lock, key, value)
    lock.shared_caches = _paths(data.get("shared_caches"), ("shared_caches",))
    return lock


def _paths(value: Any, where: tuple[Any, ...]) -> tuple[str, ...]:
    """A list of non-empty path strings (absent: none)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise _Invalid(where, f"`{where[-1]}` must be a list of folder paths")
    return tuple(value)


def _policy(value: Any) -> FormatPolicy:
    if value is None:
        return FormatPolicy()
    if not isinstance(value, dict):
        raise _Invalid(("policy",), "`policy` must map pickle / remote_code to allow, warn or deny")
    for key, action in value.items():
        if key not in _POLICY_KEYS:
            raise _Invalid(
                ("policy", key), f"unknown key {key!r} in `policy` (allowed: pickle, remote_code)", at_key=True
            )
        if action not in POLICY_ACTIONS:
            raise _Invalid(("policy", key), f"`policy.{key}` must be allow, warn or deny, not {action!r}")
    return FormatPolicy(**value)


def _entry(raw: Any, i: int) -> Entry:
    at = ("models", i)
    if not isinstance(raw, dict):
        raise _Invalid(at, "each entry must be a mapping with an `id` (and a `revision` once locked)")
    for key in raw:
        if key not in _ENTRY_KEYS:
            raise _Invalid(
                (*at, key), f"unknown key {key!r} in an entry (allowed: {', '.join(sorted(_ENTRY_KEYS))})", at_key=True
            )
    repo_id = raw.get("id")
    if repo_id is None:
        raise _Invalid(at, "entry has no `id`")
    if not isinstance(repo_id, str):
        raise _Invalid((*at, "id"), "`id` must be a string like 'org/name'")
    if why := check_repo_id(repo_id):
        raise _Invalid((*at, "id"), f"invalid repo id {repo_id!r}: {why}")
    repo_type = raw.get("type", "model")
    if repo_type not in REPO_TYPES:
        raise _Invalid((*at, "type"), f"`type` must be one of {', '.join(REPO_TYPES)}, not {repo_type!r}")
    ref = raw.get("ref", "main")
    if not isinstance(ref, str) or not ref or not is_safe_repo_path(ref) or SHA40.fullmatch(ref):
        raise _Invalid((*at, "ref"), "`ref` must be a branch or tag name such as main or v1.0")
    revision, wants = _revision(raw.get("revision"), (*at, "revision"), ref)
    if wants is not None and "ref" not in raw:
        ref = wants  # `revision: v1.0` alone: the view names the pin v1.0, and `lock --upgrade` follows v1.0
    elif wants is not None and wants != ref:
        raise _Invalid((*at, "revision"), f"`revision: {wants}` and `ref: {ref}` disagree: keep one of them")
    include = _globs(raw.get("include"), (*at, "include"))
    exclude = _globs(raw.get("exclude"), (*at, "exclude"))
    files = _files(raw["files"], (*at, "files")) if raw.get("files") is not None else None
    local = raw.get("local", False)
    if not isinstance(local, bool):
        raise _Invalid((*at, "local"), "`local` must be true or false")
    if local and wants is not None:
        raise _Invalid(at, f"{repo_id}: a `local: true` entry (from `linker migrate`) needs its `revision` commit")
    absent = _absent(raw.get("absent"), (*at, "absent"), files)
    return Entry(repo_id, revision, repo_type, ref, include, exclude, files, local, wants, absent)


def _revision(value: Any, where: tuple[Any, ...], ref: str) -> tuple[str, str | None]:
    """(commit, None) for a pin; ("", branch-or-tag) for intent `linker lock` resolves: no `revision` (then the
    entry's `ref`), or `revision: <branch or tag>`."""
    if value is None:
        return "", ref
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # an all-digit short sha parses as a number
    if not isinstance(value, str) or not value:
        raise _Invalid(where, "`revision` must be a 40-character commit sha, or a branch or tag for `linker lock`")
    if SHA40.fullmatch(value):
        return value, None
    if _HEXISH.fullmatch(value):
        if len(value) == 40:
            return _bad(where, f"revision {value!r} is uppercase: pin the full 40-character commit in lowercase")
        return _bad(where, f"revision {value!r} is a short sha: pin the full 40-character commit")
    if not is_safe_repo_path(value):
        return _bad(where, f"revision {value!r} is neither a commit nor a branch or tag name")
    return "", value


def _bad(where: tuple[Any, ...], message: str) -> tuple[str, str | None]:
    raise _Invalid(where, message)


def _globs(value: Any, where: tuple[Any, ...]) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise _Invalid(where, f"`{where[-1]}` must be a list of glob patterns, e.g. [{value!r}]")
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Invalid(where, f"`{where[-1]}` must be a list of glob patterns")
    return tuple(value)


def _absent(value: Any, where: tuple[Any, ...], files: dict[str, LockedFile] | None) -> tuple[str, ...]:
    """`absent`: repo paths the pin does not have (recorded by `linker record --lock`)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Invalid(where, "`absent` must be a list of file paths in the repo")
    for i, name in enumerate(value):
        if not isinstance(name, str) or not is_safe_repo_path(name):
            raise _Invalid((*where, i), f"absent file {name!r} must be a relative path inside the repo")
        if files is not None and name in files:
            raise _Invalid((*where, i), f"{name} is listed in `absent` but the entry's `files` has it")
    if len(set(value)) != len(value):
        raise _Invalid(where, "`absent` lists a file twice")
    return tuple(value)


def _files(value: Any, where: tuple[Any, ...]) -> dict[str, LockedFile]:
    if not isinstance(value, dict):
        raise _Invalid(where, "`files` must map repo paths to {size, hash}")
    out: dict[str, LockedFile] = {}
    for name, spec in value.items():
        at = (*where, name)
        if not isinstance(name, str) or not is_safe_repo_path(name):
            raise _Invalid(at, f"file path {name!r} must be a relative path inside the repo", at_key=True)
        if not isinstance(spec, dict):
            raise _Invalid(at, f"{name}: expected {{size: <bytes>, hash: <blob hash>}}")
        for key in spec:
            if key not in _FILE_KEYS:
                raise _Invalid((*at, key), f"unknown key {key!r} for a file (allowed: size, hash)", at_key=True)
        size, digest = spec.get("size"), spec.get("hash")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise _Invalid((*at, "size") if "size" in spec else at, f"{name}: `size` must be a byte count")
        if not isinstance(digest, str) or etag_kind(digest) is None:
            raise _Invalid(
                (*at, "hash") if "hash" in spec else at,
                f"{name}: `hash` must be a sha256 (64 hex, LFS) or git sha1 (40 hex) blob hash",
            )
        out[name] = LockedFile(size, digest)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Error positions


def cache_dir_position(lock: Lockfile) -> tuple[int | None, int | None]:
    """Line and column of `cache_dir` in the lockfile (None, None when it is not written there)."""
    try:
        text = lock.path.read_text(encoding="utf-8")
    except OSError:
        return None, None
    try:
        data = yaml.load(text, Loader=Loader)
    except yaml.YAMLError:
        return None, None
    if not isinstance(data, dict) or "cache_dir" not in data:
        return None, None
    return locate(text, ("cache_dir",), False, Loader)
