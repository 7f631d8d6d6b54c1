"""`linker remove`: the entry leaves the lock (comments and the rest kept) and the next sync drops its view."""

from __future__ import annotations

from testing.hubhelpers import push


def test_remove_keeps_the_rest_and_sync_drops_the_view(project, hub_store, hub, hub_env):
    a, b = push(hub_store, "acme/a"), push(hub_store, "acme/b", seed=2)
    text = (
        "# team models\nversion: 1\nmodels:\n"
        f"  # first\n  - id: acme/a\n    revision: {a}  # keep me\n"
        f"  # second, to be removed\n  - id: acme/b\n    revision: {b}\n"
    )
    project.lock_path.write_text(text)
    assert project.linker("sync", env=hub_env).returncode == 0
    assert (project.view / "models--acme--b").exists()
    r = project.linker("remove", "acme/b")
    assert r.returncode == 0, r.stderr
    assert project.lock_path.read_text() == (
        f"# team models\nversion: 1\nmodels:\n  # first\n  - id: acme/a\n    revision: {a}  # keep me\n"
    )
    hub.clear_log()
    assert project.linker("sync", env=hub_env).returncode == 0
    assert not (project.view / "models--acme--b").exists() and (project.view / "models--acme--a").exists()
    assert hub.requests == []
    missing = project.linker("remove", "acme/b")
    assert missing.returncode == 1 and "not in" in missing.stderr
