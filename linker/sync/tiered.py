"""The shared read-only tiers one sync (or status) consults: as configured, minus those it cannot read now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..lockfile import Lockfile
from ..tiers import FROM_OPTION, Tier, shared_tiers, skipped_notice
from .plan import SyncPlan


@dataclass(frozen=True)
class TierSet:
    """The tiers as configured (the view may lie in none of them), those readable now (in order), and one notice
    per tier skipped."""

    configured: list[Path] = field(default_factory=list)
    usable: list[Path] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def resolve_tiers(lock: Lockfile, global_cache: Path, shared: Sequence[Path | Tier] | None = None) -> TierSet:
    """`shared` None: the tiers LINKER_SHARED_CACHES or the lock's `shared_caches:` name; else exactly `shared`
    (the command passes those `App.shared_tiers` chose, with where each was named)."""
    if shared is None:
        tiers = shared_tiers((), lock, global_cache)
    else:
        source = {str(t.path): t.source for t in shared if isinstance(t, Tier)}
        paths = [str(t.path) if isinstance(t, Tier) else str(t) for t in shared]
        tiers = [Tier(t.path, source.get(str(t.path), FROM_OPTION)) for t in shared_tiers(paths, None, global_cache)]
    notices = [skipped_notice(t) for t in tiers if not t.readable]
    return TierSet([t.path for t in tiers], [t.path for t in tiers if t.readable], notices)


def unprotected_notice(tier: str) -> str:
    """Said once per shared tier serving the view: linker writes no ref there, so whoever prunes it decides."""
    return f"notice: pinned data in {tier} is protected by no ref of yours"


def outside_notices(planned: SyncPlan) -> list[str]:
    """One line per entry with files a tier holds only through links out of it (a storage pool, say): those are
    not linked (a tier's blobs must lie inside it), so the user learns why they count as missing."""
    out = []
    for ep in planned.entry_plans:
        unused = {p: w for p, w in ep.want.outside.items() if p not in ep.want.files} if ep.want is not None else {}
        if unused:
            path, (tier, real) = next(iter(sorted(unused.items())))
            out.append(
                f"notice: {ep.entry.label}: {len(unused)} file(s) in the shared cache {tier} resolve outside it "
                f"(e.g. {path} -> {real}); not used: a shared cache's blobs must lie inside it"
            )
    return out
