"""Demo step: the workflows that used to lose a pin: a shell after `eval "$(linker env)"`, a copied and deleted
project (`linker gc`), a self-contained copy view with no global cache, and `linker.activate()` after an import."""

from __future__ import annotations

import shutil


def _refs(demo, repo: str = "models--acme--tiny-embedder") -> list[str]:
    refs = demo.global_cache / repo / "refs"
    return sorted(str(p.relative_to(refs)) for p in refs.rglob("*") if p.is_file())


def run(demo) -> None:
    view = demo.project / "models_cache"

    demo.step('3b. A shell after `eval "$(linker env)"`: sync still writes its ref into the global cache')
    before = _refs(demo)
    demo.linker("sync", env={"HF_HUB_CACHE": str(view), "HF_HUB_OFFLINE": "1"})
    demo.say(f"global refs of acme/tiny-embedder: {_refs(demo)}")
    if _refs(demo) != before or (view / "models--acme--tiny-embedder" / "refs" / "linker").exists():
        raise SystemExit("demo failed: a linker env shell moved the project ref")

    demo.step("3c. A copied project gets its own ref; once it is deleted, `linker gc` removes only that one")
    copy = demo.tmp / "project-copy"
    shutil.copytree(demo.project, copy, symlinks=True)
    demo.linker("sync", cwd=copy)
    demo.say(f"global refs: {_refs(demo)}")
    shutil.rmtree(copy)
    demo.linker("gc", "--dry-run")
    demo.linker("gc")
    if _refs(demo) != before:
        raise SystemExit(f"demo failed: gc left {_refs(demo)}, expected {before}")

    demo.step("3d. A copy-mode view is self-contained: moved, with no global cache at all, it verifies and loads")
    image = demo.tmp / "image" / "app"
    shutil.copytree(demo.project, image.parent / "build", symlinks=True)
    demo.linker("sync", "--link-mode", "copy", cwd=image.parent / "build")
    (image.parent / "build").rename(image)  # as a Docker COPY would: new place, no global cache
    empty = demo.tmp / "no-global-cache"
    demo.linker("verify", "--full", cwd=image, env={"HF_HUB_CACHE": str(empty)})
    demo.linker("sync", "--check", cwd=image, env={"HF_HUB_CACHE": str(empty)})
    out = demo.python(
        "import json; from huggingface_hub import hf_hub_download\n"
        "cfg = json.load(open(hf_hub_download('acme/tiny-embedder', 'config.json')))\n"
        "print('pinned' if 'revision' not in cfg else 'main')\n",
        env={**demo.offline_env(image / "models_cache")},
        title="hf_hub_download('acme/tiny-embedder', 'config.json')  # in the moved copy view, offline",
    )
    if "pinned" not in out:
        raise SystemExit("demo failed: the copy view did not serve the pin")

    demo.step("3e. linker.activate() after huggingface_hub was imported: a load without a revision gets the pin")
    out = demo.python(
        "import json, huggingface_hub, linker\n"
        "linker.activate()\n"
        "cfg = json.load(open(huggingface_hub.hf_hub_download('acme/tiny-embedder', 'config.json')))\n"
        "print('pinned' if 'revision' not in cfg else 'main', 'at', linker.revision('acme/tiny-embedder')[:7])\n",
        title="import huggingface_hub, linker; linker.activate(); hf_hub_download('acme/tiny-embedder', ...)",
    )
    if "pinned" not in out:
        raise SystemExit("demo failed: activate() did not serve the pin")
