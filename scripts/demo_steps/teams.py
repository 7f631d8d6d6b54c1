"""Demo step: teams and fleets: a CI cache key, a shared read-only tier under a personal cache, moving the cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every entry under `root`: (size, mtime_ns), links not followed: what a read-only tier must keep."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            out[os.path.relpath(os.path.join(dirpath, name), root)] = (st.st_size, st.st_mtime_ns)
    return out


def run(demo) -> None:
    project = demo.project
    demo.step("17. linker cache-key: one digest of the pins, for CI caches (order and comments do not change it)")
    key = demo.linker("cache-key").stdout.strip()
    lock = project / "project_cache.yaml"
    text = lock.read_text()
    lock.write_text(
        "# reformatted by a teammate\n" + text.replace("cache_dir: models_cache\n", "") + "cache_dir: models_cache\n"
    )
    again = demo.linker("cache-key").stdout.strip()
    lock.write_text(text)
    if key != again:
        raise SystemExit("demo failed: reformatting the lock changed the cache key")

    demo.step("18. A shared read-only tier: a teammate with an empty cache links the admins' copy, downloads nothing")
    tier = demo.tmp / "shared" / "hub"
    shutil.copytree(demo.global_cache, tier, symlinks=True)
    before = _tree(tier)
    mate = demo.tmp / "teammate"
    shutil.copytree(project, mate, symlinks=True, ignore=shutil.ignore_patterns("models_cache"))
    own_cache = demo.tmp / "teammate-cache" / "hub"
    env = {"HF_HUB_CACHE": str(own_cache), "LINKER_SHARED_CACHES": str(tier), "HF_HUB_OFFLINE": "1"}
    demo.say(f"export LINKER_SHARED_CACHES={tier}  HF_HUB_CACHE={own_cache} (empty)  HF_HUB_OFFLINE=1")
    demo.linker("sync", cwd=mate, env=env)
    demo.linker("status", cwd=mate, env=env)
    demo.linker("verify", "--full", cwd=mate, env=env)
    demo.linker("doctor", cwd=mate, env=env)
    if _tree(tier) != before:
        raise SystemExit("demo failed: sync wrote into the shared tier")
    out = demo.python(
        "from huggingface_hub import snapshot_download\nprint(snapshot_download('acme/tiny-embedder'))\n",
        env={**demo.offline_env(mate / "models_cache")},
        title="snapshot_download('acme/tiny-embedder')  # in the teammate's view, offline",
    )
    if "snapshots" not in out:
        raise SystemExit("demo failed: the teammate's view did not load")

    demo.step("19. linker cache move: the global cache to a bigger disk; every known project is relinked")
    bigger = demo.tmp / "bigger-disk" / "hub"
    demo.linker("cache", "move", str(bigger), "--dry-run", cwd=project)
    demo.linker("cache", "move", str(bigger), cwd=project)
    demo.global_cache = bigger
    demo.env["HF_HUB_CACHE"] = str(bigger)
    demo.linker("verify", cwd=project)
