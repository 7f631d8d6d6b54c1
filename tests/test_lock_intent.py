"""Hand-written intent gets locked (issue 10, section 4): an entry written as just `id` (optional `ref`), or with
`revision: <branch or tag>`, is accepted by the parser as not yet locked; `linker lock` pins it on the local Hub
and keeps the user's comments and order; every command that reads pins refuses it with the hint `run linker lock`.
"""

from __future__ import annotations

import pytest

from testing.hubhelpers import as_files, lock_entries, locked_files, push

HAND_WRITTEN = """# my models
version: 1
models:
  # the encoder, whatever main is today
  - id: acme/a
  - id: acme/b  # pinned to the release
    ref: v1.0
  - id: acme/c
    revision: dev  # follow the dev branch
"""


def _push_all(hub_store) -> dict[str, str]:
    a = push(hub_store, "acme/a")
    b1 = push(hub_store, "acme/b", seed=1)
    hub_store.tag("acme/b", "v1.0", b1)
    push(hub_store, "acme/b", files={"later.txt": b"main moved on"})
    c_dev = push(hub_store, "acme/c", seed=2)
    hub_store.set_branch("acme/c", "dev", c_dev)
    push(hub_store, "acme/c", files={"later.txt": b"main moved on"})
    return {"acme/a": a, "acme/b": b1, "acme/c": c_dev}


def test_lock_pins_hand_written_intent_and_keeps_comments(project, hub_store, hub, hub_env):
    pins = _push_all(hub_store)
    project.lock_path.write_text(HAND_WRITTEN)
    r = project.linker("lock", "--check", env=hub_env)
    assert r.returncode == 1 and "out of date" in r.stdout, r.stdout + r.stderr
    r = project.linker("lock", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr
    entries = lock_entries(project)
    assert [e.id for e in entries.values()] == ["acme/a", "acme/b", "acme/c"]  # order kept
    for repo_id, sha in pins.items():
        e = entries[repo_id]
        assert e.resolved and e.revision == sha, (repo_id, e)
        assert e.files == as_files(locked_files(hub_store, repo_id, sha))
    assert entries["acme/b"].ref == "v1.0" and entries["acme/c"].ref == "dev" and entries["acme/a"].ref == "main"
    text = project.lock_path.read_text()
    for comment in ("# my models", "# the encoder, whatever main is today", "# pinned to the release",
                    "# follow the dev branch"):  # fmt: skip
        assert comment in text, text
    assert project.linker("lock", "--check", env=hub_env).returncode == 0
    r = project.linker("sync", env=hub_env)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize(
    "verb", [("sync",), ("verify",), ("status",), ("env",), ("repair",), ("sync", "--check"), ("run", "--", "true")]
)
def test_commands_refuse_unlocked_entries_with_the_hint(project, verb):
    project.lock_path.write_text(HAND_WRITTEN)
    r = project.linker(*verb)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "not locked to a commit yet" in r.stderr and "run `linker lock`" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert not project.view.exists()


def test_add_and_remove_work_beside_unlocked_entries(project, hub_store, hub, hub_env):
    push(hub_store, "acme/new")
    project.lock_path.write_text(HAND_WRITTEN)
    r = project.linker("add", "acme/new", env=hub_env)
    assert r.returncode == 0, r.stderr
    r = project.linker("remove", "acme/a")
    assert r.returncode == 0, r.stderr
    entries = lock_entries(project)
    assert list(entries) == ["acme/b", "acme/c", "acme/new"]
    assert not entries["acme/b"].resolved and entries["acme/new"].resolved
    assert "# pinned to the release" in project.lock_path.read_text()


def test_lock_check_fails_while_an_unselected_entry_is_unlocked(project, hub_store, hub, hub_env):
    _push_all(hub_store)
    project.lock_path.write_text(HAND_WRITTEN)
    assert project.linker("lock", "acme/a", env=hub_env).returncode == 0
    r = project.linker("lock", "--check", "acme/a", env=hub_env)
    assert r.returncode == 1 and "acme/b: not locked" in r.stdout, r.stdout + r.stderr


def test_the_python_api_refuses_unlocked_entries_too(project):
    import linker
    from linker.lockfile import UnresolvedError

    project.lock_path.write_text(HAND_WRITTEN)
    with pytest.raises(UnresolvedError) as info:
        linker.path("acme/a", project=project.root)
    assert "run `linker lock`" in info.value.render() and info.value.exit_code == 2
