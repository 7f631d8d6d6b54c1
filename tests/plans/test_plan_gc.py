"""`linker gc`'s plan, in-process: how each ref is judged, which refs are never candidates, what prune frees."""

from __future__ import annotations

from pathlib import Path

from linker.gc import ALIVE, ORPHANED, UNKNOWN, plan_gc
from linker.hfcache import project_ref_name
from linker.projects import owner_of, record_owner
from testing.cachefactory import build_repo, fake_commit, tiny_model_files
from tests.plans.conftest import Setup

R1, R2, R3 = (fake_commit("plan-gc", i) for i in range(3))


def _project(setup: Setup, tmp_path: Path, name: str, revision: str | None) -> str:
    """A lockfile `name/project_cache.yaml` pinning org/x@revision (none: no entry), its ref and owner record."""
    root = tmp_path / name
    root.mkdir()
    lock = root / "project_cache.yaml"
    models = f"\n  - id: org/x\n    revision: {revision}" if revision else " []"
    lock.write_text(f"version: 1\nmodels:{models}\n")
    ref = project_ref_name(root / "models_cache")
    record_owner(setup.global_cache, owner_of(lock, root / "models_cache", ref))
    return ref


def _build(setup: Setup, refs: dict[str, str]) -> None:
    files = tiny_model_files("bert", seed=3)
    moved = dict(files, **{"config.json": b'{"v": 2}'})
    build_repo(setup.global_cache, "org/x", {R1: files, R2: moved, R3: files}, refs=refs)


def test_each_ref_is_judged_by_its_recorded_lockfile(setup: Setup, tmp_path: Path) -> None:
    alive = _project(setup, tmp_path, "alive", R1)
    moved_on = _project(setup, tmp_path, "moved-on", R2)  # its lockfile now pins R2; its ref still holds R1
    gone = _project(setup, tmp_path, "gone", R1)
    (tmp_path / "gone" / "project_cache.yaml").unlink()
    broken = _project(setup, tmp_path, "broken", R1)
    (tmp_path / "broken" / "project_cache.yaml").write_text("version: [\n")
    refs = {f"{n}": R1 for n in (alive, moved_on, gone, broken)}
    _build(setup, {**refs, "linker/nobody-0123456789": R1, "main": R2})
    plan = plan_gc(setup.global_cache)
    got = {r.ref: (r.state, r.why) for r in plan.refs}
    assert got == {
        alive: (ALIVE, "pinned"),
        moved_on: (ORPHANED, "not-pinned"),
        gone: (ORPHANED, "lockfile-gone"),
        broken: (UNKNOWN, "unreadable-lockfile"),
        "linker/nobody-0123456789": (UNKNOWN, "no-record"),
    }
    assert plan.forget == sorted([moved_on, gone])  # their records go with their last ref
    assert [d.revision for d in plan.detached] == [R3]  # R1 stays protected by the alive and unknown refs


def test_refs_linker_did_not_create_are_never_candidates_but_still_protect(setup: Setup, tmp_path: Path) -> None:
    gone = _project(setup, tmp_path, "gone", R1)
    (tmp_path / "gone" / "project_cache.yaml").unlink()
    _build(setup, {gone: R1, "v1.0": R2, "pr/1": R2, f"linker/migrated-{R3[:12]}": R3, "linker/hand-made": R1})
    plan = plan_gc(setup.global_cache)
    assert [(r.ref, r.state) for r in plan.refs] == [(gone, ORPHANED)]  # tags, PRs, migrate guards: not listed
    assert plan.detached == []  # R1 is still protected by a ref linker did not create (not a project ref name)


def test_prunable_bytes_count_each_blob_once(setup: Setup, tmp_path: Path) -> None:
    gone = _project(setup, tmp_path, "gone", R1)
    (tmp_path / "gone" / "project_cache.yaml").unlink()
    _build(setup, {gone: R1, "main": R2})
    plan = plan_gc(setup.global_cache)
    by_rev = {d.revision: d for d in plan.detached}
    assert set(by_rev) == {R1, R3}  # once the orphan's ref goes, R1 and R3 (same files) are both detached
    only_theirs = len(tiny_model_files("bert", seed=3)["config.json"])  # every other blob is R2's (main) too
    assert by_rev[R1].size + by_rev[R3].size == only_theirs
    assert by_rev[R3].size == 0  # the blob R1 and R3 share is counted once, with R1
