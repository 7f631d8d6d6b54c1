"""Demo step: the Hub. `linker add` pins models from a local Hub server, `lock --check` / `lock --upgrade` keep
the pins honest, `sync` downloads then links, `verify --remote` checks the pins for CI, and the view loads offline."""

from __future__ import annotations

from testing.cachefactory import tiny_model_files
from testing.hubserver import HubStore


def run(demo) -> None:  # demo: scripts/demo.py's Demo
    demo.step("4. A local Hub on 127.0.0.1 (HF_ENDPOINT) serves two small models; linker add pins them")
    endpoint = demo.start_hub()
    store = HubStore(demo.hub_store_root)
    store.create_repo("acme/hub-embedder")
    v1 = store.commit("acme/hub-embedder", tiny_model_files("st", seed=11), message="v1.0")
    store.tag("acme/hub-embedder", "v1.0", v1)
    store.commit("acme/hub-embedder", {"README.md": "# work in progress on main\n"})
    store.create_repo("acme/hub-bert")
    store.commit("acme/hub-bert", tiny_model_files("bert", seed=12))
    demo.say(f"HF_ENDPOINT={endpoint}  (acme/hub-embedder: tag v1.0 is behind main)")
    project = demo.tmp / "hub-project"
    project.mkdir()
    quiet = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}
    demo.linker("add", "acme/hub-embedder@v1.0", cwd=project)
    demo.linker("add", "acme/hub-bert", "--include", "*.json", "--include", "*.safetensors", cwd=project)
    shown, files_seen = [], 0
    for line in (project / "project_cache.yaml").read_text().splitlines():
        files_seen = files_seen + 1 if "{size:" in line else 0
        if files_seen <= 2:
            shown.append(line)
        elif files_seen == 3:
            shown.append("      ...")
    print("\n".join(shown))

    demo.step("5. CI keeps pins honest: lock --check, then a push to main makes lock --upgrade --check fail")
    demo.linker("lock", "--check", cwd=project)
    store.commit("acme/hub-bert", {"config.json": b'{"model_type": "bert", "retrained": true}\n'}, message="retrain")
    demo.linker("lock", "--upgrade", "--check", cwd=project, expect=1)
    demo.linker("lock", "--upgrade", cwd=project)

    demo.step("5b. An entry written by hand (just the id) is pinned by linker lock; until then sync refuses")
    store.create_repo("acme/hub-tiny")
    tiny = store.commit("acme/hub-tiny", tiny_model_files("bert", seed=13))
    lock = project / "project_cache.yaml"
    lock.write_text(lock.read_text() + "  # added by hand; `linker lock` pins it\n  - id: acme/hub-tiny\n")
    demo.linker("sync", cwd=project, env=quiet, expect=2)
    demo.linker("lock", cwd=project)
    if f"revision: {tiny}" not in lock.read_text() or "# added by hand" not in lock.read_text():
        raise SystemExit("demo failed: linker lock did not pin the hand-written entry")

    demo.step(
        "6. linker sync downloads the missing pins with huggingface_hub, then links them; a warm sync asks nothing"
    )
    demo.linker("sync", cwd=project, env=quiet)
    demo.linker("sync", cwd=project, env=quiet)
    demo.linker("verify", "--remote", cwd=project)

    demo.step("7. The view loads offline: the tag's pin, not main")
    out = demo.python(
        "from huggingface_hub import hf_hub_download\n"
        "readme = open(hf_hub_download('acme/hub-embedder', 'README.md', revision='v1.0')).read()\n"
        "print('README.md at v1.0:', readme.splitlines()[-1])\n"
        "cfg = open(hf_hub_download('acme/hub-bert', 'config.json')).read()\n"
        "print('acme/hub-bert config.json:', cfg.strip())\n",
        env=demo.offline_env(project / "models_cache"),
        title="hf_hub_download(...)  # HF_HUB_CACHE=models_cache HF_HUB_OFFLINE=1",
    )
    if "work in progress" in out or "retrained" not in out:
        raise SystemExit("demo failed: the view did not serve the pinned revisions")
