"""Demo step: `linker migrate` turns models stored the old ways into the global HF cache, without re-downloading:
a sentence-transformers 2.2 cache folder (its revision found on the local Hub by hashing), an `hf download
--local-dir` copy (exact revision from its metadata) and a private fine-tune (a local revision). Then `--lock`,
`linker sync`, and an offline load of the original bytes from the view."""

from __future__ import annotations

import hashlib

from testing.cachefactory import build_local_dir, build_plain_folder, build_st_legacy, tiny_model_files
from testing.hubserver import HubStore


def run(demo) -> None:  # demo: scripts/demo.py's Demo
    demo.step("8. Models stored the old ways: a sentence-transformers 2.2 cache, a --local-dir copy, a fine-tune")
    demo.start_hub()
    store = HubStore(demo.hub_store_root)
    legacy = tiny_model_files("st", seed=21)
    store.create_repo("acme/legacy-embedder")
    legacy_rev = store.commit("acme/legacy-embedder", legacy, message="v1")
    store.commit("acme/legacy-embedder", {"README.md": "# v2 on main\n"}, message="v2")  # main moved on
    ld_files = tiny_model_files("bert", seed=22)
    store.create_repo("acme/ld-bert")
    ld_rev = store.commit("acme/ld-bert", ld_files)
    old = demo.tmp / "old-machine"
    st_root = old / "torch" / "sentence_transformers"
    st_folder = build_st_legacy(st_root, "acme/legacy-embedder", legacy)
    local_dir = build_local_dir(old / "downloads" / "acme" / "ld-bert", ld_files, ld_rev).local_dir
    tuned = tiny_model_files("bert", seed=23)
    tuned_dir = build_plain_folder(old / "data" / "models" / "acme" / "tuned-bert", tuned)
    for p in (st_folder, local_dir, tuned_dir):
        demo.say(f"{p.relative_to(demo.tmp)}/  ({sum(1 for f in p.rglob('*') if f.is_file())} files)")

    demo.step("9. linker migrate --dry-run: what moves where, the bytes, which revision and why")
    project = demo.tmp / "migrate-project"
    project.mkdir()
    sources = [str(st_root), str(local_dir), str(old / "data" / "models")]
    demo.linker("migrate", *sources, "--dry-run", cwd=project)

    demo.step("10. linker migrate --lock moves them by rename (no byte copied) and pins them; sync links them")
    demo.linker("migrate", *sources, "--lock", cwd=project)
    lock_text = (project / "project_cache.yaml").read_text()
    shown, files_seen = [], 0
    for line in lock_text.splitlines():  # the files maps are long: show their first lines
        files_seen = files_seen + 1 if "{size:" in line else 0
        if files_seen <= 1:
            shown.append(line)
        elif files_seen == 2:
            shown.append("      ...")
    print("\n".join(shown))
    if legacy_rev not in lock_text or ld_rev not in lock_text:
        raise SystemExit("demo failed: migrate did not find the Hub revisions")
    demo.linker("sync", cwd=project)
    demo.linker("verify", "--remote", cwd=project)
    left = [str(p.relative_to(old)) for p in old.rglob("*") if p.is_file()]
    demo.say(f"files left in the old places: {len(left)} " + ", ".join(sorted(left)[:3]))

    demo.step("11. The view loads offline, with the original bytes")
    code = (
        "import hashlib\n"
        "from huggingface_hub import hf_hub_download\n"
        "for repo, f in [('acme/legacy-embedder', 'modules.json'), ('acme/ld-bert', 'model.safetensors'),\n"
        "                ('acme/tuned-bert', 'model.safetensors')]:\n"
        "    print(repo, f, hashlib.sha256(open(hf_hub_download(repo, f), 'rb').read()).hexdigest()[:16])\n"
    )
    out = demo.python(
        code,
        env=demo.offline_env(project / "models_cache"),
        title="hf_hub_download(repo, file)  # HF_HUB_CACHE=models_cache HF_HUB_OFFLINE=1",
    )
    want = [
        hashlib.sha256(legacy["modules.json"]).hexdigest()[:16],
        hashlib.sha256(ld_files["model.safetensors"]).hexdigest()[:16],
        hashlib.sha256(tuned["model.safetensors"]).hexdigest()[:16],
    ]
    if [line.split()[-1] for line in out.strip().splitlines()] != want:
        raise SystemExit("demo failed: the migrated models did not load with their original bytes")
