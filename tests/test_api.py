"""The Python API (`linker.path`, `linker.revision`, `linker.activate`), judged by the real huggingface_hub in a
subprocess whose global cache's `main` has moved on from the pin, so a load that misses the view gets other bytes."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import linker
from testing.cachefactory import build_repo, fake_commit
from testing.hfprobe import run_hf
from testing.synckit import OLD, lock_entry, two_revisions

DS = fake_commit("ds", 1)

_LOAD = """
import base64, os
{before}
from huggingface_hub import constants, hf_hub_download, scan_cache_dir
{after}
p = hf_hub_download("org/tiny", "config.json")
result = {{
    "data": base64.b64encode(open(p, "rb").read()).decode(),
    "path": p,
    "offline": constants.is_offline_mode(),
    "scan": [str(r.repo_path) for r in scan_cache_dir().repos],
}}
"""


def _synced(project) -> tuple[dict, dict]:
    _info, old, new = two_revisions(project.global_cache)  # main -> NEW in the global cache
    project.write_lock([lock_entry()])  # ref: main
    r = project.linker("sync")
    assert r.returncode == 0, r.stderr
    return old, new


def _load(project, before: str, after: str) -> dict:
    """hf_hub_download("org/tiny", "config.json") without revision, with HF_HOME holding the global cache (so the
    unpinned default is its `main`), no HF_HUB_CACHE, online (the endpoint is a closed local port)."""
    code = _LOAD.format(before=textwrap.dedent(before), after=textwrap.dedent(after))
    env = {"HF_HOME": str(project.global_cache.parent), "HF_ENDPOINT": "http://127.0.0.1:9"}
    r = run_hf(code, hub_cache=None, env=env, offline=False, params=str(project.lock_path), cwd=project.root)
    r["data"] = base64.b64decode(r["data"])
    return r


def test_setting_the_environment_after_importing_hub_silently_loads_main(project) -> None:
    """The failure activate() exists for: os.environ set after the import is ignored."""
    _old, new = _synced(project)
    r = _load(project, "", f"os.environ.update(HF_HUB_CACHE={str(project.view)!r}, HF_HUB_OFFLINE='1')")
    assert r["data"] == new["config.json"]
    assert not r["offline"]


def test_activate_after_importing_hub_loads_the_pin_from_the_view(project) -> None:
    old, _new = _synced(project)
    r = _load(project, "", "import linker; linker.activate(params)")
    assert r["data"] == old["config.json"]
    assert r["path"].startswith(str(project.view) + "/")
    assert r["offline"]
    assert r["scan"] == [str(project.view / "models--org--tiny")]  # scan_cache_dir's default, copied at import


def test_activate_before_importing_hub_loads_the_pin(project) -> None:
    old, _new = _synced(project)
    r = _load(project, "import linker; view = linker.activate()", "")  # the lockfile found from the cwd
    assert r["data"] == old["config.json"]
    assert r["path"].startswith(str(project.view) + "/")
    assert r["offline"]


def test_path_and_revision(project, monkeypatch: pytest.MonkeyPatch) -> None:
    info, old, _new = two_revisions(project.global_cache)
    build_repo(project.global_cache, "org/ds", {DS: {"train.csv": b"a,b\n1,2\n"}}, repo_type="dataset")
    files = {p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()}
    project.write_lock([lock_entry(files=files), lock_entry("org/ds", DS, type="dataset")])
    assert project.linker("sync").returncode == 0
    snap = project.view / "models--org--tiny" / "snapshots" / OLD
    assert linker.path("org/tiny", project=project.lock_path) == snap
    assert linker.path("org/tiny", project=project.root) == snap
    assert (linker.path("org/tiny", project=project.root) / "config.json").read_bytes() == old["config.json"]
    assert linker.revision("org/tiny", project=project.lock_path) == OLD
    (project.root / "src" / "app").mkdir(parents=True)  # a folder: its lockfile is found in a parent
    assert linker.revision("org/tiny", project=project.root / "src" / "app") == OLD
    ds = linker.path("org/ds", type="dataset", project=project.root)
    assert ds == project.view / "datasets--org--ds" / "snapshots" / DS
    assert (ds / "train.csv").read_bytes() == b"a,b\n1,2\n"
    monkeypatch.chdir(project.root)
    assert linker.revision("org/ds", type="dataset") == DS  # the lockfile found as the CLI finds it


def test_path_errors_name_the_fix(project) -> None:
    info, _old, _new = two_revisions(project.global_cache)
    files = {p: {"size": f.size, "hash": f.etag} for p, f in info.files[OLD].items()}
    project.write_lock([lock_entry(files=files)])

    with pytest.raises(linker.NotSyncedError) as e:  # pinned, never synced
        linker.path("org/tiny", project=project.root)
    assert "linker sync" in e.value.render() and isinstance(e.value, linker.LinkerError)
    assert linker.revision("org/tiny", project=project.root) == OLD  # revision does not need the view

    assert project.linker("sync").returncode == 0
    (project.view / "models--org--tiny" / "snapshots" / OLD / "config.json").unlink()
    with pytest.raises(linker.NotSyncedError) as e:  # a file of the files map is gone from the view
        linker.path("org/tiny", project=project.root)
    assert "config.json" in e.value.message and "linker sync" in e.value.render()

    for call in (linker.path, linker.revision):
        with pytest.raises(linker.NotPinnedError) as e:
            call("org/other", project=project.root)
        assert "linker add org/other" in e.value.render()
        with pytest.raises(linker.NotPinnedError) as e:
            call("org/tiny", type="dataset", project=project.root)
        assert "linker add org/tiny --type dataset" in e.value.render() and "type='model'" in e.value.message
    with pytest.raises(linker.LinkerError, match=r"no project_cache\.yaml"):
        linker.path("org/tiny", project=project.root.parent)


def test_activate_refuses_a_view_that_was_never_synced(project) -> None:
    two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    with pytest.raises(linker.NotSyncedError, match="does not exist"):
        linker.activate(project.lock_path)


def test_import_linker_is_light(project) -> None:
    _synced(project)
    code = """
import json, sys
import linker
first = sorted(m for m in ("huggingface_hub", "click", "yaml", "linker.cli", "linker.lockfile") if m in sys.modules)
linker.revision("org/tiny", project=sys.argv[1])
second = sorted(m for m in ("huggingface_hub", "click", "linker.cli") if m in sys.modules)
print(json.dumps([first, second]))
"""
    r = subprocess.run([sys.executable, "-c", code, str(project.lock_path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [[], []]


# Stand-ins for transformers 4.x and datasets, which copy the hub's cache and offline flag at import (not installed:
# too heavy for CI). The sentence_transformers stand-in hides its flag in a list, where activate() cannot reach it.
_FAKE_LIBRARIES = {
    "transformers/__init__.py": "",
    "transformers/utils/__init__.py": "from .hub import TRANSFORMERS_CACHE, is_offline_mode\n",
    "transformers/utils/hub.py": """
import huggingface_hub
from huggingface_hub import constants
_is_offline_mode = huggingface_hub.constants.HF_HUB_OFFLINE
def is_offline_mode():
    return _is_offline_mode
PYTORCH_PRETRAINED_BERT_CACHE = constants.HF_HUB_CACHE
TRANSFORMERS_CACHE = PYTORCH_PRETRAINED_BERT_CACHE
def cached_file(repo_id, filename, cache_dir=TRANSFORMERS_CACHE, *, other=TRANSFORMERS_CACHE):
    return cache_dir, other
class Loader:
    def load(self, cache_dir=TRANSFORMERS_CACHE):
        return cache_dir
""",
    "datasets/__init__.py": "",
    "datasets/config.py": """
from huggingface_hub import constants
HF_HUB_OFFLINE = constants.HF_HUB_OFFLINE
HF_DATASETS_OFFLINE = HF_HUB_OFFLINE
""",
    "sentence_transformers/__init__.py": """
def is_offline_mode(_flag=[False]):
    return _flag[0]
""",
}


def _fake_libraries(tmp_path: Path) -> Path:
    root = tmp_path / "fakelibs"
    for name, text in _FAKE_LIBRARIES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def test_activate_patches_copies_transformers_made_at_import(project, tmp_path: Path) -> None:
    _synced(project)
    libs = _fake_libraries(tmp_path)
    r = run_hf(
        """
import os, sys
sys.path.insert(0, params["libs"])
import transformers.utils.hub as hub
from transformers.utils import TRANSFORMERS_CACHE
import datasets.config
import linker
os.environ["SENTENCE_TRANSFORMERS_HOME"] = "/elsewhere"
linker.activate(params["lock"])
import transformers.utils
result = {
    "cache": hub.TRANSFORMERS_CACHE, "reexport": transformers.utils.TRANSFORMERS_CACHE,
    "offline": hub.is_offline_mode(), "defaults": list(hub.cached_file("a", "b")), "method": hub.Loader().load(),
    "st_home": os.environ.get("SENTENCE_TRANSFORMERS_HOME"), "env": os.environ["HF_HUB_CACHE"],
    "datasets": [datasets.config.HF_HUB_OFFLINE, datasets.config.HF_DATASETS_OFFLINE,
                 os.environ["HF_DATASETS_OFFLINE"]],
}
""",
        hub_cache=None,
        env={"HF_HOME": str(project.global_cache.parent)},
        offline=False,
        params={"libs": str(libs), "lock": str(project.lock_path)},
    )
    view = str(project.view)
    assert r == {
        "cache": view, "reexport": view, "offline": True, "defaults": [view, view], "method": view,
        "st_home": None, "env": view, "datasets": [True, True, "1"],
    }  # fmt: skip


def test_activate_raises_when_an_imported_library_keeps_its_own_offline_flag(project, tmp_path: Path) -> None:
    _synced(project)
    libs = _fake_libraries(tmp_path)
    r = run_hf(
        """
import sys
sys.path.insert(0, params["libs"])
import sentence_transformers
import linker
try:
    linker.activate(params["lock"])
    result = "no error"
except linker.ActivationError as e:
    result = e.render()
""",
        hub_cache=None,
        offline=False,
        params={"libs": str(libs), "lock": str(project.lock_path)},
    )
    assert "sentence_transformers.is_offline_mode() still says online" in r
    assert "before importing" in r and "linker run" in r
