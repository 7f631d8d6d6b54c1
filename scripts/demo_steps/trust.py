"""Demo step: trust. `sync --verify-hashes` hashes every blob it links and remembers what it verified; bit rot in
the global cache is caught, quarantined and fetched again; `linker audit` lists risky formats; `linker sbom`."""

from __future__ import annotations

import json


def run(demo) -> None:  # after the hub step: its project and its local Hub
    project = demo.tmp / "hub-project"
    quiet = {"HF_HUB_DISABLE_PROGRESS_BARS": "1"}

    demo.step("7b. sync --verify-hashes hashes every blob it links; a second run remembers them (a stat per file)")
    first = json.loads(demo.linker("sync", "--verify-hashes", "--json", cwd=project, env=quiet, quiet=True).stdout)
    again = json.loads(demo.linker("sync", "--verify-hashes", "--json", cwd=project, env=quiet, quiet=True).stdout)
    demo.say(f"first run hashed {first['hashes']['hashed']['files']} file(s); the second {again['hashes']['hashed']}")
    if again["hashes"]["hashed"]["files"] != 0:
        raise SystemExit("demo failed: a repeated sync --verify-hashes hashed again")

    demo.step("7c. Bit rot in the global cache: sync --verify-hashes quarantines the blob, the next sync fetches it")
    blob = next(p for p in (demo.global_cache / "models--acme--hub-bert" / "blobs").iterdir() if p.stat().st_size > 16)
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))
    demo.linker("sync", "--verify-hashes", cwd=project, env=quiet, expect=1)
    demo.linker("sync", cwd=project, env=quiet)
    demo.linker("verify", "--full", cwd=project)

    demo.step("7d. linker audit lists each pinned file's risk class; linker sbom writes CycloneDX (or SPDX)")
    demo.linker("audit", cwd=project)
    sbom = json.loads(demo.linker("sbom", cwd=project, quiet=True).stdout)
    for c in sbom["components"]:
        demo.say(f"{c['type']}: {c['purl']} ({len(c.get('components', []))} file(s))")
