"""Demo step: a team's lockfile, `linker sync` from a global cache, `linker status`, an offline load."""

from __future__ import annotations

import json

from testing.cachefactory import build_repo, fake_commit, tiny_model_files


def run(demo) -> None:
    demo.step("1. A global HF cache holds two revisions of a model; the project pins the older one")
    old_rev, new_rev = fake_commit("demo-st", 1), fake_commit("demo-st", 2)
    old, new = tiny_model_files("st", seed=1), tiny_model_files("st", seed=2)
    new["config.json"] = old["config.json"].replace(b"}", b', "revision": "new"}', 1)
    build_repo(demo.global_cache, "acme/tiny-embedder", {old_rev: old, new_rev: new}, refs={"main": new_rev})
    build_repo(demo.global_cache, "acme/tiny-bert", {fake_commit("demo-bert"): tiny_model_files("bert", seed=3)})
    demo.say(f"global cache: {demo.global_cache}  (refs/main of acme/tiny-embedder -> {new_rev[:7]})")
    (demo.project / "project_cache.yaml").write_text(
        "version: 1\n"
        "cache_dir: models_cache\n"
        "models:\n"
        "  - id: acme/tiny-embedder\n"
        f"    revision: {old_rev}   # pinned: older than main\n"
        "  - id: acme/tiny-bert\n"
        f"    revision: {fake_commit('demo-bert')}\n"
        '    include: ["*.json", "*.txt", "*.safetensors"]\n'
    )
    print((demo.project / "project_cache.yaml").read_text())

    demo.step("2. linker sync links exactly the pinned revisions into models_cache/ (no copy of the weights)")
    demo.linker("sync", "--dry-run")
    demo.linker("sync")
    demo.linker("sync")
    demo.linker("status")

    demo.step("3. Unmodified code loads the pin offline, with an empty HF_HOME")
    env = demo.offline_env(demo.project / "models_cache")
    out = demo.python(
        "from huggingface_hub import hf_hub_download, scan_cache_dir\n"
        "import json\n"
        "cfg = json.load(open(hf_hub_download('acme/tiny-embedder', 'config.json')))\n"
        "print('loaded config.json of acme/tiny-embedder without a revision:', "
        "'pinned (old) revision' if 'revision' not in cfg else 'main (new) revision')\n"
        "info = scan_cache_dir()\n"
        "print('scan_cache_dir(models_cache):', [r.repo_id for r in info.repos], 'warnings:', info.warnings)\n",
        env=env,
        title="hf_hub_download('acme/tiny-embedder', 'config.json')  # HF_HUB_CACHE=models_cache HF_HUB_OFFLINE=1",
    )
    if "pinned (old) revision" not in out:
        raise SystemExit("demo failed: the view did not serve the pinned revision")
    demo.linker("env")
    demo.linker("run", "--", "python", "-c", "import os; print('HF_HUB_OFFLINE =', os.environ['HF_HUB_OFFLINE'])")
    status = json.loads(demo.linker("status", "--json", quiet=True).stdout)
    if not all(e["state"] == "linked" for e in status["entries"]):
        raise SystemExit(f"demo failed: not all linked: {status}")
