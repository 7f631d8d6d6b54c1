"""Where the shared read-only tiers come from (linker/tiers.py): option, else environment, else lockfile."""

from __future__ import annotations

from pathlib import Path

import pytest

from linker.errors import LockfileError
from linker.lockfile import Lockfile, parse_lockfile
from linker.tiers import ENV, FROM_LOCK, FROM_OPTION, shared_tiers


def _lock(tmp_path: Path, shared: str) -> Lockfile:
    return parse_lockfile(f"version: 1\nshared_caches: {shared}\nmodels: []\n", tmp_path / "project_cache.yaml")


def test_option_beats_environment_beats_lockfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    lock = _lock(tmp_path, "[from-lock]")
    monkeypatch.setenv(ENV, "/env/a:/env/b")
    assert [(str(t.path), t.source) for t in shared_tiers(("/opt/x",), lock)] == [("/opt/x", FROM_OPTION)]
    assert [str(t.path) for t in shared_tiers((), lock)] == ["/env/a", "/env/b"]
    monkeypatch.setenv(ENV, "")  # set but empty: no tiers, the lockfile's are not used
    assert shared_tiers((), lock) == []
    monkeypatch.delenv(ENV)
    tiers = shared_tiers((), lock)
    assert [(t.path, t.source) for t in tiers] == [(tmp_path / "from-lock", FROM_LOCK)]  # relative to the lockfile


def test_duplicates_and_the_writable_cache_are_not_tiers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    (tmp_path / "shared").mkdir()
    (tmp_path / "alias").symlink_to(tmp_path / "shared")
    writable = tmp_path / "hub"
    writable.mkdir()
    names = (str(tmp_path / "shared"), str(tmp_path / "alias"), str(writable), "~/elsewhere")
    tiers = shared_tiers(names, None, writable)
    assert [t.path for t in tiers] == [tmp_path / "shared", Path.home() / "elsewhere"]
    assert [t.readable for t in tiers] == [True, False]


def test_lockfile_refuses_a_string(tmp_path: Path) -> None:
    with pytest.raises(LockfileError, match="shared_caches"):
        _lock(tmp_path, "/one/path")
