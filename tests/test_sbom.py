"""`linker sbom` (issue 12, "An SBOM"): CycloneDX 1.6 and SPDX 2.3 JSON of the pinned entries, judged by the official
validators (cyclonedx-python-lib's strict JSON validator, spdx-tools' parser and full validation) and with every
purl parsed back by packageurl-python."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.spdx import is_supported_id
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL
from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from linker.sbom.licenses import HUB_TO_SPDX
from linker.sbom.validate import problems
from testing import fsfaults
from testing.cachefactory import build_repo, fake_commit, git_blob_sha1, sha256_hex

MODEL, DATA = fake_commit("sbom-model", 1), fake_commit("sbom-data", 1)
WEIGHTS = b"\x00weights" * 1000
CONFIG = b'{"hidden_size": 8}'
CARD = (
    b"---\nlicense: apache-2.0\npipeline_tag: text-classification\nlibrary_name: transformers\n"
    b"tags: [tiny, test]\ndatasets:\n  - org/rows\n  - someone/else\nbase_model: org/base\n---\n# A model\n"
)
ROWS = b'{"text": "a"}\n'
DEFAULT = {"HF_ENDPOINT": None}  # conftest points HF_ENDPOINT at a closed port; None: the real default


@pytest.fixture
def pinned(project: Any) -> Any:
    """A synced view: a model whose lock lists its files (card, config, LFS weights) and a dataset without."""
    model = {"README.md": CARD, "config.json": CONFIG, "model.safetensors": WEIGHTS}
    build_repo(project.global_cache, "org/model", {MODEL: model})
    build_repo(project.global_cache, "org/rows", {DATA: {"data/train.jsonl": ROWS}}, repo_type="dataset")
    files = {
        "README.md": {"size": len(CARD), "hash": git_blob_sha1(CARD)},
        "config.json": {"size": len(CONFIG), "hash": git_blob_sha1(CONFIG)},
        "model.safetensors": {"size": len(WEIGHTS), "hash": sha256_hex(WEIGHTS)},
    }
    project.write_lock(
        [
            {"id": "org/model", "revision": MODEL, "files": files},
            {"id": "org/rows", "type": "dataset", "revision": DATA},
        ]
    )
    r = project.linker("sync", "--offline")
    assert r.returncode == 0, r.stdout + r.stderr
    return project


def _sbom(project: Any, *args: str, env: dict[str, Any] | None = None) -> dict[str, Any]:
    r = project.linker("sbom", *args, env=env if env is not None else DEFAULT)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)  # the document alone on stdout


def _cyclonedx_errors(doc: dict[str, Any]) -> Any:
    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))


def _spdx_errors(doc: dict[str, Any]) -> list[str]:
    return [m.validation_message for m in validate_full_spdx_document(JsonLikeDictParser().parse(doc))]


def test_cyclonedx_is_valid_1_6_with_a_component_per_entry_and_its_files(pinned: Any) -> None:
    doc = _sbom(pinned)
    assert _cyclonedx_errors(doc) is None
    assert (doc["bomFormat"], doc["specVersion"]) == ("CycloneDX", "1.6")
    model, rows = doc["components"]
    assert (model["type"], model["group"], model["name"], model["version"]) == (
        "machine-learning-model",
        "org",
        "model",
        MODEL,
    )
    p = PackageURL.from_string(model["purl"])
    assert (p.type, p.namespace, p.name, p.version, p.qualifiers) == ("huggingface", "org", "model", MODEL, {})
    files = {f["name"]: f for f in model["components"]}
    assert set(files) == {"README.md", "config.json", "model.safetensors"}
    assert all(f["type"] == "file" for f in files.values())
    assert files["model.safetensors"]["hashes"] == [{"alg": "SHA-256", "content": sha256_hex(WEIGHTS)}]
    # a git blob's sha1 is not the SHA-1 of the bytes: it is the file's gitoid, never a SHA-1 "hash"
    assert "hashes" not in files["config.json"]
    assert files["config.json"]["omniborId"] == [f"gitoid:blob:sha1:{git_blob_sha1(CONFIG)}"]
    assert files["config.json"]["swhid"] == [f"swh:1:cnt:{git_blob_sha1(CONFIG)}"]
    # the model card, from the view's README.md front matter
    assert model["licenses"] == [{"license": {"id": "Apache-2.0"}}]
    params = model["modelCard"]["modelParameters"]
    assert params["task"] == "text-classification"
    assert params["datasets"] == [{"ref": rows["bom-ref"]}, {"type": "dataset", "name": "someone/else"}]
    tags = [p["value"] for p in model["modelCard"]["properties"] if p["name"] == "huggingface:tag"]
    assert tags == ["tiny", "test"]


def test_a_dataset_is_data_and_its_purl_names_the_datasets_repository(pinned: Any) -> None:
    doc = _sbom(pinned)
    rows = doc["components"][1]
    assert (rows["type"], rows["name"], rows["version"]) == ("data", "rows", DATA)
    p = PackageURL.from_string(rows["purl"])
    assert (p.namespace, p.name, p.version) == ("org", "rows", DATA)
    assert p.qualifiers == {"repository_url": "https://huggingface.co/datasets"}  # never a model's purl
    (f,) = rows["components"]
    assert (f["name"], f["omniborId"]) == ("data/train.jsonl", [f"gitoid:blob:sha1:{git_blob_sha1(ROWS)}"])


def test_spdx_is_valid_2_3_with_the_same_content(pinned: Any) -> None:
    doc = _sbom(pinned, "--format", "spdx")
    assert _spdx_errors(doc) == []
    assert doc["spdxVersion"] == "SPDX-2.3"
    packages = {p["SPDXID"]: p for p in doc["packages"]}
    model = next(p for p in doc["packages"] if p["name"] == "org/model")
    (ref,) = [r["referenceLocator"] for r in model["externalRefs"] if r["referenceType"] == "purl"]
    p = PackageURL.from_string(ref)
    assert (p.type, p.namespace, p.name, p.version) == ("huggingface", "org", "model", MODEL)
    assert (model["versionInfo"], model["licenseDeclared"]) == (MODEL, "Apache-2.0")
    assert "text-classification" in model["description"]
    contained = {
        packages[r["relatedSpdxElement"]]["name"]: packages[r["relatedSpdxElement"]]
        for r in doc["relationships"]
        if r["spdxElementId"] == model["SPDXID"] and r["relationshipType"] == "CONTAINS"
    }
    assert set(contained) == {"README.md", "config.json", "model.safetensors"}
    assert contained["model.safetensors"]["checksums"] == [
        {"algorithm": "SHA256", "checksumValue": sha256_hex(WEIGHTS)}
    ]
    gitoids = [r["referenceLocator"] for r in contained["config.json"]["externalRefs"]]
    assert f"gitoid:blob:sha1:{git_blob_sha1(CONFIG)}" in gitoids
    (described,) = [r["relatedSpdxElement"] for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
    assert packages[described]["name"] == pinned.root.name  # the project, which depends on every entry
    deps = [r["relatedSpdxElement"] for r in doc["relationships"] if r["spdxElementId"] == described]
    assert [packages[d]["name"] for d in deps] == ["org/model", "org/rows"]


def test_a_mirror_endpoint_is_named_in_the_purl_without_its_userinfo(pinned: Any) -> None:
    env = {"HF_ENDPOINT": "https://alice:hf_mirrorsecret123@mirror.example.com:8443/"}
    for fmt in ("cyclonedx", "spdx"):
        r = pinned.linker("sbom", "--format", fmt, env=env)
        assert r.returncode == 0, r.stderr
        assert "hf_mirrorsecret123" not in r.stdout + r.stderr
        assert "alice" not in r.stdout + r.stderr
        doc = json.loads(r.stdout)
        if fmt == "cyclonedx":
            assert _cyclonedx_errors(doc) is None
            purls = [c["purl"] for c in doc["components"]]
        else:
            assert _spdx_errors(doc) == []
            purls = [
                e["referenceLocator"]
                for p in doc["packages"]
                for e in p.get("externalRefs", ())
                if e["referenceType"] == "purl"
            ]
        qualifiers = [PackageURL.from_string(p).qualifiers for p in purls]
        assert qualifiers == [
            {"repository_url": "https://mirror.example.com:8443"},
            {"repository_url": "https://mirror.example.com:8443/datasets"},
        ]


def test_a_local_endpoint_still_gives_valid_documents(pinned: Any) -> None:
    env = {"HF_ENDPOINT": "http://127.0.0.1:9"}  # no DNS name: SPDX download locations become NOASSERTION
    assert _cyclonedx_errors(_sbom(pinned, env=env)) is None
    assert _spdx_errors(_sbom(pinned, "--format", "spdx", env=env)) == []


def test_output_file_replaces_the_old_one_atomically(pinned: Any, tmp_path: Path) -> None:
    out = pinned.root / "sbom.cdx.json"
    out.write_text("old")
    r = pinned.linker("sbom", "-o", str(out), env=DEFAULT)
    assert (r.returncode, r.stdout) == (0, "")  # the document goes to the file only
    assert _cyclonedx_errors(json.loads(out.read_text())) is None
    assert sorted(p.name for p in pinned.root.iterdir() if p.name.startswith(".sbom")) == []
    with fsfaults.small_tmpfs(tmp_path / "full", "1m") as full:
        target = full / "sbom.json"
        target.write_text("old")
        _fill(full / "filler")
        r = pinned.linker("sbom", "--format", "spdx", "-o", str(target), env=DEFAULT)
        assert r.returncode == 1, r.stdout + r.stderr
        assert len(r.stderr.strip().splitlines()) == 1 and str(target) in r.stderr and "Traceback" not in r.stderr
        assert target.read_text() == "old"  # never a truncated document
        assert sorted(p.name for p in full.iterdir()) == ["filler", "sbom.json"]


def _fill(path: Path) -> None:
    """Write `path` until its filesystem is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_exit_codes(pinned: Any) -> None:
    r = pinned.linker("sbom", "org/nope", env=DEFAULT)
    assert r.returncode == 2 and "org/nope" in r.stderr and r.stdout == ""
    r = pinned.linker("sbom", "--format", "swid", env=DEFAULT)
    assert r.returncode == 2
    r = pinned.linker("sbom", "-o", str(pinned.lock_path / "x.json"), env=DEFAULT)  # a file as the folder
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    doc = _sbom(pinned, "org/model", "--validate")
    assert [c["name"] for c in doc["components"]] == ["model"]
    pinned.write_lock([{"id": "org/model", "revision": "main"}])
    r = pinned.linker("sbom", env=DEFAULT)
    assert r.returncode == 2 and "linker lock" in r.stderr


def test_sbom_needs_no_extra_and_validate_says_how_to_get_it(pinned: Any, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    for name in ("cyclonedx", "spdx_tools", "packageurl"):
        (blocked / name).mkdir(parents=True)
        (blocked / name / "__init__.py").write_text(f"raise ImportError('not installed', name={name!r})\n")
    env = {**DEFAULT, "PYTHONPATH": str(blocked)}
    for fmt in ("cyclonedx", "spdx"):
        r = pinned.linker("sbom", "--format", fmt, env=env)
        assert r.returncode == 0, r.stderr
        json.loads(r.stdout)
        r = pinned.linker("sbom", "--format", fmt, "--validate", env=env)
        assert (r.returncode, r.stdout) == (2, "")
        assert "hf-linker[sbom]" in r.stderr and "Traceback" not in r.stderr
        assert r.stderr.startswith("error: --validate needs the sbom extra")


def test_reproducible_with_source_date_epoch(pinned: Any) -> None:
    env = {**DEFAULT, "SOURCE_DATE_EPOCH": "1700000000"}
    for fmt in ("cyclonedx", "spdx"):
        first = pinned.linker("sbom", "--format", fmt, env=env)
        second = pinned.linker("sbom", "--format", fmt, env=env)
        assert first.returncode == 0 and first.stdout == second.stdout
        assert "2023-11-14T22:13:20Z" in first.stdout


def test_a_card_is_read_safely(project: Any) -> None:
    card = b"---\nlicense: !!python/object/apply:os.system ['touch pwned']\n---\n"
    build_repo(project.global_cache, "org/evil", {MODEL: {"README.md": card}})
    other = project.root / "outside.md"
    other.write_bytes(b"---\nlicense: mit\n---\n")
    build_repo(project.global_cache, "org/linked", {DATA: {"README.md": b"---\nlicense: mit\n---\n"}})
    project.write_lock([{"id": "org/evil", "revision": MODEL}, {"id": "org/linked", "revision": DATA}])
    assert project.linker("sync", "--offline").returncode == 0
    snap = project.view / "models--org--linked" / "snapshots" / DATA / "README.md"
    snap.unlink()
    snap.symlink_to(other)  # the view's card now points out of the view and the global cache: not read
    doc = _sbom(project)
    assert not (project.root / "pwned").exists()
    assert all("modelCard" not in c and "licenses" not in c for c in doc["components"])
    assert _cyclonedx_errors(doc) is None


def test_every_mapped_hub_license_is_an_spdx_id() -> None:
    assert [s for s in HUB_TO_SPDX.values() if not is_supported_id(s)] == []


def test_an_empty_lock_and_a_local_revision_give_valid_documents(project: Any) -> None:
    project.write_lock([])
    assert _cyclonedx_errors(_sbom(project)) is None
    assert _spdx_errors(_sbom(project, "--format", "spdx")) == []
    build_repo(project.global_cache, "org/migrated", {MODEL: {"config.json": CONFIG}})
    project.write_lock([{"id": "org/migrated", "revision": MODEL, "local": True}])
    assert project.linker("sync", "--offline").returncode == 0
    doc = _sbom(project)
    assert _cyclonedx_errors(doc) is None
    (c,) = doc["components"]
    assert {"name": "hf-linker:local", "value": "true"} in c["properties"]
    assert "externalReferences" not in c  # no Hub has this revision
    spdx = _sbom(project, "--format", "spdx")
    assert _spdx_errors(spdx) == []
    assert next(p for p in spdx["packages"] if p["name"] == "org/migrated")["downloadLocation"] == "NOASSERTION"


def test_a_file_list_not_from_the_lock_or_a_tree_is_flagged(project: Any) -> None:
    build_repo(project.global_cache, "org/notree", {MODEL: {"config.json": CONFIG}}, trees=False)
    project.write_lock([{"id": "org/notree", "revision": MODEL}])
    assert project.linker("sync", "--offline").returncode == 0
    r = project.linker("sbom", "-o", "-", env=DEFAULT)  # `-`: stdout
    assert r.returncode == 0, r.stderr
    assert "warning: org/notree: the file list comes from the snapshot listing" in r.stderr
    (c,) = json.loads(r.stdout)["components"]
    assert {"name": "hf-linker:file-list", "value": "snapshot"} in c["properties"]
    assert c["components"][0]["omniborId"] == [f"gitoid:blob:sha1:{git_blob_sha1(CONFIG)}"]  # from the link


def test_validate_reports_what_the_official_validators_reject() -> None:
    assert problems({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [{"type": "nope"}]}, "cyclonedx")
    assert problems({"spdxVersion": "SPDX-2.3"}, "spdx")


def test_sbom_starts_without_huggingface_hub(pinned: Any) -> None:
    env = {**os.environ, "HF_HUB_CACHE": str(pinned.global_cache)}
    env.pop("HF_ENDPOINT")
    cmd = [sys.executable, "-X", "importtime", "-m", "linker", "sbom", "--format", "spdx"]
    r = subprocess.run(cmd, cwd=pinned.root, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")}
    assert "linker.sbom.spdx" in imported
    assert not {m for m in imported if m.split(".")[0] in ("huggingface_hub", "cyclonedx", "spdx_tools")}
