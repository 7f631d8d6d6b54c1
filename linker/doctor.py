"""`linker doctor`: the environment in effect, and what in it would make a project load the wrong thing.

Each check is a small function returning `Check`s; each finding that is not "ok" or "info" carries its fix.
Nothing here imports huggingface_hub or touches the network; the only writes are probe files (removed again) in
the view's folder and under the global cache's `.locks/`, which `scan_cache_dir` skips.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .datasetcache import dataset_cache_checks
from .errors import LinkerError
from .hfcache import CacheRepo, global_cache_dir, is_true, migrate_journal_dir, offline_mode
from .lockfile import Lockfile
from .plan import human_size

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"
LOW_SPACE = 1 << 30  # warn below 1 GiB free
_TRANSFORMERS_VARS = ("TRANSFORMERS_CACHE", "PYTORCH_TRANSFORMERS_CACHE", "PYTORCH_PRETRAINED_BERT_CACHE")


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | info | warn | fail
    summary: str
    fix: str = ""


@dataclass
class DoctorReport:
    global_cache: Path
    source: str
    lockfile: Path | None
    view: Path | None
    checks: list[Check] = field(default_factory=list)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if c.status in (WARN, FAIL)]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "global_cache": str(self.global_cache),
            "global_cache_source": self.source,
            "lockfile": str(self.lockfile) if self.lockfile else None,
            "view": str(self.view) if self.view else None,
            "checks": [asdict(c) for c in self.checks],
        }


def diagnose(cache_dir: str | None, load_lock: Any, cwd: Path | None = None) -> DoctorReport:
    """Run every check. `load_lock()` returns the Lockfile or raises (no lockfile: project checks are skipped)."""
    cwd = cwd or Path.cwd()
    global_cache, source = global_cache_dir(cache_dir)
    lock: Lockfile | None = None
    lock_check: Check
    try:
        lock = load_lock()
        lock_check = Check("lockfile", OK, f"{lock.path}: {len(lock.entries)} pinned, view {lock.view}")
    except LinkerError as exc:
        if "no project_cache.yaml" in exc.message:
            lock_check = Check(
                "lockfile", INFO, "no project_cache.yaml here or in a parent folder: project checks skipped"
            )
        else:
            lock_check = Check(
                "lockfile", FAIL, exc.render().replace("\n", " "), fix="fix the lockfile (see the message)"
            )
    report = DoctorReport(global_cache, source, lock.path if lock else None, lock.view if lock else None)
    checks = report.checks
    checks.append(_global_cache(global_cache, source))
    checks.append(lock_check)
    checks.extend(_offline())
    checks.extend(_token())
    checks.extend(_library_caches(global_cache, lock))
    checks.extend(_permissions(global_cache, lock))
    checks.extend(_free_space(global_cache, lock))
    checks.extend(_interrupted_migrate(global_cache))
    if lock is not None:
        checks.extend(_view_is_global(global_cache, lock))
        checks.extend(_links(global_cache, lock))
        checks.extend(_shadowing(lock, cwd))
        checks.extend(dataset_cache_checks(lock))
    return report


# ---------------------------------------------------------------------------------------------------------------
# The checks


def _global_cache(global_cache: Path, source: str) -> Check:
    chosen = {
        "--cache-dir": "the --cache-dir option",
        "HF_HUB_CACHE": "HF_HUB_CACHE",
        "HUGGINGFACE_HUB_CACHE": "HUGGINGFACE_HUB_CACHE (legacy name of HF_HUB_CACHE)",
        "HF_HOME": "HF_HOME (+ /hub)",
        "XDG_CACHE_HOME": "XDG_CACHE_HOME (+ /huggingface/hub)",
        "default": "the default (~/.cache/huggingface/hub)",
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


def _offline() -> list[Check]:
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


def _token() -> list[Check]:
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


def _library_caches(global_cache: Path, lock: Lockfile | None) -> list[Check]:
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


def _existing(path: Path) -> Path:
    while not os.path.exists(path) and path.parent != path:
        path = path.parent
    return path


def _permissions(global_cache: Path, lock: Lockfile | None) -> list[Check]:
    out = []
    g = _existing(global_cache)
    if not os.access(g, os.R_OK | os.X_OK):
        out.append(
            Check(
                "permissions",
                FAIL,
                f"{g} is not readable by this user: nothing can be loaded from it",
                fix="ask its owner for read access, or set HF_HUB_CACHE to a cache you own",
            )
        )
    elif not os.access(g, os.W_OK | os.X_OK) or (
        os.path.isdir(global_cache / ".locks") and not os.access(global_cache / ".locks", os.W_OK | os.X_OK)
    ):
        out.append(
            Check(
                "permissions",
                WARN,
                f"{global_cache} is not writable by this user: downloads fail, and "
                "linker cannot write the project refs that keep `hf cache prune` from deleting pins",
                fix="ask its owner for write access (group-writable), or set HF_HUB_CACHE to a cache you "
                "own; a read-only shared cache works for symlink views of what it already holds",
            )
        )
    else:
        out.append(Check("permissions", OK, f"{global_cache} is readable and writable"))
    if lock is not None:
        v = _existing(lock.view)
        if not os.access(v, os.W_OK | os.X_OK):
            out.append(
                Check(
                    "permissions",
                    FAIL,
                    f"{v} is not writable: sync cannot write the view {lock.view}",
                    fix=f"fix the permissions of {v}",
                )
            )
    return out


def _free_space(global_cache: Path, lock: Lockfile | None) -> list[Check]:
    out = []
    needed = 0
    if lock is not None:
        for e in lock.entries:
            if e.files is None:
                continue
            g = CacheRepo(global_cache, e.id, e.type)
            for f in e.files.values():
                if not os.path.exists(g.blob(f.hash)):
                    needed += f.size
    places = [("global cache", global_cache)] + ([("view", lock.view)] if lock else [])
    seen: set[int] = set()
    for what, path in places:
        base = _existing(path)
        try:
            usage = shutil.disk_usage(base)
            dev = os.stat(base).st_dev
        except OSError:
            continue
        if dev in seen:
            continue
        seen.add(dev)
        free = usage.free
        need = f"; the missing pins need {human_size(needed)}" if needed and what == "global cache" else ""
        if what == "global cache" and needed > free:
            out.append(
                Check(
                    "free-space",
                    FAIL,
                    f"{human_size(free)} free for the {what} ({base}){need}",
                    fix="free some space (`hf cache prune`, `hf cache rm`), or move HF_HUB_CACHE",
                )
            )
        elif free < LOW_SPACE:
            out.append(
                Check(
                    "free-space",
                    WARN,
                    f"only {human_size(free)} free for the {what} ({base}){need}",
                    fix="free some space (`hf cache prune`, `hf cache rm`)",
                )
            )
        else:
            out.append(Check("free-space", OK, f"{human_size(free)} free for the {what} ({base}){need}"))
    return out


def _interrupted_migrate(global_cache: Path) -> list[Check]:
    """A `linker migrate` journal left by a kill or a full disk: a model half in its old place, half linked."""
    if not os.path.isdir(migrate_journal_dir(global_cache)):  # os.path: never raises (a name too long)
        return []  # the common case costs one stat, not an import of the migrate package
    from .migrate.journal import pending

    found = pending(global_cache)
    if not found:
        return []
    return [
        Check(
            "migrate",
            WARN,
            f"{len(found)} interrupted `linker migrate` run(s) in {global_cache}: a model is half migrated",
            fix="linker repair (or rerun `linker migrate`): it resumes the migration",
        )
    ]


def _view_is_global(global_cache: Path, lock: Lockfile) -> list[Check]:
    g, v = os.path.realpath(global_cache), os.path.realpath(lock.view)
    if g == v or g.startswith(v + os.sep):
        return [
            Check(
                "global-cache",
                FAIL,
                f"the global cache {global_cache} is the project view {lock.view}: "
                "`linker env` was probably evaluated in this shell",
                fix="unset HF_HUB_CACHE (or pass --cache-dir) before running linker",
            )
        ]
    if v.startswith(g + os.sep):
        return [
            Check(
                "global-cache",
                FAIL,
                f"the view {lock.view} is inside the global cache {global_cache}: "
                "huggingface_hub would take it for a repo folder",
                fix="set cache_dir in the lockfile to a folder outside the global cache",
            )
        ]
    return []


def _links(global_cache: Path, lock: Lockfile) -> list[Check]:
    from .sync.linkmode import requested_mode, same_filesystem, symlinks_work

    try:
        mode = requested_mode(None, lock.link_mode)
    except LinkerError as exc:
        return [Check("links", FAIL, exc.message, fix="use symlink, hardlink, copy or auto")]
    view_dir = _existing(lock.view)
    sym = symlinks_work(view_dir)
    same_fs = same_filesystem(lock.view, global_cache)
    hard = same_fs and _hardlinks_work(global_cache, view_dir)
    fs = "the same filesystem" if same_fs else "different filesystems"
    summary = (
        f"view and global cache on {fs}; symlinks {'work' if sym else 'do NOT work'}, hardlinks "
        f"{'work' if hard else 'do NOT work'}; link mode {mode}"
    )
    out = []
    if mode == "symlink" and not sym:
        out.append(
            Check(
                "links", FAIL, summary, fix="set `link_mode: auto` (or copy) in the lockfile, or LINKER_LINK_MODE=auto"
            )
        )
    elif mode == "hardlink" and not hard:
        out.append(Check("links", FAIL, summary, fix="use `link_mode: copy` (or auto): hardlinks need one filesystem"))
    else:
        out.append(Check("links", OK, summary))
    if is_true(os.environ.get("HF_HUB_DISABLE_SYMLINKS")):
        out.append(
            Check(
                "links",
                INFO,
                "HF_HUB_DISABLE_SYMLINKS is set: huggingface_hub stores real files in "
                "snapshots (linker still links them)",
            )
        )
    return out


def _hardlinks_work(global_cache: Path, view_dir: Path) -> bool:
    """Try a real hardlink from the global cache into the view's folder (probe files are removed again)."""
    locks = global_cache / ".locks"
    if not os.path.isdir(locks) or not os.access(locks, os.W_OK) or not os.access(view_dir, os.W_OK):
        return True  # cannot probe without writing elsewhere: same filesystem is the best we know
    tag = uuid.uuid4().hex[:8]
    src, dst = locks / f".linker-doctor-{tag}", view_dir / f".linker-doctor-{tag}"
    try:
        src.write_bytes(b"")
        os.link(src, dst)
        return True
    except OSError:
        return False
    finally:
        for p in (dst, src):
            with contextlib.suppress(OSError):
                os.unlink(p)


def _shadowing(lock: Lockfile, cwd: Path) -> list[Check]:
    out = []
    bases = {lock.root.resolve(), cwd.resolve()}
    for entry in lock.entries:
        if entry.type != "model":
            continue
        for base in sorted(bases):
            folder = base / entry.id
            if os.path.isdir(folder):
                out.append(
                    Check(
                        "shadowing",
                        FAIL,
                        f"{folder} is named like the pinned id {entry.id}: transformers "
                        "and sentence-transformers run from there load that folder by path, bypassing the "
                        "cache and the pin",
                        fix=f"rename or move {folder} (`linker migrate {folder} --id "
                        f"{entry.id}` moves its data into the global cache)",
                    )
                )
    if not out:
        out.append(Check("shadowing", OK, "no folder named like a pinned id in the project or the current folder"))
    return out
