"""plan_lock in-process: the Hub's answers come from a `HubStore` (the local Hub's own data) through stand-ins for
linker.hub's two Hub calls, so the plan logic (what changes, what is unchanged, skipped or failed) is judged alone.
"""

from __future__ import annotations

from typing import Any

import pytest

import linker.hub as hub
from linker.errors import EXIT_FAILED, EXIT_HUB, EXIT_OK
from linker.hfcache import TreeFile
from linker.lockfile import Lockfile, load_lockfile
from linker.lockplan import plan_lock
from testing.hubhelpers import entry, push
from testing.hubserver import HubStore

REPO = "acme/tiny"


@pytest.fixture
def store(hub_store: HubStore, monkeypatch: pytest.MonkeyPatch) -> HubStore:
    """`hub_store` answering linker.hub's `repo_state` and `list_tree`, as the local Hub would."""

    def repo_state(repo_id: str, revision: str = "main", repo_type: str = "model") -> hub.RepoState:
        sha = hub_store.resolve(repo_id, revision, repo_type) if hub_store.repo(repo_id, repo_type) else None
        if sha is None:
            raise hub.HubFailure(hub.REVISION_NOT_FOUND, "revision not found", f"{repo_id}@{revision}").error()
        return hub.RepoState(sha, False, False)

    def list_tree(repo_id: str, revision: str, repo_type: str = "model") -> dict[str, TreeFile]:
        if hub_store.repo(repo_id, repo_type) is None:
            raise hub.HubFailure(hub.UNREACHABLE, "cannot reach the Hub", f"{repo_id}@{revision}").error()
        return {p: TreeFile(f.size, f.etag, f.lfs) for p, f in hub_store.files_at(repo_id, revision, repo_type).items()}

    monkeypatch.setattr(hub, "repo_state", repo_state)
    monkeypatch.setattr(hub, "list_tree", list_tree)
    return hub_store


def _lock(project: Any, *entries: dict[str, Any]) -> Lockfile:
    project.write_lock(list(entries))
    return load_lockfile(project.lock_path)


def test_a_lock_matching_the_hub_is_unchanged(project: Any, store: HubStore) -> None:
    sha = push(store, REPO, seed=1)
    plan = plan_lock(_lock(project, entry(store, REPO, sha)))
    assert (plan.changes, plan.unchanged, plan.errors) == ([], [REPO], {})


def test_missing_files_are_written_and_the_pin_is_kept(project: Any, store: HubStore) -> None:
    sha = push(store, REPO, seed=1)
    push(store, REPO, files={"extra.txt": b"more"})
    (change,) = plan_lock(_lock(project, entry(store, REPO, sha, files=False))).changes
    assert change.files_were_missing and not change.moved and change.new_revision == sha
    assert {p: (f.size, f.hash) for p, f in change.files.items()} == {
        p: (v["size"], v["hash"]) for p, v in entry(store, REPO, sha)["files"].items()
    }


def test_upgrade_moves_the_pin_to_the_ref_and_counts_the_file_changes(project: Any, store: HubStore) -> None:
    old = push(store, REPO, seed=1)
    new = push(store, REPO, files={"extra.txt": b"more"})
    lock = _lock(project, entry(store, REPO, old))
    assert plan_lock(lock).changes == []  # without --upgrade the pin stays
    (change,) = plan_lock(lock, upgrade=True).changes
    assert (change.old_revision, change.new_revision, change.moved) == (old, new, True)
    assert (change.added, change.removed) == (1, 0)


def test_local_entries_are_skipped_and_errors_decide_the_exit_code(project: Any, store: HubStore) -> None:
    sha = push(store, REPO, seed=1)
    local = {"id": "me/local", "revision": "a" * 40, "local": True}
    gone = {"id": "acme/gone", "revision": "b" * 40}
    plan = plan_lock(_lock(project, entry(store, REPO, sha), local, gone))
    assert list(plan.skipped) == ["me/local"] and plan.unchanged == [REPO]
    assert list(plan.errors) == ["acme/gone"] and plan.error_exit_code == EXIT_HUB
    plan = plan_lock(_lock(project, entry(store, REPO, sha)), upgrade=True, ids=(REPO,))
    assert plan.error_exit_code == EXIT_OK
    store.set_branch(REPO, "main", None)
    assert plan_lock(_lock(project, entry(store, REPO, sha)), upgrade=True).error_exit_code == EXIT_FAILED
