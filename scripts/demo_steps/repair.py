"""Demo step: break a synced project the way users do (a blob deleted from the global cache, bit rot in another,
a hand-edited ref, a stale `.no_exist` marker, a leftover download), watch `linker verify` find it, `linker repair`
fix it (quarantine, re-fetch from the local Hub, relink), then move the global cache and repair offline."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from testing.cachefactory import etag_for, tiny_model_files
from testing.hubserver import HubStore

REPO = "acme/fragile"
LOAD = (
    "import hashlib, json, sys\n"
    "from huggingface_hub import hf_hub_download\n"
    "want = json.loads(sys.argv[1])\n"
    "for name, digest in want.items():\n"
    "    got = hashlib.sha256(open(hf_hub_download('acme/fragile', name), 'rb').read()).hexdigest()\n"
    "    print(f'{name}: ' + ('the pinned bytes' if got == digest else 'WRONG BYTES'))\n"
)


def run(demo) -> None:  # demo: scripts/demo.py's Demo
    demo.step("12. A project synced from the local Hub... then broken the way users break things")
    demo.start_hub()
    store = HubStore(demo.hub_store_root)
    files = tiny_model_files("st", seed=31)
    store.create_repo(REPO, exist_ok=True)
    store.commit(REPO, files)
    project = demo.tmp / "repair-project"
    project.mkdir(exist_ok=True)
    quiet = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    demo.linker("add", REPO, cwd=project, quiet=True)
    demo.linker("sync", cwd=project, env=quiet)
    g_repo = demo.global_cache / "models--acme--fragile"
    view_repo = project / "models_cache" / "models--acme--fragile"
    revision = (view_repo / "refs" / "main").read_text()

    gone = g_repo / "blobs" / etag_for("modules.json", files["modules.json"])
    os.remove(gone)
    demo.say(f"rm {gone.relative_to(demo.tmp)}                       # hf cache rm / a cleanup script")
    rotten = Path(os.path.realpath(g_repo / "blobs" / etag_for("model.safetensors", files["model.safetensors"])))
    data = bytearray(rotten.read_bytes())
    data[-1] ^= 0xFF
    os.chmod(rotten, 0o644)
    rotten.write_bytes(bytes(data))
    demo.say("flipped one byte of model.safetensors in the global cache   # bit rot, a bad copy")
    with open(view_repo / "refs" / "main", "a") as f:
        f.write("\n")
    demo.say("echo $sha > models_cache/.../refs/main                       # a ref with a trailing newline")
    marker = view_repo / ".no_exist" / revision / "config.json"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    demo.say("touch models_cache/.../.no_exist/<sha>/config.json           # a stale marker hides config.json")
    leftover = g_repo / "blobs" / f"{etag_for('vocab.txt', files['vocab.txt'])}.0badf00d.incomplete"
    leftover.write_bytes(b"half a download")
    demo.say("...and a .incomplete file from a download killed midway")

    demo.step("13. linker verify finds what is broken (fast: presence, links, sizes, refs); --full also hashes")
    demo.linker("verify", cwd=project, expect=1)
    demo.linker("verify", "--full", cwd=project, expect=1)

    demo.step("14. linker repair: the plan (--dry-run), then the fixes; verify --full passes; the pin loads offline")
    demo.linker("repair", "--dry-run", cwd=project, expect=1)
    demo.linker("repair", cwd=project, env=quiet)
    demo.linker("verify", "--full", cwd=project)
    want = {
        name: hashlib.sha256(files[name]).hexdigest() for name in ("modules.json", "model.safetensors", "config.json")
    }
    _load(demo, project, want)

    demo.step("15. The global cache moves and HF_HUB_CACHE follows: every view link dangles; repair relinks offline")
    moved = demo.tmp / "new-disk" / "hub"
    moved.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(demo.global_cache), str(moved))
    demo.global_cache = moved
    demo.env["HF_HUB_CACHE"] = str(moved)
    demo.say(f"mv global-cache/hub {moved.relative_to(demo.tmp)}; export HF_HUB_CACHE={moved}")
    demo.linker("verify", cwd=project, expect=1, quiet=True)
    demo.say("linker verify: exit 1 (every file: dangling-link)")
    demo.linker("repair", "--offline", cwd=project)
    _load(demo, project, want)

    demo.step("16. linker doctor: the environment in effect, and what in it would load the wrong thing")
    (project / "acme" / "fragile").mkdir(parents=True)
    demo.linker("doctor", cwd=project, expect=1, env={"TRANSFORMERS_CACHE": str(demo.tmp / "old-transformers")})
    shutil.rmtree(project / "acme")


def _load(demo, project, want: dict[str, str]) -> None:
    import json

    out = demo.python(
        f"import sys; sys.argv = ['load', {json.dumps(json.dumps(want))}]\n" + LOAD,
        env=demo.offline_env(project / "models_cache"),
        title="hf_hub_download('acme/fragile', ...)  # HF_HUB_CACHE=models_cache HF_HUB_OFFLINE=1",
    )
    if "WRONG BYTES" in out or out.count("the pinned bytes") != len(want):
        raise SystemExit("demo failed: the repaired view did not serve the pinned bytes")
