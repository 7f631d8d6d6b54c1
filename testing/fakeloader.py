"""A fake model loader for `linker record` / `run --strict` tests: loads files with the real huggingface_hub the
way transformers does (optional files probed with try_to_load_from_cache first, a `.no_exist` marker meaning
"absent", then hf_hub_download, where a 404 means absent and "not cached offline" is an error).

Usage: python testing/fakeloader.py PLAN.json, where PLAN is a list of
{"repo": id, "file": path, "optional": bool, "revision": rev or null, "child": bool}. A load with "child" runs in a
child python process. Prints `loaded <repo> <file>` or `absent <repo> <file>` per load."""

from __future__ import annotations

import json
import subprocess
import sys


def load(repo: str, name: str, optional: bool, revision: str | None) -> str | None:
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.errors import RemoteEntryNotFoundError
    from huggingface_hub.file_download import _CACHED_NO_EXIST

    if optional:
        cached = try_to_load_from_cache(repo, name, revision=revision)
        if cached is _CACHED_NO_EXIST:
            return None
        if isinstance(cached, str):
            return cached
    try:
        return hf_hub_download(repo, name, revision=revision)
    except RemoteEntryNotFoundError:
        if optional:
            return None
        raise


def main(plan_path: str) -> int:
    with open(plan_path) as f:
        plan = json.load(f)
    for item in plan:
        if item.get("child"):
            one = [{**item, "child": False}]
            path = f"{plan_path}.child.json"
            with open(path, "w") as f:
                json.dump(one, f)
            subprocess.run([sys.executable, __file__, path], check=True)
            continue
        got = load(item["repo"], item["file"], bool(item.get("optional")), item.get("revision"))
        print(f"{'loaded' if got else 'absent'} {item['repo']} {item['file']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
