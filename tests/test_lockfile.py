"""project_cache.yaml: finding it, and strict validation with `file:line:col` errors and exit code 2."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from linker.errors import LockfileError
from linker.hfcache import check_repo_id
from linker.lockfile import find_lockfile, parse_lockfile

SHA = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"


def parse(text: str):
    return parse_lockfile(text, Path("project_cache.yaml"))


def error_of(text: str) -> str:
    with pytest.raises(LockfileError) as info:
        parse(text)
    return str(info.value)


def test_minimal_lockfile_and_defaults() -> None:
    lock = parse(f"version: 1\nmodels:\n  - id: sentence-transformers/all-MiniLM-L6-v2\n    revision: {SHA}\n")
    (e,) = lock.entries
    assert (e.id, e.revision, e.type, e.ref, e.include, e.files, e.local) == (
        "sentence-transformers/all-MiniLM-L6-v2", SHA, "model", "main", (), None, False,
    )  # fmt: skip
    assert lock.cache_dir == "models_cache"
    assert lock.view == Path("models_cache").absolute()


def test_full_entry() -> None:
    lock = parse(
        f"""version: 1
cache_dir: .hf
link_mode: copy
models:
  - id: org/a
    revision: {SHA}
    type: dataset
    ref: v1.0
    include: ["*.json", "1_Pooling/*"]
    exclude: ["*.bin"]
    files:
      config.json: {{size: 12, hash: {"a" * 40}}}
      model.safetensors: {{size: 99, hash: {"b" * 64}}}
"""
    )
    (e,) = lock.entries
    assert e.type == "dataset" and e.ref == "v1.0" and e.include == ("*.json", "1_Pooling/*")
    assert e.files is not None and e.files["model.safetensors"].size == 99
    assert lock.link_mode == "copy" and lock.cache_dir == ".hf"


@pytest.mark.parametrize(
    ("body", "where", "needle"),
    [
        ("version: 1\nmodelz: []\n", "2:1", "unknown key 'modelz'"),
        (f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n    revison: x\n", "5:5", "unknown key 'revison'"),
        (f"version: 1\nmodels:\n  - id: org--a\n    revision: {SHA}\n", "3:9", "invalid repo id"),
        (f"version: 1\nmodels:\n  - id: a/b/c\n    revision: {SHA}\n", "3:9", "invalid repo id"),
        (
            f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA.upper()}\n",
            "4:15",
            "pin the full 40-character commit",
        ),
        ("version: 1\nmodels:\n  - id: org/a\n    revision: c9745ed\n", "4:15", "pin the full 40-character commit"),
        ("version: 1\nmodels:\n  - id: org/a\n    revision: 1234567\n", "4:15", "short sha"),
        ("version: 1\nmodels:\n  - id: org/a\n    revision: main\n    ref: v1\n", "4:15", "`ref: v1` disagree"),
        ("version: 1\nmodels:\n  - id: org/a\n    local: true\n", "3:5", "needs its `revision` commit"),
        ("version: 1\nmodels:\n  - id: org/a\n    revision: ../x\n", "4:15", "neither a commit nor a branch"),
        (
            f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n  - id: org/a\n    revision: {SHA}\n",
            "5:9",
            "twice",
        ),
        ("version: 1\nmodels: {a: 1}\n", "2:9", "must be a list"),
        (f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n    include: 3\n", "5:14", "glob patterns"),
        (f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n    type: repo\n", "5:11", "`type` must be one of"),
        (f"version: 1\nmodels:\n  - id: 12\n    revision: {SHA}\n", "3:9", "`id` must be a string"),
        ("version: 1\nlink_mode: junction\nmodels: []\n", "2:12", "`link_mode` must be one of"),
        ("version: 2\nmodels: []\n", "1:10", "unsupported lockfile version"),
        ("version: 1\nmodels:\n  - id: org/a\n    revision: [x\n", "5:1", "invalid YAML"),
        (
            f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n    files:\n"
            "      a.json: {size: -1, hash: x}\n",
            "6:22",
            "`size` must be a byte count",
        ),
        (
            f"version: 1\nmodels:\n  - id: org/a\n    revision: {SHA}\n    files:\n"
            f"      ../x: {{size: 1, hash: {'a' * 40}}}\n",
            "6:7",
            "relative path inside the repo",
        ),
    ],
)
def test_validation_errors_name_line_and_column(body: str, where: str, needle: str) -> None:
    msg = error_of(body)
    assert msg.startswith(f"project_cache.yaml:{where}: "), msg
    assert needle in msg


def test_cli_renders_lockfile_error_as_one_line_exit_2(project) -> None:
    project.lock_path.write_text("version: 1\nmodels:\n  - id: org/a\n    revision: c9745ed\n")
    r = project.linker("sync")
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert re.match(r"error: .*project_cache\.yaml:4:15: revision 'c9745ed' is a short sha", lines[0])


@pytest.mark.parametrize(
    "repo_id",
    ["gpt2", "org/name", "Org-1/na_me.v2", "a" * 96, "a" * 97, "org--x/y", "org/x..y", "x.git", "-x", "x-", "a/b/c",
     "café/x", "org/ name", ".repo", "", "org/"],
)  # fmt: skip
def test_repo_id_rules_match_huggingface_hub(repo_id: str) -> None:
    """Our import-free check must accept and reject exactly what huggingface_hub does."""
    code = (
        "import json,sys\nfrom huggingface_hub.utils import validate_repo_id\n"
        "try:\n validate_repo_id(sys.argv[1]); print(json.dumps(True))\nexcept Exception: print(json.dumps(False))"
    )
    out = subprocess.run([sys.executable, "-c", code, repo_id], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == (check_repo_id(repo_id) is None)


def test_lockfile_is_found_in_a_parent_folder_or_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "project_cache.yaml").write_text("version: 1\nmodels: []\n")
    deep = tmp_path / "src" / "pkg"
    deep.mkdir(parents=True)
    assert find_lockfile(cwd=deep) == tmp_path / "project_cache.yaml"
    other = tmp_path / "elsewhere.yaml"
    other.write_text("version: 1\n")
    monkeypatch.setenv("LINKER_CONFIG", str(other))
    assert find_lockfile(cwd=deep) == other
    assert find_lockfile(str(tmp_path / "project_cache.yaml"), cwd=deep) == tmp_path / "project_cache.yaml"


def test_no_lockfile_is_a_config_error(project) -> None:
    r = project.linker("status")
    assert r.returncode == 2
    assert "no project_cache.yaml" in r.stderr and "Traceback" not in r.stderr


def test_example_lockfile_is_valid() -> None:
    example = Path(__file__).parent.parent / "project_cache.example.yaml"
    lock = parse_lockfile(example.read_text(), example)
    assert lock.entries
