"""plan_repair in-process: the fixes planned for what verify finds, and what is left unfixable."""

from __future__ import annotations

import os

from linker.problems import CORRUPT, DANGLING, LINK_FORM, MISSING, STALE_NO_EXIST
from linker.repair.fixes import FETCH, GLOBAL_LINK, QUARANTINE, RELINK, REMOVE_MARKER, RESTORE
from linker.repair.plan import plan_repair
from linker.sync import sync
from testing.cachefactory import add_no_exist, build_repo, make_absolute_links, tiny_model_files
from testing.repairkit import flip_byte

from .conftest import REPO, REV, Setup, entry


def _synced(setup: Setup, **build: object):  # type: ignore[no-untyped-def]
    info = setup.repo(**build)
    lock = setup.lock(entry(info))
    sync(lock, setup.global_cache)
    return info, lock


def test_a_sound_view_needs_no_fix(setup: Setup) -> None:
    _, lock = _synced(setup)
    plan = plan_repair(lock, setup.global_cache, online=False)
    assert plan.empty and plan.problems == [] and plan.before is not None and plan.before.ok


def test_a_deleted_blob_offline_is_unfixable_with_the_download_of_that_file(setup: Setup) -> None:
    info, lock = _synced(setup)
    os.remove(info.blob_path(REV, "modules.json"))
    plan = plan_repair(lock, setup.global_cache, online=False)
    assert [f.kind for f in plan.ordered()] == [RELINK]
    (problem,) = plan.problems
    assert (problem.kind, problem.path) == (MISSING, "modules.json")
    assert problem.fix == f"hf download {REPO} --revision {REV} --include modules.json (online), then linker repair"


def test_a_deleted_blob_online_is_fetched_by_path_then_relinked(setup: Setup) -> None:
    info, lock = _synced(setup)
    os.remove(info.blob_path(REV, "modules.json"))
    plan = plan_repair(lock, setup.global_cache, online=True)
    fixes = plan.ordered()
    assert [(f.kind, f.paths) for f in fixes] == [(FETCH, ("modules.json",)), (RELINK, ())]
    assert fixes[0].finding == MISSING and fixes[1].finding == DANGLING and plan.problems == []


def test_a_deleted_blob_held_by_another_repo_is_restored_from_it(setup: Setup) -> None:
    info, lock = _synced(setup)
    build_repo(setup.global_cache, "org/twin", {"1" * 40: tiny_model_files("st", seed=1)}, refs={})
    os.remove(info.blob_path(REV, "modules.json"))
    plan = plan_repair(lock, setup.global_cache, online=False)
    restore = [f for f in plan.ordered() if f.kind == RESTORE]
    assert [(f.path, f.etag) for f in restore] == [
        (str(info.blob_path(REV, "modules.json")), info.etag(REV, "modules.json"))
    ]
    assert "models--org--twin" in restore[0].target and plan.problems == []


def test_a_corrupt_blob_is_quarantined_before_the_relink(setup: Setup) -> None:
    info, lock = _synced(setup)
    flip_byte(info.blob_path(REV, "model.safetensors"), 100)
    plan = plan_repair(lock, setup.global_cache, online=True)
    kinds = [f.kind for f in plan.ordered()]
    assert kinds[0] == QUARANTINE and kinds[-1] == RELINK and FETCH in kinds
    assert plan.ordered()[0].finding == CORRUPT and plan.ordered()[0].etag == info.etag(REV, "model.safetensors")


def test_markers_and_absolute_links_each_get_their_fix(setup: Setup) -> None:
    info, lock = _synced(setup)
    add_no_exist(info.repo_folder, REV, "config.json")
    make_absolute_links(info.repo_folder, REV)
    plan = plan_repair(lock, setup.global_cache, online=False)
    by_kind = {f.kind: f for f in plan.ordered()}
    assert by_kind[REMOVE_MARKER].finding == STALE_NO_EXIST
    links = [f for f in plan.ordered() if f.kind == GLOBAL_LINK]
    assert len(links) == len(info.files[REV]) and {f.finding for f in links} == {LINK_FORM}
    assert {f.reason for f in links} == {"hub 0.13 absolute link"}
    assert not hasattr(links[0], "size")  # a Fix carries only what a fix uses, not sync's Action fields
