"""Apply a `GcPlan`: remove the orphaned project refs (each re-checked first), forget the owner records left with
no ref, and with `prune` delete the detached revisions shown, through huggingface_hub's own deletion."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fsutil import prune_empty_dirs
from ..hfcache import REFS, read_small
from ..projects import forget_owner
from .plan import GcPlan, LinkerRef


@dataclass
class GcResult:
    plan: GcPlan
    dry_run: bool
    removed: list[LinkerRef] = field(default_factory=list)
    skipped: list[tuple[LinkerRef, str]] = field(default_factory=list)  # changed since it was judged
    pruned: list[str] = field(default_factory=list)  # revisions deleted by --prune
    pruned_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            **self.plan.to_json(),
            "dry_run": self.dry_run,
            "removed": [r.path for r in self.removed],
            "skipped": [{"path": r.path, "why": why} for r, why in self.skipped],
            "pruned": self.pruned,
            "pruned_bytes": self.pruned_bytes,
        }


def remove_orphans(plan: GcPlan) -> GcResult:
    """Remove each orphaned ref that still holds the revision it was judged for (a sync that rewrote it since
    has made it its own again), then forget the owner records no ref uses any more."""
    result = GcResult(plan, dry_run=False)
    for ref in plan.orphaned:
        if read_small(ref.path) != ref.revision:
            result.skipped.append((ref, "changed since it was judged"))
            continue
        with contextlib.suppress(FileNotFoundError):
            os.unlink(ref.path)
        path = Path(ref.path)
        refs_dir = next(p for p in path.parents if p.name == REFS)
        prune_empty_dirs(path.parent, refs_dir)
        result.removed.append(ref)
    removed = {(r.folder, r.ref) for r in result.removed}
    for name in plan.forget:
        if all((r.folder, r.ref) in removed for r in plan.refs if r.ref == name):
            forget_owner(plan.global_cache, name)
    return result


def prune_detached(result: GcResult) -> None:
    """Delete the detached revisions the plan showed (and that huggingface_hub also finds unreferenced) with
    `scan_cache_dir(...).delete_revisions(...).execute()`, as `hf cache prune` does."""
    from huggingface_hub import scan_cache_dir  # heavy: only `linker gc --prune` pays for it

    shown = {(d.folder, d.revision) for d in result.plan.detached}
    info = scan_cache_dir(result.plan.global_cache)
    hashes = [
        rev.commit_hash
        for repo in info.repos
        for rev in repo.revisions
        if not rev.refs and (repo.repo_path.name, rev.commit_hash) in shown
    ]
    if not hashes:
        return
    strategy = info.delete_revisions(*sorted(hashes))
    strategy.execute()
    result.pruned = sorted(hashes)
    result.pruned_bytes = strategy.expected_freed_size
