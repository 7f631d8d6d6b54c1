"""Apply a migrate plan. Every operation reads the disk first and is idempotent, so running a plan again (which is
what `recover` does with a journal) finishes whatever an interrupted run left.

The bytes of a source file are always reachable: within a filesystem a blob is placed by one `rename` (no copy),
under huggingface_hub's blob lock and only where no blob exists. Across filesystems (EXDEV), with `--copy`, or
for a shared-store payload, the bytes are copied to a temp file next to the blob, fsynced, hashed again, and only
then renamed into place; a source file is removed only after its blob is in place, fsynced and verified.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..filelocks import blob_lock
from ..fsutil import atomic_copy, atomic_symlink, atomic_write_text, fsync_dir, is_cross_device, tmp_path
from ..hfcache import blob_matches, ensure_cachedir_tag, read_ref, write_ref
from ..problems import Problem
from .plandata import COPY, HARDLINK, MOVE, OP_DEDUPE, BlobOp, Item, MigratePlan

FAILED = "failed"


@dataclass
class Outcome:
    """What a run did: bytes renamed / copied / linked, problems met on the way."""

    renamed: int = 0
    copied: int = 0
    linked: int = 0
    deduped: int = 0
    problems: list[Problem] = field(default_factory=list)
    failed_items: set[str] = field(default_factory=set)
    retry: set[str] = field(default_factory=set)  # failed items a rerun can finish (full disk...): journal kept

    @property
    def written(self) -> int:
        return self.copied


def _lstat(p: Path) -> os.stat_result | None:
    try:
        return os.lstat(p)
    except OSError:
        return None


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _same_file(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _unchanged(st: os.stat_result, ident: list[int]) -> bool:
    return not ident or [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns] == list(ident)


class Executor:
    def __init__(self, plan: MigratePlan, *, on_bytes: Callable[[int], None] | None = None) -> None:
        self.plan = plan
        self.out = Outcome()
        self.on_bytes = on_bytes
        self.failed_blobs: set[str] = set()
        self.dirty: set[Path] = set()  # directories whose entries changed, fsynced once per item

    # -------------------------------------------------------------------------------------------------------
    def run(self) -> Outcome:
        gc = Path(self.plan.global_cache)
        gc.mkdir(parents=True, exist_ok=True)
        ensure_cachedir_tag(gc)
        for item in self.plan.items:
            self.run_item(item)
        return self.out

    def run_item(self, item: Item) -> None:
        self.failed_blobs = set()
        try:
            self.guard(item)
        except OSError as exc:  # a full disk before the first byte moved: nothing is touched
            self.fail(item, item.source, f"not started ({exc.strerror or exc}); left in place")
            self.out.failed_items.add(item.label)
            self.out.retry.add(item.label)
            return
        ok = True
        for op in item.blobs:
            if not self.blob(item, op):
                ok = False
                self.failed_blobs.add(os.path.normpath(op.dst))
        try:
            ok = self.links_and_refs(item, ok)
        except OSError as exc:  # links of a partial snapshot: the guard ref keeps it, the journal resumes it
            ok = self.fail(item, getattr(exc, "filename", None) or item.source, f"not linked ({exc.strerror})")
            self.out.retry.add(item.label)
        if not ok:
            self.out.failed_items.add(item.label)
        for root in item.prune:
            self.prune(Path(root), Path(item.prune_stop) if item.prune_stop else None)

    def guard(self, item: Item) -> None:
        """Before the first byte moves: the snapshot folder, then a ref naming it (durable)."""
        for g in item.guards:
            Path(g.snapshot).mkdir(parents=True, exist_ok=True)
            write_ref(Path(g.ref), g.revision)
            fsync_dir(Path(g.ref).parent)

    def links_and_refs(self, item: Item, ok: bool) -> bool:
        for link in item.links:
            ok = self.link(item, link.path, link.target, in_old_place=False) and ok
        for link in item.relinks:
            ok = self.link(item, link.path, link.target, in_old_place=True) and ok
        for marker in item.unmark:  # "not in this commit" markers for files the snapshot now has
            st = _lstat(Path(marker))
            if st is not None and stat.S_ISREG(st.st_mode) and st.st_size == 0:
                os.unlink(marker)
        for d in self.dirty:
            fsync_dir(d)
        self.dirty.clear()
        if not ok:
            return False
        # refs and trees only describe a snapshot that is complete
        for ref in item.refs:
            write_ref(Path(ref.path), ref.revision)
        for tree in item.trees:
            if not os.path.exists(tree.path):
                atomic_write_text(Path(tree.path), tree.content)
        for path in item.cleanup:
            st = _lstat(Path(path))
            if st is not None and stat.S_ISREG(st.st_mode):
                os.unlink(path)
        kept = {os.path.normpath(r.path) for r in item.refs}
        for g in item.guards:  # complete: the guard goes when another ref protects the revision
            if os.path.normpath(g.ref) not in kept and _other_ref_names(Path(g.refs), Path(g.ref), g.revision):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(g.ref)
        return True

    def fail(self, item: Item, path: str, detail: str, fix: str = "") -> bool:
        self.out.problems.append(Problem(FAILED, item.label, path, detail, fix))
        return False

    # -------------------------------------------------------------------------------------------------------
    def blob(self, item: Item, op: BlobOp) -> bool:
        src, dst = Path(op.src), Path(op.dst)
        st = _lstat(src)
        src_here = st is not None and stat.S_ISREG(st.st_mode)
        if src_here and os.path.realpath(src) == os.path.realpath(dst):
            return self.finish(op)
        dst_st = _lstat(dst)
        if dst_st is not None:
            return self.settle(item, op, st if src_here else None)
        if not src_here:
            return self.fail(item, op.src, f"neither the source nor the blob {op.etag[:12]} exists any more")
        if op.op == OP_DEDUPE:  # the blob we counted on is gone: create it after all
            op.op = MOVE if op.remove_src else COPY
        assert st is not None
        if not _unchanged(st, op.ident) and not blob_matches(src, op.etag):
            return self.fail(item, op.src, "changed since it was hashed; left in place", fix="rerun linker migrate")
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            with blob_lock(Path(op.lock)):
                if os.path.lexists(dst):  # a concurrent download finished first
                    return self.settle(item, op, st)
                if op.op == MOVE:
                    placed = self.move(src, dst, op)
                elif op.op == HARDLINK:
                    placed = self.hardlink(src, dst, op)
                else:
                    placed = self.copy(src, dst, op)
        except OSError as exc:  # disk full, read-only folder...: the source is intact
            self.out.retry.add(item.label)
            return self.fail(item, op.src, f"not placed ({exc.strerror or exc}); source left in place")
        if not placed:
            self.out.retry.add(item.label)
            return self.fail(item, op.src, f"copy did not verify as {op.etag[:12]}; source left in place")
        if op.remove_src and os.path.lexists(src) and stat.S_ISREG(os.lstat(src).st_mode):
            fsync_dir(dst.parent)  # the verified copy's name is durable before the source goes
            if not self.remove_source(src, dst):  # the blob is in place all the same
                self.fail(item, op.src, "copied, but the source could not be removed; it stays")
        self.dirty.update((dst.parent, src.parent))
        return self.finish(op)

    def settle(self, item: Item, op: BlobOp, src_st: os.stat_result | None) -> bool:
        """The blob exists: drop the source copy if asked, once the blob is verified to hold the same bytes."""
        src, dst = Path(op.src), Path(op.dst)
        if src_st is not None and op.remove_src:
            try:
                same = _same_file(src_st, os.stat(dst))
            except OSError:
                same = False
            if not same and not blob_matches(dst, op.etag):
                return self.fail(
                    item, op.dst, "the global blob does not match its name; the source was kept", fix="linker repair"
                )
            if not self.remove_source(src, dst):
                self.fail(item, op.src, "already in the global cache, but the source could not be removed")
                return True
            self.out.deduped += op.size
        return self.finish(op)

    def remove_source(self, src: Path, dst: Path) -> bool:
        with contextlib.suppress(OSError):
            _fsync_file(dst)
        try:
            os.unlink(src)
        except OSError:
            return False
        self.dirty.add(src.parent)
        return True

    def finish(self, op: BlobOp) -> bool:
        """After the bytes are safe in the global cache: the old place's link, then sidecars and alias links."""
        dst = Path(op.dst)
        if op.leave_link and os.path.exists(dst):
            p = Path(op.leave_link)
            st = _lstat(p)
            target = os.path.realpath(dst)
            if st is None or (stat.S_ISLNK(st.st_mode) and os.readlink(p) != target):
                atomic_symlink(target, p)
        src_gone = _lstat(Path(op.src)) is None or stat.S_ISLNK(os.lstat(op.src).st_mode)
        if src_gone:
            for side in op.sidecars:
                st = _lstat(Path(side))
                if st is not None and stat.S_ISREG(st.st_mode):
                    os.unlink(side)
            for alias in op.aliases:
                st = _lstat(Path(alias))
                if st is not None and stat.S_ISLNK(st.st_mode):
                    os.unlink(alias)
        return True

    # -------------------------------------------------------------------------------------------------------
    def move(self, src: Path, dst: Path, op: BlobOp) -> bool:
        try:
            os.rename(src, dst)  # the same inode under its blob name: no byte is written
        except OSError as exc:
            if not is_cross_device(exc) and exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise
            return self.copy(src, dst, op)  # another filesystem (or a read-only source): copy and verify
        self.out.renamed += op.size
        if self.on_bytes:
            self.on_bytes(op.size)
        return True

    def hardlink(self, src: Path, dst: Path, op: BlobOp) -> bool:
        tmp = tmp_path(dst)
        try:
            os.link(src, tmp)
        except OSError:
            return self.copy(src, dst, op)  # another filesystem, or no hardlinks here
        try:
            os.replace(tmp, dst)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.out.linked += op.size
        if self.on_bytes:
            self.on_bytes(op.size)
        return True

    def copy(self, src: Path, dst: Path, op: BlobOp) -> bool:
        """Copy to a temp file beside the blob, fsync, hash the copy, then rename it into place."""
        if not atomic_copy(src, dst, fsync=True, check=lambda tmp: blob_matches(tmp, op.etag)):
            return False
        self.out.copied += op.size
        if self.on_bytes:
            self.on_bytes(op.size)
        return True

    # -------------------------------------------------------------------------------------------------------
    def link(self, item: Item, path: str, target: str, *, in_old_place: bool) -> bool:
        p = Path(path)
        blob = os.path.normpath(os.path.join(os.path.dirname(path), target))
        if blob in self.failed_blobs:
            return False  # already reported
        if not os.path.exists(blob):
            return self.fail(item, path, f"its blob {blob.rsplit('/', 1)[-1][:12]} is not in place; link not made")
        st = _lstat(p)
        if st is not None and stat.S_ISLNK(st.st_mode) and os.readlink(p) == target:
            return True
        if st is not None and not stat.S_ISLNK(st.st_mode):
            if in_old_place and stat.S_ISREG(st.st_mode):
                return self.fail(item, path, "the old snapshot file is still there (not moved); left as is")
            return self.fail(item, path, "something else is in the way; left as is")
        atomic_symlink(target, p)
        return True

    def prune(self, root: Path, stop: Path | None) -> None:
        """Remove the empty directories a move left in a source folder, and its emptied parents up to `stop`."""
        if not root.is_dir() or root.is_symlink():
            return
        for dirpath, dirnames, _files in os.walk(root, topdown=False):
            for d in dirnames:
                full = Path(dirpath) / d
                if not full.is_symlink():
                    with contextlib.suppress(OSError):
                        os.rmdir(full)
        cur = root
        while True:
            try:
                os.rmdir(cur)
            except OSError:
                return
            cur = cur.parent
            if stop is None or cur == stop or stop not in cur.parents:
                return


def _other_ref_names(refs: Path, guard: Path, revision: str) -> bool:
    """Whether a ref of the repo other than the guard names `revision`."""
    for dirpath, _dirs, names in os.walk(refs):
        for name in names:
            p = Path(dirpath) / name
            if p != guard and read_ref(p) == revision:
                return True
    return False


def execute(plan: MigratePlan, *, on_bytes: Callable[[int], None] | None = None) -> Outcome:
    return Executor(plan, on_bytes=on_bytes).run()
