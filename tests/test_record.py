"""`linker record` and `linker run --strict` (issue 11): the real huggingface_hub runs in CMD's process (and its
children) with linker's recorder on PYTHONPATH; a fake loader (testing/fakeloader.py) probes optional files the
way transformers does. The local Hub counts requests and bytes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from testing.hubhelpers import lock_entries, push

LOADER = str(Path(__file__).parent.parent / "testing" / "fakeloader.py")
LOADS = [
    {"repo": "acme/m", "file": "config.json"},
    {"repo": "acme/m", "file": "adapter_config.json", "optional": True},  # absent upstream, as usual
    {"repo": "acme/m", "file": "model.safetensors"},
]


def _plan(tmp_path: Path, loads: list[dict]) -> str:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(loads))
    return str(path)


def _out(r) -> str:
    return r.stdout + r.stderr


def test_the_loop_record_lock_sync_strict(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, "acme/m")
    cmd = [sys.executable, LOADER, _plan(tmp_path, LOADS)]
    r = project.linker("record", "--", *cmd, env=hub_env)  # 1. no lock yet: all of it is new
    assert r.returncode == 1, _out(r)
    assert "loaded acme/m model.safetensors" in r.stdout and "absent acme/m adapter_config.json" in r.stdout
    assert "new-repo" in r.stderr, r.stderr
    r = project.linker("record", "--lock", "--", *cmd, env=hub_env)  # 2. --lock
    assert r.returncode == 0, _out(r)
    e = lock_entries(project)["acme/m"]
    assert e.revision == sha and e.include == ("config.json", "model.safetensors")
    assert e.absent == ("adapter_config.json",) and set(e.files or {}) == {"config.json", "model.safetensors"}
    assert project.linker("record", "--", *cmd, env=hub_env).returncode == 0  # now covered
    assert project.linker("sync", env=hub_env).returncode == 0  # 3. sync
    marker = project.view / "models--acme--m" / ".no_exist" / sha / "adapter_config.json"
    assert marker.is_file()
    assert project.linker("verify", env=hub_env).returncode == 0
    r = project.linker("run", "--strict", "--", *cmd)  # 4. passes offline (no Hub in this environment)
    assert r.returncode == 0, _out(r)
    assert "absent acme/m adapter_config.json" in r.stdout
    more = _plan(tmp_path, [*LOADS, {"repo": "acme/m", "file": "vocab.txt"}])  # 5. one more file
    cmd = [sys.executable, LOADER, more]
    r = project.linker("run", "--strict", "--", *cmd)  # 6. fails, naming it
    assert r.returncode == 1, _out(r)
    assert "acme/m: vocab.txt (not in the lock: linker record --lock -- " in r.stderr, r.stderr
    r = project.linker("record", "--lock", "--", *cmd, env=hub_env)  # 7. record --lock again
    assert r.returncode == 0, _out(r)
    assert lock_entries(project)["acme/m"].include == ("config.json", "model.safetensors", "vocab.txt")
    assert project.linker("sync", env=hub_env).returncode == 0
    r = project.linker("run", "--strict", "--", *cmd)  # 8. passes
    assert r.returncode == 0, _out(r)


def test_strict_without_markers_fails_on_the_optional_probe(project, hub_store, hub, hub_env, tmp_path):
    push(hub_store, "acme/m")
    cmd = [sys.executable, LOADER, _plan(tmp_path, LOADS)]
    assert project.linker("record", "--lock", "--", *cmd, env=hub_env).returncode == 0
    lines = project.lock_path.read_text().splitlines(keepends=True)
    project.lock_path.write_text("".join(x for x in lines if "absent:" not in x))
    assert "absent" not in project.lock_path.read_text()
    assert project.linker("sync", env=hub_env).returncode == 0
    r = project.linker("run", "--strict", "--", *cmd)
    assert r.returncode == 1, _out(r)
    assert "acme/m: adapter_config.json (not in the lock" in r.stderr, r.stderr
    r = project.linker("record", "--", *cmd, env=hub_env)  # record names the probe the lock does not record
    assert r.returncode == 1 and "absent-unrecorded" in r.stderr, _out(r)


def test_record_on_a_warm_cache_with_a_sha_makes_no_request(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, "acme/m")
    cmd = [sys.executable, LOADER, _plan(tmp_path, [{**x, "revision": sha} for x in LOADS])]
    assert project.linker("record", "--lock", "--", *cmd, env=hub_env).returncode == 0  # warms the global cache
    hub.clear_log()
    r = project.linker("record", "--json", "--", *cmd, env=hub_env)
    assert r.returncode == 0, _out(r)
    assert hub.requests == []
    doc = json.loads(r.stdout[r.stdout.index("{") :])
    (repo,) = doc["repos"]
    assert repo["loaded"] == ["config.json", "model.safetensors"] and repo["absent"] == ["adapter_config.json"]
    assert repo["commits"] == [sha] and doc["covered"] is True


def test_lock_holds_only_loaded_files_and_sync_downloads_only_their_bytes(project, hub_store, hub, hub_env, tmp_path):
    big = {"pytorch_model.bin": b"\x01" * 3_000_000, "onnx/model.onnx": b"\x02" * 2_000_000,
           "onnx/model_quantized.onnx": b"\x03" * 1_000_000}  # fmt: skip
    files = {"config.json": b'{"model_type": "bert"}', "model.safetensors": b"\x00" * 200_000, **big}
    push(hub_store, "acme/m", files=files)
    cmd = [sys.executable, LOADER, _plan(tmp_path, LOADS)]
    assert project.linker("record", "--lock", "--", *cmd, env=hub_env).returncode == 0
    assert set(lock_entries(project)["acme/m"].files or {}) == {"config.json", "model.safetensors"}
    hub.clear_log()
    fresh = tmp_path / "fresh-global"  # a machine that has nothing yet
    r = project.linker("sync", env={**hub_env, "HF_HUB_CACHE": str(fresh)})
    assert r.returncode == 0, _out(r)
    sent = sum(q["bytes"] for q in hub.requests if "/resolve/" in q["path"] or q["origin"] == "cdn")
    assert 200_000 <= sent < 300_000, sent  # the 6 MB of pytorch_model.bin and onnx/ never crossed the wire
    assert project.linker("run", "--strict", "--", *cmd, env={"HF_HUB_CACHE": str(fresh)}).returncode == 0


def test_record_sees_lookups_in_child_processes(project, hub_store, hub, hub_env, tmp_path):
    push(hub_store, "acme/m")
    push(hub_store, "acme/other", seed=1)
    loads = [*LOADS, {"repo": "acme/other", "file": "vocab.txt", "child": True}]
    r = project.linker("record", "--lock", "--", sys.executable, LOADER, _plan(tmp_path, loads), env=hub_env)
    assert r.returncode == 0, _out(r)
    assert lock_entries(project)["acme/other"].include == ("vocab.txt",)


def test_cmd_exit_code_and_output_pass_through_and_other_sitecustomize_runs(project, tmp_path):
    other = tmp_path / "other-site"
    other.mkdir()
    (other / "sitecustomize.py").write_text(f"open({str(tmp_path / 'ran')!r}, 'w').close()\n")
    code = "import sys, huggingface_hub; print('out'); print('err', file=sys.stderr); sys.exit(3)"
    r = project.linker("record", "--", sys.executable, "-c", code, env={"PYTHONPATH": str(other)})
    assert r.returncode == 3 and r.stdout == "out\n", _out(r)
    assert r.stderr.startswith("err\n"), r.stderr
    assert (tmp_path / "ran").exists()  # the program's own sitecustomize still ran


def test_absent_is_validated_strictly(project, hub_store):
    sha = "a" * 40
    project.write_lock([{"id": "acme/m", "revision": sha, "absent": "adapter_config.json"}])
    r = project.linker("status")
    assert r.returncode == 2 and "`absent` must be a list" in r.stderr, r.stderr
    files = {"config.json": {"size": 2, "hash": "b" * 40}}
    project.write_lock([{"id": "acme/m", "revision": sha, "files": files, "absent": ["config.json"]}])
    r = project.linker("status")
    assert r.returncode == 2 and "`files` has it" in r.stderr, r.stderr


def test_lock_widens_an_entry_and_only_exact_narrows_it(project, hub_store, hub, hub_env, tmp_path):
    sha = push(hub_store, "acme/m")
    project.lock_path.write_text(
        f"version: 1\nmodels:\n  # the encoder\n  - id: acme/m\n    revision: {sha}\n"
        "    include: [tokenizer_config.json]\n"
    )
    cmd = [sys.executable, LOADER, _plan(tmp_path, LOADS)]
    r = project.linker("record", "--", *cmd, env=hub_env)
    assert r.returncode == 1 and "acme/m: model.safetensors (left-out" in r.stderr, _out(r)
    assert project.linker("record", "--lock", "--", *cmd, env=hub_env).returncode == 0
    e = lock_entries(project)["acme/m"]
    assert e.include == ("tokenizer_config.json", "config.json", "model.safetensors")  # widened, not narrowed
    assert e.absent == ("adapter_config.json",) and "# the encoder" in project.lock_path.read_text()
    assert project.linker("record", "--lock", "--exact", "--", *cmd, env=hub_env).returncode == 0
    e = lock_entries(project)["acme/m"]
    assert e.include == ("config.json", "model.safetensors") and set(e.files or {}) == set(e.include)


def test_record_sees_plain_snapshot_download(project, hub_store, hub, hub_env, tmp_path):
    push(hub_store, "acme/m")
    code = (
        "from huggingface_hub import snapshot_download; print(snapshot_download('acme/m', allow_patterns=['*.json']))"
    )
    r = project.linker("record", "--json", "--lock", "--", sys.executable, "-c", code, env=hub_env)
    assert r.returncode == 0, _out(r)
    doc = json.loads(r.stdout[r.stdout.index("{") :])
    assert doc["repos"][0]["loaded"] == ["config.json", "special_tokens_map.json", "tokenizer_config.json"]
    assert project.linker("sync", env=hub_env).returncode == 0
    r = project.linker("run", "--strict", "--", sys.executable, "-c", code)
    assert r.returncode == 0, _out(r)
    other = "from huggingface_hub import hf_hub_download; hf_hub_download('acme/z', 'config.json')"
    r = project.linker("run", "--strict", "--", sys.executable, "-c", other)  # a repo the lock does not have
    assert r.returncode == 1 and "acme/z: config.json (not in the lock" in r.stderr, _out(r)
    assert "Traceback" in r.stderr  # CMD's own error passes through


def test_record_sees_what_datasets_load_dataset_reads(project, hub_store, hub, hub_env, tmp_path):
    rows = {"data/train.jsonl": b'{"text": "a", "label": 0}\n', "data/unused.parquet": b"\x00" * 50_000}
    push(hub_store, "org/rows", repo_type="dataset", files={**rows, "README.md": b"# rows\n"})
    code = "from datasets import load_dataset; load_dataset('org/rows', data_files='data/train.jsonl', split='train')"
    env = {**hub_env, "HF_DATASETS_CACHE": str(tmp_path / "datasets-cache")}
    r = project.linker("record", "--lock", "--", sys.executable, "-c", code, env=env)
    assert r.returncode == 0, _out(r)
    e = lock_entries(project)["dataset:org/rows"]
    assert "data/train.jsonl" in e.include and "data/unused.parquet" not in (e.files or {})
