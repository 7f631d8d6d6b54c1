"""`linker gc`: the project refs linker wrote in a global cache, which of them no lockfile needs any more, and what
`hf cache prune` would then free. Plan (plan.py), then apply (apply.py)."""

from __future__ import annotations

from .apply import GcResult, prune_detached, remove_orphans
from .plan import ALIVE, ORPHANED, UNKNOWN, Detached, GcPlan, LinkerRef, plan_gc

__all__ = [
    "ALIVE",
    "ORPHANED",
    "UNKNOWN",
    "Detached",
    "GcPlan",
    "GcResult",
    "LinkerRef",
    "plan_gc",
    "prune_detached",
    "remove_orphans",
]
