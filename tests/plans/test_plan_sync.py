"""plan_sync / compute_plan in-process: the actions, problems and typed reasons of a sync plan."""

from __future__ import annotations

import os
from collections import Counter

from linker.problems import CONFLICT, MISMATCH, MISSING, Problem
from linker.sync import SyncResult, compute_plan, sync
from linker.sync.desired import ABSENT, NO_REVISION, OTHER_BLOB, WRONG_SIZE
from linker.sync.diff import SyncOptions, plan_sync
from linker.sync.manifest import load_manifest
from linker.sync.plan import BLOB, FETCH, GLOBAL_REF, LINK, MOVE_ASIDE, REF, TREE, Action, Plan
from testing.cachefactory import repo_folder_name

from .conftest import REPO, REV, Setup, entry


def test_a_fresh_view_gets_a_blob_and_a_link_per_file_then_the_tree_and_both_refs(setup: Setup) -> None:
    info = setup.repo()
    planned = compute_plan(setup.lock(entry(info)), setup.global_cache, offline=True)
    files = info.files[REV]
    kinds = Counter(a.kind for a in planned.plan.actions)
    assert kinds == {BLOB: len({f.etag for f in files.values()}), LINK: len(files), TREE: 1, REF: 1, GLOBAL_REF: 1}
    assert not planned.plan.problems and planned.link_mode == "symlink"
    (ep,) = planned.entry_plans
    assert ep.want is not None and ep.want.listing == "lock" and ep.record.proven and ep.record.in_sync
    assert [e.state for e in planned.plan.entries] == ["stale"]
    assert planned.manifest.view == setup.project.view


def test_once_synced_the_plan_is_empty_and_proven_without_reading_the_global_cache(setup: Setup) -> None:
    lock = setup.lock(entry(setup.repo()))
    sync(lock, setup.global_cache)
    planned = compute_plan(lock, setup.global_cache, offline=True)
    assert planned.plan.empty and not planned.plan.problems
    assert planned.entry_plans[0].want is None  # the manifest's fast path
    assert [e.state for e in planned.plan.entries] == ["linked"]


def test_an_absent_revision_offline_is_a_missing_problem_with_a_quoted_fetch_command(setup: Setup) -> None:
    lock = setup.lock({"id": "org/absent", "revision": "f" * 40, "include": ["*.json"]})
    planned = compute_plan(lock, setup.global_cache, offline=True)
    assert planned.plan.actions == []
    assert [(p.kind, p.path) for p in planned.plan.problems] == [(MISSING, "")]
    fix = f"hf download org/absent --revision {'f' * 40} --include '*.json' --cache-dir {setup.global_cache}"
    assert planned.plan.problems[0].fix == fix  # the cache sync actually used
    want = planned.entry_plans[0].want
    assert want is not None and want.missing["*"].kind == NO_REVISION


def test_an_absent_revision_online_is_one_fetch_action(setup: Setup) -> None:
    lock = setup.lock({"id": "org/absent", "revision": "f" * 40})
    opts = SyncOptions(setup.global_cache, can_fetch=True)
    planned = plan_sync(lock, load_manifest(lock.view), opts)
    assert [(a.kind, a.repo, a.target, a.reason) for a in planned.plan.actions] == [
        (FETCH, "org/absent", "f" * 40, "revision missing")
    ]
    assert planned.plan.problems == []


def test_a_file_absent_from_the_global_cache_is_named_in_the_missing_problem(setup: Setup) -> None:
    info = setup.repo()
    os.remove(info.pointer(REV, "config.json"))
    os.remove(info.blob_path(REV, "config.json"))
    planned = compute_plan(setup.lock(entry(info)), setup.global_cache, offline=True)
    assert [(p.kind, p.path) for p in planned.plan.problems] == [(MISSING, "config.json")]
    want = planned.entry_plans[0].want
    assert want is not None and {p: m.kind for p, m in want.missing.items()} == {"config.json": ABSENT}
    assert not planned.entry_plans[0].record.in_sync


def test_a_global_blob_other_than_the_lock_is_a_mismatch_and_never_fetched(setup: Setup) -> None:
    info = setup.repo()
    e = entry(info)
    e["files"]["config.json"]["hash"] = "0" * 40
    e["files"]["vocab.txt"]["size"] += 1
    lock = setup.lock(e)
    planned = plan_sync(lock, load_manifest(lock.view), SyncOptions(setup.global_cache, can_fetch=True))
    want = planned.entry_plans[0].want
    assert want is not None
    assert {p: m.kind for p, m in want.missing.items()} == {"config.json": OTHER_BLOB, "vocab.txt": WRONG_SIZE}
    assert all(m.disagrees for m in want.missing.values())
    assert sorted((p.kind, p.path) for p in planned.plan.problems) == [
        (MISMATCH, "config.json"),
        (MISMATCH, "vocab.txt"),
    ]
    assert {p.fix for p in planned.plan.problems} == {f"linker lock --upgrade {REPO}"}
    assert FETCH not in {a.kind for a in planned.plan.actions}


def test_the_listing_decides_whether_the_record_is_proven(setup: Setup) -> None:
    with_tree = setup.repo()
    without_tree = setup.repo("org/notree", trees=False)
    lock = setup.lock(entry(with_tree, files=False), entry(without_tree, files=False))
    planned = compute_plan(lock, setup.global_cache, offline=True)
    listings = {ep.entry.id: (ep.want.listing if ep.want else None, ep.record.proven) for ep in planned.entry_plans}
    assert listings == {REPO: ("tree", True), "org/notree": ("snapshot", False)}


def test_a_user_file_in_the_way_is_a_conflict_and_force_moves_it_aside_first(setup: Setup) -> None:
    lock = setup.lock(entry(setup.repo()))
    sync(lock, setup.global_cache)
    rel = f"snapshots/{REV}/config.json"
    link = setup.project.view / repo_folder_name(REPO) / rel
    link.unlink()
    link.write_text("my own edit")
    planned = compute_plan(lock, setup.global_cache, offline=True)
    assert [(p.kind, p.path) for p in planned.plan.problems] == [(CONFLICT, str(link))]
    assert planned.plan.actions == [] and not planned.entry_plans[0].record.in_sync
    forced = compute_plan(lock, setup.global_cache, offline=True, force=True)
    assert [(a.kind, a.path) for a in forced.plan.actions] == [(MOVE_ASIDE, rel), (LINK, rel)]
    assert forced.plan.problems == []


def test_the_exit_code_is_decided_by_the_result() -> None:
    change = Plan(actions=[Action(LINK, REPO, "models--org--tiny", "snapshots/x/a", "../../blobs/e")])
    problem = Plan(problems=[Problem(MISSING, REPO)])
    assert SyncResult(Plan()).exit_code() == 0 and SyncResult(Plan()).in_sync
    assert SyncResult(change).exit_code() == 0 and SyncResult(change).exit_code(check=True) == 1
    assert SyncResult(problem).exit_code() == 1
    assert SyncResult(change, hub_error="gated").exit_code() == 3


def test_a_manifest_naming_another_projects_ref_plans_its_own_and_never_removes_the_other(setup: Setup) -> None:
    """What a copied or moved view's manifest looks like: its records name the former path's ref."""
    from linker.hfcache import CacheRepo
    from linker.sync.plan import REMOVE_GLOBAL_REF

    info = setup.repo()
    lock = setup.lock(entry(info))
    sync(lock, setup.global_cache)
    manifest = load_manifest(lock.view)
    (rec,) = manifest.repos.values()
    other = str(CacheRepo(setup.global_cache, REPO).ref("linker/elsewhere-0123456789"))
    os.rename(str(rec.global_ref), other)  # the ref now belongs to "another project", and the record names it
    rec.global_ref = other
    planned = compute_plan(lock, setup.global_cache, offline=True, manifest=manifest)
    kinds = [a.kind for a in planned.plan.actions]
    assert kinds == [GLOBAL_REF] and planned.entry_plans[0].want is not None  # the fast path did not hide it
    setup.lock()  # the entry leaves the lock: still only the project's own ref may go
    planned = compute_plan(setup.lock(), setup.global_cache, offline=True, manifest=manifest)
    assert all(a.path != other for a in planned.plan.actions if a.kind == REMOVE_GLOBAL_REF)


def test_absent_files_get_no_exist_markers_never_for_a_file_the_entry_has(setup: Setup) -> None:
    from linker.sync.plan import NO_EXIST, REMOVE

    info = setup.repo()
    present = sorted(info.files[REV])[0]
    e = {**entry(info), "files": None, "absent": ["adapter_config.json", present]}  # pitfall 8.8: not `present`
    lock = setup.lock(e)
    planned = compute_plan(lock, setup.global_cache, offline=True)
    marks = [a.path for a in planned.plan.actions if a.kind == NO_EXIST]
    assert marks == [f".no_exist/{REV}/adapter_config.json"]
    sync(lock, setup.global_cache)
    folder = lock.view / repo_folder_name(REPO, "model")
    assert (folder / ".no_exist" / REV / "adapter_config.json").is_file()
    assert not (folder / ".no_exist" / REV / present).exists()
    assert compute_plan(lock, setup.global_cache, offline=True).plan.empty
    dropped = setup.lock({**e, "absent": None})  # no longer absent: the marker linker wrote goes
    planned = compute_plan(dropped, setup.global_cache, offline=True)
    assert [(a.kind, a.path) for a in planned.plan.actions] == [(REMOVE, f".no_exist/{REV}/adapter_config.json")]
