"""Demo step: from code to lock. `linker record --lock` writes what a script really loads (only those files, and
the optional file it probed that is absent upstream), sync links just that, and `run --strict` proves offline that
the lock is enough; a script that loads one more file fails, naming it."""

from __future__ import annotations

import sys

from testing.cachefactory import tiny_model_files
from testing.hubserver import HubStore

APP = """from huggingface_hub import hf_hub_download, try_to_load_from_cache
from huggingface_hub.errors import RemoteEntryNotFoundError
from huggingface_hub.file_download import _CACHED_NO_EXIST
repo = "acme/rec-bert"
if try_to_load_from_cache(repo, "adapter_config.json") is not _CACHED_NO_EXIST:  # as transformers probes it
    try:
        hf_hub_download(repo, "adapter_config.json")
    except RemoteEntryNotFoundError:
        pass
for name in FILES:
    hf_hub_download(repo, name)
print("loaded", ", ".join(FILES))
"""


def run(demo) -> None:  # demo: scripts/demo.py's Demo
    demo.step("7e. From code to lock: linker record --lock writes what app.py loads; run --strict proves it offline")
    demo.start_hub()
    store = HubStore(demo.hub_store_root)
    store.create_repo("acme/rec-bert")
    big = {"pytorch_model.bin": b"\x01" * 2_000_000, "onnx/model.onnx": b"\x02" * 2_000_000}
    store.commit("acme/rec-bert", {**tiny_model_files("bert", seed=21), **big})
    project = demo.tmp / "record-project"
    project.mkdir()
    app = project / "app.py"
    app.write_text('FILES = ["config.json", "model.safetensors"]\n' + APP)
    quiet = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    demo.linker("record", "--lock", "--", sys.executable, "app.py", cwd=project, env=quiet)
    print("\n".join("  " + line for line in (project / "project_cache.yaml").read_text().splitlines()[2:8]))
    demo.linker("sync", cwd=project, env=quiet)
    demo.linker("run", "--strict", "--", sys.executable, "app.py", cwd=project)
    demo.say("app.py now also loads vocab.txt, which the lock does not have:")
    app.write_text('FILES = ["config.json", "model.safetensors", "vocab.txt"]\n' + APP)
    demo.linker("run", "--strict", "--", sys.executable, "app.py", cwd=project, expect=1)
    demo.linker("record", "--lock", "--", sys.executable, "app.py", cwd=project, env=quiet, quiet=True)
    demo.linker("sync", cwd=project, env=quiet, quiet=True)
    demo.linker("run", "--strict", "--", sys.executable, "app.py", cwd=project)
