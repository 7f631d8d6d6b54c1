"""The lockfile under stress: concurrent writers, duplicate keys, and the wrong types that YAML lets through."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from linker.errors import LockfileError
from linker.filelocks import lockfile_lock, lockfile_lock_path
from linker.lockedit import remove_entry, upsert_entries
from linker.lockfile import load_lockfile
from testing.hubhelpers import push

SHA = "a" * 40
EMPTY = "version: 1\nmodels: []\n"


def labels(path: Path) -> set[str]:
    return {e.label for e in load_lockfile(path).entries}


def test_concurrent_adds_keep_every_entry(project, hub_store, hub, hub_env):
    repos = [f"acme/m{i}" for i in range(4)]
    for i, repo in enumerate(repos):
        push(hub_store, repo, seed=i)
    env = {**hub_env, "HF_HUB_CACHE": str(project.global_cache)}
    for _round in range(6):
        project.lock_path.write_text(EMPTY)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "linker", "add", repo],
                cwd=project.root,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for repo in repos
        ]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        for p in procs:
            for stream in (p.stdout, p.stderr):
                if stream:
                    stream.close()
        assert [rc for rc, _ in results] == [0] * 4, results
        assert labels(project.lock_path) == set(repos)


_WRITER = """
import sys
from pathlib import Path
from linker.lockedit import upsert_entry
path, who = Path(sys.argv[1]), sys.argv[2]
for i in range(int(sys.argv[3])):
    upsert_entry(path, {"id": f"w{who}/m{i}", "revision": sys.argv[4]})
"""


def test_concurrent_lockedit_writers_lose_nothing(tmp_path):
    path = tmp_path / "project_cache.yaml"
    path.write_text(EMPTY)
    repo_root = Path(__file__).parent.parent
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(w), "15", SHA], cwd=repo_root) for w in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    assert labels(path) == {f"w{w}/m{i}" for w in range(4) for i in range(15)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project_cache.yaml"]  # the lock does not clutter


def test_lockfile_lock_timeout_is_exit_4_naming_the_lock(project):
    project.write_lock([{"id": "org/tiny", "revision": SHA}])
    lock = lockfile_lock_path(project.lock_path)
    with lockfile_lock(project.lock_path, timeout=5):
        r = project.linker("remove", "org/tiny", env={"LINKER_LOCK_TIMEOUT": "0.2"})
    assert r.returncode == 4, r.stderr
    assert str(lock) in r.stderr and "internal error" not in r.stderr
    assert labels(project.lock_path) == {"org/tiny"}


@pytest.mark.parametrize(
    ("body", "where", "needle"),
    [
        ("version: 1\nmodels:\n  - id: a/b\n    id: c/d\n    revision: {sha}\n", ":4:5:", "duplicate key 'id'"),
        ("version: 1\nversion: 1\nmodels: []\n", ":2:1:", "duplicate key 'version'"),
        ("version: 1\nmodels:\n  - id: a/b\n    revision: {sha}\n    files: {{x: {{size: 1, size: 2}}}}\n",
         ":5:", "duplicate key 'size'"),
        ("version: 1.0\nmodels: []\n", ":1:10:", "version"),
        ("version: 1\nmodels:\n  - id: a/b\n    revision: {sha}\n    include: '*.json'\n", ":5:14:", "list"),
    ],
)  # fmt: skip
def test_ambiguous_lockfiles_are_refused_with_position(project, body, where, needle):
    project.lock_path.write_text(body.format(sha=SHA))
    r = project.linker("status")
    assert r.returncode == 2, r.stderr
    line = r.stderr.strip().splitlines()[0]
    assert line.startswith(f"error: {project.lock_path}{where}"), line
    assert needle in line


def test_merge_keys_are_not_duplicates(tmp_path):
    path = tmp_path / "project_cache.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            version: 1
            models:
              - &base {{id: a/b, revision: {SHA}}}
              - <<: *base
                id: c/d
            """
        )
    )
    assert labels(path) == {"a/b", "c/d"}


def test_add_json_error_is_one_document(project):
    project.lock_path.write_text("version: 1\nversion: 1\nmodels: []\n")
    r = project.linker("remove", "a/b", "--json")
    assert r.returncode == 2
    doc = json.loads(r.stdout)
    assert doc["exit_code"] == 2 and "duplicate key" in doc["error"]
    assert r.stderr.startswith("error: ")


def test_lock_does_not_bring_back_an_entry_removed_meanwhile(tmp_path):
    """`linker lock` plans from an earlier read; an entry a concurrent `remove` dropped stays dropped."""
    path = tmp_path / "project_cache.yaml"
    path.write_text(f"version: 1\nmodels:\n  - id: a/b\n    revision: {SHA}\n")
    assert remove_entry(path, "a/b")
    upsert_entries(path, [{"id": "a/b", "type": "model", "revision": "b" * 40, "files": None}], only_existing=True)
    assert labels(path) == set()


def test_writers_refuse_a_broken_lockfile_with_its_position(tmp_path):
    path = tmp_path / "project_cache.yaml"
    path.write_text(f"version: 1\nmodels:\n  - id: a/b\n    revision: {SHA}\n    revision: {SHA}\n")
    with pytest.raises(LockfileError, match=r"project_cache.yaml:5:5: duplicate key 'revision'"):
        remove_entry(path, "a/b")
