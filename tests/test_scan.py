"""`linker scan`: the Hub repos a project's code names, found with `ast` (never imported or run), against the lock.

The fixture project has every loader form, constants and default arguments, a notebook, local paths, dynamic
names, and folders that must be skipped; the test compares the exact list of (place, id, state).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from testing.hubhelpers import lock_entries, push

REPO_ROOT = Path(__file__).resolve().parents[1]
SHA_A = "a" * 40
SHA_B = "b" * 40
SHA_C = "c" * 40

APP = """\
import timm
from datasets import load_dataset
from huggingface_hub import hf_hub_download, snapshot_download
from peft import PeftModel
from sentence_transformers import CrossEncoder, SentenceTransformer
from transformers import AutoModel, AutoTokenizer, pipeline

MODEL = "acme/bert"
ADAPTER = "acme/lora"


def load(name="acme/default", rev="v1.0"):
    tok = AutoTokenizer.from_pretrained(name, revision=rev)
    return tok, AutoModel.from_pretrained(MODEL)


base = AutoModel.from_pretrained(
    "acme/base",
    revision="v2.0",
)
peft = PeftModel.from_pretrained(base, ADAPTER)
st = SentenceTransformer("all-MiniLM-L6-v2")
ce = CrossEncoder("cross-encoder/ms-marco")
clf = pipeline("text-classification", model="acme/clf")
ner = pipeline("ner", "acme/ner")
cfg_path = hf_hub_download(repo_id="acme/data", filename="a.json", repo_type="dataset")
snap = snapshot_download("acme/space", repo_type="space")
ds = load_dataset("acme/corpus", split="train")
csv = load_dataset("csv", data_files="x.csv")
vit = timm.create_model("hf-hub:timm/vit", pretrained=True)
"""

DYNAMIC = """\
import os
from transformers import AutoModel, pipeline


def build(cfg):
    return AutoModel.from_pretrained(cfg.model_name)


env = AutoModel.from_pretrained(os.environ["MODEL"])
default = pipeline("sentiment-analysis")
local = AutoModel.from_pretrained("./checkpoints/run1")
absolute = AutoModel.from_pretrained("/srv/models/bert")
on_disk = AutoModel.from_pretrained("weights/bert")
"""

SKIPPED = 'from transformers import AutoModel\nAutoModel.from_pretrained("acme/skipped")\n'
SIDE_EFFECT = (
    'import pathlib\npathlib.Path("RAN").write_text("x")\nraise SystemExit(3)\n'
    'from transformers import AutoModel\nAutoModel.from_pretrained("acme/bert")\n'
)


def notebook(cells: list[str]) -> str:
    def cell(src: str) -> dict:
        return {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": src}

    md = {"cell_type": "markdown", "metadata": {}, "source": "# Explore\nAutoModel.from_pretrained('acme/md')"}
    return json.dumps({"cells": [md, *map(cell, cells)], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def make_project(project) -> None:
    root = project.root
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text(APP)
    (root / "src" / "dynamic.py").write_text(DYNAMIC)
    (root / "src" / "weights" / "bert").mkdir(parents=True)  # `weights/bert` exists on disk: a local path
    (root / "src" / "runme.py").write_text(SIDE_EFFECT)
    nb = notebook(["%pip install transformers\nNB_MODEL = 'acme/nb'", "!ls\nm = AutoModel.from_pretrained(NB_MODEL)"])
    (root / "explore.ipynb").write_text(nb)
    for skipped in (".venv/lib", "node_modules/pkg", "env/lib/site-packages", "models_cache", ".git", "vendor"):
        (root / skipped).mkdir(parents=True, exist_ok=True)
        (root / skipped / "m.py").write_text(SKIPPED)
    (root / "myenv").mkdir()
    (root / "myenv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (root / "myenv" / "m.py").write_text(SKIPPED)
    project.write_lock(
        [
            {"id": "acme/bert", "revision": SHA_A},
            {"id": "acme/base", "revision": SHA_B, "ref": "v1.0"},  # the code asks for v2.0: a conflict
            {"id": "acme/lora", "revision": SHA_C},
            {"id": "sentence-transformers/all-MiniLM-L6-v2", "revision": SHA_A},
            {"id": "acme/corpus", "type": "dataset", "revision": SHA_A},
            {"id": "acme/from-config", "revision": SHA_B},  # named by no code
        ]
    )


EXPECTED = [
    ("explore.ipynb:cell3:2:31", "acme/nb", "unpinned"),
    ("src/app.py:13:41", "acme/default", "unpinned"),
    ("src/app.py:14:43", "acme/bert", "pinned"),
    ("src/app.py:18:5", "acme/base", "conflict"),
    ("src/app.py:21:40", "acme/lora", "pinned"),
    ("src/app.py:22:26", "sentence-transformers/all-MiniLM-L6-v2", "pinned"),
    ("src/app.py:23:19", "cross-encoder/ms-marco", "unpinned"),
    ("src/app.py:24:45", "acme/clf", "unpinned"),
    ("src/app.py:25:23", "acme/ner", "unpinned"),
    ("src/app.py:26:36", "acme/data", "unpinned"),
    ("src/app.py:27:26", "acme/space", "unpinned"),
    ("src/app.py:28:19", "acme/corpus", "pinned"),
    ("src/app.py:30:25", "timm/vit", "unpinned"),
    ("src/dynamic.py:6:38", None, "dynamic"),
    ("src/dynamic.py:9:33", None, "dynamic"),
    ("src/dynamic.py:10:11", None, "dynamic"),
    ("src/runme.py:5:27", "acme/bert", "pinned"),
]


def scan_json(project, *args: str, cwd: Path | None = None) -> tuple[int, dict]:
    r = project.linker("scan", "--json", *args, cwd=cwd)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def rows(doc: dict) -> list[tuple[str, str | None, str]]:
    return [(ref["place"], ref["id"], ref["state"]) for ref in doc["references"]]


def test_scan_finds_each_loader_form_and_judges_it_against_the_lock(project):
    make_project(project)
    code, doc = scan_json(project, "--exclude", "vendor/*")
    assert rows(doc) == EXPECTED
    assert code == 1  # unpinned and conflict references
    assert not (project.root / "RAN").exists() and not (project.root / "src" / "RAN").exists()  # never run
    by_place = {ref["place"]: ref for ref in doc["references"]}
    assert by_place["src/app.py:26:36"]["type"] == "dataset" and by_place["src/app.py:27:26"]["type"] == "space"
    assert by_place["src/app.py:13:41"]["revision"] == "v1.0"  # a default argument, as the constant
    assert by_place["src/app.py:18:5"]["conflict"] == {"asked": "v2.0", "pinned": SHA_B, "ref": "v1.0"}
    assert by_place["src/dynamic.py:6:38"]["dynamic"] == {"kind": "argument", "expr": "cfg.model_name"}
    assert by_place["src/dynamic.py:10:11"]["dynamic"]["kind"] == "default-model"
    assert by_place["src/app.py:21:40"]["call"] == "PeftModel.from_pretrained"
    assert doc["unnamed_entries"] == ["acme/from-config"]
    assert doc["counts"] == {"pinned": 5, "unpinned": 8, "conflict": 1, "dynamic": 3}
    assert [u["path"] for u in doc["unreadable"]] == []


def test_scan_text_lists_places_and_summary(project):
    make_project(project)
    r = project.linker("scan", "--exclude", "vendor")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert (
        "src/app.py:18:5: conflict acme/base@v2.0 (AutoModel.from_pretrained): the code asks for revision v2.0, "
        f"the lock pins {SHA_B[:12]} (v1.0)" in lines
    )
    assert (
        "src/dynamic.py:10:11: dynamic (pipeline): no model given: the library picks its default for the task" in lines
    )
    assert any(
        ln.startswith("note: in the lock, named by no scanned code") and "acme/from-config" in ln for ln in lines
    )
    assert "4 file(s), 17 reference(s): 5 pinned, 8 unpinned, 1 conflict, 3 dynamic" in lines
    assert "acme/skipped" not in r.stdout


def test_scan_without_exclude_reads_vendor_but_never_the_skipped_folders(project):
    make_project(project)
    _, doc = scan_json(project)
    skipped = [ref["place"] for ref in doc["references"] if ref["id"] == "acme/skipped"]
    assert skipped == ["vendor/m.py:2:27"]


def test_scan_default_path_is_the_lockfile_folder_and_files_can_be_named(project):
    make_project(project)
    _, doc = scan_json(project, "--exclude", "vendor", cwd=project.root / "src")
    assert rows(doc) == EXPECTED
    _, doc = scan_json(project, "explore.ipynb", "src/dynamic.py")
    assert rows(doc) == [EXPECTED[0], *EXPECTED[-4:-1]]
    assert doc["complete"] is False and doc["unnamed_entries"] == []  # some files only: nothing to conclude
    _, doc = scan_json(project, "vendor/m.py", "--exclude", "vendor/*")
    assert doc["files"] == 0  # a named file is still excluded
    _, doc = scan_json(project, "project_cache.yaml", "--exclude", "vendor")  # the lockfile: its whole project
    assert rows(doc) == EXPECTED and doc["complete"] is True


def test_scan_exit_codes(project):
    project.write_lock([{"id": "acme/bert", "revision": SHA_A}])
    src = project.root / "app.py"
    src.write_text('from transformers import AutoModel\nAutoModel.from_pretrained("acme/bert")\n')
    assert project.linker("scan").returncode == 0
    src.write_text('AutoModel.from_pretrained("acme/bert", revision="main")\nAutoModel.from_pretrained(x)\n')
    assert project.linker("scan").returncode == 0  # the ref; dynamic references are reported, not judged
    src.write_text('AutoModel.from_pretrained("acme/bert", revision="dev")\n')
    assert project.linker("scan").returncode == 1
    src.write_text('AutoModel.from_pretrained("acme/other")\n')
    assert project.linker("scan").returncode == 1
    r = project.linker("scan", "no/such/dir")
    assert r.returncode == 2 and "no such file or folder" in r.stderr
    (project.root / "broken.py").write_text("def f(:\n    AutoModel.from_pretrained('acme/x')\n")
    r = project.linker("scan")
    assert r.returncode == 1 and "broken.py: not valid Python (line 1" in r.stderr and "Traceback" not in r.stderr


def test_scan_json_is_one_document(project):
    make_project(project)
    r = project.linker("scan", "--json")
    doc = json.loads(r.stdout)  # one document, nothing else on stdout
    assert doc["linker_json_version"] == 1 and doc["ok"] is False and doc["files"] == 5
    assert set(doc["references"][0]) >= {"path", "line", "col", "cell", "id", "type", "loader", "state", "revision"}


def test_scan_without_a_lockfile_reports_everything_unpinned(project):
    (project.root / "app.py").write_text('AutoModel.from_pretrained("acme/bert")\n')
    r = project.linker("scan")
    assert r.returncode == 1 and "app.py:1:27: unpinned acme/bert" in r.stdout
    assert "no project_cache.yaml" in r.stderr


def test_scan_starts_light_without_huggingface_hub(project):
    make_project(project)
    r = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "linker", "scan"],
        cwd=project.root,
        capture_output=True,
        text=True,
        env={**project.env, "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 1, r.stderr
    imported = {line.split("|")[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "linker.scan" in imported
    assert not {m for m in imported if m.split(".")[0] in ("huggingface_hub", "requests", "httpx")}


def test_scan_add_pins_the_unpinned_repos_as_add_does(project, hub_store, hub, hub_env):
    pinned = push(hub_store, "acme/bert")
    new = push(hub_store, "acme/new", seed=2)
    hub_store.tag("acme/new", "v1.0", new)
    push(hub_store, "acme/new", seed=3)  # main moves on: the tag the code asks for must be what is pinned
    push(hub_store, "acme/data", repo_type="dataset", files={"a.json": b"{}"})
    project.write_lock([{"id": "acme/bert", "revision": pinned}])
    (project.root / "app.py").write_text(
        "AutoModel.from_pretrained('acme/bert')\n"
        "AutoModel.from_pretrained('acme/new', revision='v1.0')\n"
        "hf_hub_download('acme/data', 'a.json', repo_type='dataset')\n"
        "AutoModel.from_pretrained('acme/missing')\n"
    )
    r = project.linker("scan", "--add", env=hub_env)
    assert r.returncode == 1, r.stderr  # acme/missing is not on the Hub: still unpinned
    assert "! acme/missing: not added" in r.stdout
    entries = lock_entries(project)
    assert entries["acme/new"].revision == new and entries["acme/new"].ref == "v1.0"
    assert entries["dataset:acme/data"].files and "acme/missing" not in entries
    assert entries["acme/bert"].revision == pinned  # untouched
    (project.root / "app.py").write_text("\n".join(project.root.joinpath("app.py").read_text().splitlines()[:3]))
    r = project.linker("scan", "--json", env=hub_env)
    assert r.returncode == 0 and json.loads(r.stdout)["counts"]["pinned"] == 3


def test_pre_commit_hooks_file_declares_linker_scan():
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "linker-scan")
    assert hook["entry"] == "linker scan" and hook["language"] == "python"
    assert hook["pass_filenames"] is True
