"""datasets through `linker.path` (issue 10, tests list): the real `datasets` package, in a subprocess with
HF_HUB_OFFLINE=1 and an empty HF_HOME, loads the pinned rows of a dataset whose global `main` holds other rows."""

from __future__ import annotations

from testing.cachefactory import build_repo, fake_commit
from testing.hfprobe import run_hf

PIN, MAIN = fake_commit("rows", 1), fake_commit("rows", 2)
PINNED_ROWS = b'{"text": "pinned one", "label": 0}\n{"text": "pinned two", "label": 1}\n'
MAIN_ROWS = b'{"text": "from main", "label": 7}\n'

_LOAD = """
import linker
from datasets import load_dataset
ds = load_dataset(str(linker.path("org/rows", type="dataset", project=params)), split="train")
result = {"rows": ds.to_list(), "path": str(linker.path("org/rows", type="dataset", project=params))}
"""


def test_load_dataset_by_linker_path_gets_the_pinned_rows_offline(project) -> None:
    files = {PIN: {"data/train.jsonl": PINNED_ROWS}, MAIN: {"data/train.jsonl": MAIN_ROWS}}
    build_repo(project.global_cache, "org/rows", files, refs={"main": MAIN}, repo_type="dataset")
    project.write_lock([{"id": "org/rows", "type": "dataset", "revision": PIN}])
    r = project.linker("sync", "--offline")
    assert r.returncode == 0, r.stdout + r.stderr
    got = run_hf(_LOAD, hub_cache=None, offline=True, params=str(project.lock_path), cwd=project.root, timeout=120)
    assert got["rows"] == [{"text": "pinned one", "label": 0}, {"text": "pinned two", "label": 1}]
    assert got["path"].endswith(f"datasets--org--rows/snapshots/{PIN}")
    r = project.linker("verify")  # loading wrote nothing into the view
    assert r.returncode == 0, r.stdout + r.stderr
