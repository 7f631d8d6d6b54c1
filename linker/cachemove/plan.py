"""The plan of a cache move, as plain data: every directory, file and link of the old cache (relative paths), the
link targets that would dangle after the move (rewritten), and whether it is a rename or a copy."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError, LinkerError, NotFoundError
from ..hfcache import BLOBS, LOCKS, etag_kind, move_journal_path, parse_repo_folder
from ..render.text import human_size

RENAME, COPY = "rename", "copy"
DIR, FILE, LINK, LOCK = "dir", "file", "link", "lock"  # LOCK: an empty lock file, recreated on demand, not copied
PLAN_VERSION = 1


class NotEnoughSpace(LinkerError):
    """The copy does not fit on NEW_PATH's filesystem (exit 1: free space and rerun)."""


@dataclass(frozen=True)
class Item:
    rel: str  # posix path relative to the cache root
    kind: str  # DIR | FILE | LINK | LOCK
    size: int = 0
    etag: str = ""  # FILE: the blob name its content must hash to (a repo blob), else "" (compared to the source)
    target: str = ""  # LINK: the target to write in the new cache
    fix: bool = False  # LINK: the old target would dangle after the move (absolute into the old cache, or relative
    # out of it), so the new one differs


@dataclass
class MovePlan:
    old: str
    new: str
    mode: str  # RENAME | COPY
    items: list[Item] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # neither file, link nor folder (a socket, a FIFO): left
    copied: bool = False  # COPY: every item is in place and verified, so the old copy may be deleted

    @property
    def bytes(self) -> int:
        return sum(i.size for i in self.items if i.kind == FILE)

    @property
    def fixes(self) -> list[Item]:
        return [i for i in self.items if i.kind == LINK and i.fix]

    def to_json(self) -> dict[str, object]:
        return {
            "version": PLAN_VERSION,
            "old": self.old,
            "new": self.new,
            "mode": self.mode,
            "copied": self.copied,
            "skipped": self.skipped,
            "items": [asdict(i) for i in self.items],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> MovePlan:
        if data.get("version") != PLAN_VERSION:
            raise ValueError("unknown cache-move journal version")
        items = [Item(**i) for i in data["items"]]  # type: ignore[attr-defined]
        skipped = [str(s) for s in data["skipped"]]  # type: ignore[attr-defined]
        return cls(str(data["old"]), str(data["new"]), str(data["mode"]), items, skipped, bool(data["copied"]))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def check_not_in_tiers(new: Path, tiers: Sequence[Path]) -> None:
    """Refuse (exit 2) a NEW_PATH inside a shared read-only tier: a tier is never written."""
    n = os.path.realpath(new)
    for t in tiers:
        if _inside(n, os.path.realpath(t)) or _inside(str(new.absolute()), str(t.absolute())):
            raise ConfigError(
                f"{new} is inside the shared cache {t}: linker never writes a shared read-only tier",
                hint="move the writable cache to a folder of your own",
            )


def check_target(old: Path, new: Path) -> None:
    """Refuse (exit 2) a NEW_PATH that is the old cache or inside it, that is not a folder, or that is a non-empty
    folder other than a move of this cache in progress."""
    o, n = os.path.realpath(old), os.path.realpath(new)
    if _inside(n, o) or _inside(str(new.absolute()), str(old.absolute())):
        raise ConfigError(f"{new} is inside the global cache {old}", hint="choose a folder outside it")
    if os.path.lexists(new) and not new.is_dir():
        raise ConfigError(f"{new} exists and is not a folder")
    if new.is_dir() and any(new.iterdir()) and not move_journal_path(new).is_file():
        raise ConfigError(
            f"{new} is not empty, and no move of a cache into it is in progress; refusing to mix caches",
            hint="choose a new or empty folder",
        )


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def plan_move(old: Path, new: Path) -> MovePlan:
    """Walk the old cache (never following a link) into a plan; refuse what cannot be moved safely."""
    if old.is_symlink():
        raise ConfigError(
            f"the global cache {old} is a symlink to {os.path.realpath(old)}",
            hint=f"move the folder it points to: linker --cache-dir {os.path.realpath(old)} cache move NEW_PATH",
        )
    if not old.is_dir():
        raise NotFoundError(f"there is no global cache at {old}: nothing to move")
    check_target(old, new)
    same_fs = os.stat(old).st_dev == os.stat(_existing(new.parent)).st_dev
    plan = MovePlan(str(old), str(new), RENAME if same_fs else COPY)
    journal = move_journal_path(old).relative_to(old).as_posix()
    _walk(old, old, plan, journal)
    if plan.mode == COPY:
        check_space(plan)
    return plan


def _walk(root: Path, d: Path, plan: MovePlan, journal: str) -> None:
    with os.scandir(d) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        rel = Path(e.path).relative_to(root).as_posix()
        if rel == journal:
            continue
        if e.is_symlink():
            plan.items.append(_link(root, Path(e.path), rel, Path(plan.new)))
        elif e.is_dir(follow_symlinks=False):
            plan.items.append(Item(rel, DIR))
            _walk(root, Path(e.path), plan, journal)
        elif e.is_file(follow_symlinks=False):
            size = e.stat(follow_symlinks=False).st_size
            parts = rel.split("/")
            if parts[0] == LOCKS and e.name.endswith(".lock") and size == 0:
                plan.items.append(Item(rel, LOCK))
                continue
            blob = len(parts) == 3 and parts[1] == BLOBS and parse_repo_folder(parts[0]) and etag_kind(parts[2])
            plan.items.append(Item(rel, FILE, size, etag=parts[2] if blob else ""))
        else:
            plan.skipped.append(rel)


def _link(root: Path, path: Path, rel: str, new: Path) -> Item:
    """A link, with the target it needs in the new cache: hub's relative links inside the cache stay as they are;
    an absolute link into the old cache becomes relative; a relative link out of the cache becomes absolute."""
    target = os.readlink(path)
    o = str(root)
    if os.path.isabs(target):
        real_o = os.path.realpath(root)
        base = o if _inside(target, o) else real_o if _inside(target, real_o) else None
        if base is None:
            return Item(rel, LINK, target=target)
        inside = os.path.relpath(target, base)
        moved = os.path.relpath(new / inside, (new / rel).parent)
        return Item(rel, LINK, target=moved, fix=True)
    resolved = os.path.normpath(os.path.join(path.parent, target))
    if _inside(resolved, o):
        return Item(rel, LINK, target=target)
    return Item(rel, LINK, target=resolved, fix=True)


def check_space(plan: MovePlan) -> None:
    """Refuse a copy that would not fit (exit 1), before anything is written."""
    where = _existing(Path(plan.new))
    block = os.statvfs(where).f_frsize or 4096
    # whole blocks per file, one per folder and link: a cache of many small files needs more than its byte count
    needed = sum(-(-i.size // block) * block if i.kind == FILE else block for i in plan.items)
    free = shutil.disk_usage(where).free
    if needed > free:
        raise NotEnoughSpace(
            f"not enough free space to move the cache: copying {plan.old} into {plan.new} needs {needed} bytes "
            f"({human_size(needed)}), {free} bytes ({human_size(free)}) are free there; nothing was moved",
            hint="free space, or choose a folder on a disk with room",
        )
