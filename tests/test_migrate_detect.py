"""`linker migrate` takes a folder for a model only when it is one: source code never leaves its folder, a code
project next to model files is refused and named (unless --id says it is a model), and model repos that carry
remote code, or only a tokenizer or a config, still migrate."""

from __future__ import annotations

import json
from pathlib import Path

from testing.cachefactory import build_plain_folder, tiny_model_files
from testing.migrate_support import global_snapshot, item_of, migrate, sha, tree_digests

APP = b"import flask\napp = flask.Flask(__name__)\n"


def _digests(root: Path) -> dict[str, str]:
    return tree_digests(root)


def test_code_folders_with_a_config_json_are_not_models(project, tmp_path):
    code = tmp_path / "code"
    build_plain_folder(code / "webapp", {"config.json": b'{"debug": true, "port": 8080}', "app.py": APP})
    build_plain_folder(code / "svc", {"config.json": b'{"listen": ":80"}', "main.go": b"package main\n"})
    build_plain_folder(code / "notes", {"config.json": b"{}", "README.md": b"# notes\n"})
    before = _digests(code)
    proc = project.linker("migrate", str(code), "--offline")
    assert proc.returncode == 2 and "no model found" in proc.stderr, proc.stdout + proc.stderr
    assert _digests(code) == before  # app.py, main.go, README.md: not one byte moved
    assert not list(project.global_cache.glob("models--*"))
    # given directly, each is refused just the same
    for d in ("webapp", "svc", "notes"):
        assert project.linker("migrate", str(code / d), "--offline").returncode == 2
    assert _digests(code) == before


def test_model_files_next_to_source_code_are_refused_and_named(project, tmp_path):
    code = tmp_path / "code"
    files = {**tiny_model_files("bert", seed=31), "train.py": APP, "pyproject.toml": b"[project]\nname = 'x'\n"}
    build_plain_folder(code / "proj", files)
    nested = {**tiny_model_files("bert", seed=32), "web/package.json": b"{}"}
    build_plain_folder(code / "other", nested)
    before = _digests(code)
    doc = migrate(project, str(code))
    assert doc["rc"] == 1, doc
    refused = {p["path"]: p["detail"] for p in doc["problems"] if p["kind"] == "not-a-model"}
    assert set(refused) == {str(code / "proj"), str(code / "other")}, doc["problems"]
    assert "train.py" in refused[str(code / "proj")] and "pyproject.toml" in refused[str(code / "proj")]
    assert "web/package.json" in refused[str(code / "other")]
    assert not doc["items"] and _digests(code) == before
    # --id says it is a model: then it migrates, code and all
    doc = migrate(project, str(code / "proj"), "--id", "acme/proj")
    assert doc["rc"] == 0, doc
    rev = item_of(doc, "acme/proj")["revisions"][0]
    assert global_snapshot(project.global_cache, "acme/proj", rev) == files


def test_git_checkout_is_a_model_only_when_cloned_from_the_hub(project, tmp_path):
    files = tiny_model_files("bert", seed=33)
    hub = build_plain_folder(tmp_path / "acme" / "cloned", files)
    (hub / ".git").mkdir()
    (hub / ".git" / "config").write_text('[remote "origin"]\n\turl = https://huggingface.co/acme/cloned\n')
    mine = build_plain_folder(tmp_path / "acme" / "mine", files)
    (mine / ".git").mkdir()
    (mine / ".git" / "config").write_text('[remote "origin"]\n\turl = git@github.com:me/mine.git\n')
    doc = migrate(project, str(mine))
    assert doc["rc"] == 1 and ".git" in doc["problems"][0]["detail"], doc
    assert (mine / "model.safetensors").is_file()
    doc = migrate(project, str(hub))
    assert doc["rc"] == 0, doc
    assert global_snapshot(project.global_cache, "acme/cloned", doc["items"][0]["revisions"][0]) == files


def test_remote_code_tokenizer_only_and_config_only_repos_are_models(project, tmp_path):
    tree = tmp_path / "models"
    remote = {
        **tiny_model_files("bert", seed=34),
        "modeling_tiny.py": b"class TinyModel: pass\n",
        "configuration_tiny.py": b"class TinyConfig: pass\n",
        "tokenization_tiny.py": b"class TinyTokenizer: pass\n",
        "handler.py": b"class EndpointHandler: pass\n",
    }
    tok = {"tokenizer.json": b'{"version": "1.0"}', "tokenizer_config.json": b"{}", "special_tokens_map.json": b"{}"}
    cfg = {"config.json": json.dumps({"model_type": "bert", "hidden_size": 8}).encode(), "README.md": b"# cfg\n"}
    build_plain_folder(tree / "acme" / "remote", remote)
    build_plain_folder(tree / "acme" / "tok", tok)
    build_plain_folder(tree / "acme" / "cfg", cfg)
    doc = migrate(project, str(tree))
    assert doc["rc"] == 0, doc
    for repo_id, files in (("acme/remote", remote), ("acme/tok", tok), ("acme/cfg", cfg)):
        rev = item_of(doc, repo_id)["revisions"][0]
        got = global_snapshot(project.global_cache, repo_id, rev)
        assert {k: sha(v) for k, v in got.items()} == {k: sha(v) for k, v in files.items()}
