"""Helpers for the `linker sync` tests: a global cache where `main` moved on from the pinned revision, and the
lock entry that pins it."""

from __future__ import annotations

from pathlib import Path

from testing.cachefactory import RepoInfo, build_repo, fake_commit, tiny_model_files

OLD, NEW = fake_commit("tiny", 1), fake_commit("tiny", 2)


def two_revisions(g: Path, repo_id: str = "org/tiny", kind: str = "st", **kw) -> tuple[RepoInfo, dict, dict]:
    """A global cache where `main` has moved on from OLD to NEW (OLD is detached, as after a pin by sha)."""
    old, new = tiny_model_files(kind, seed=1), tiny_model_files(kind, seed=2)
    new["config.json"] = old["config.json"].replace(b"}", b', "v": 2}', 1)
    info = build_repo(g, repo_id, {OLD: old, NEW: new}, refs={"main": NEW}, **kw)
    return info, old, new


def lock_entry(repo_id: str = "org/tiny", revision: str = OLD, **kw) -> dict:
    return {"id": repo_id, "revision": revision, **kw}
