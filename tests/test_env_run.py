"""`linker env` and `linker run`: code run under them reads the view, offline."""

from __future__ import annotations

import sys

from testing.synckit import lock_entry, two_revisions


def test_env_and_run_point_code_at_the_view(project) -> None:
    _info, old, _ = two_revisions(project.global_cache)
    project.write_lock([lock_entry()])
    assert project.linker("sync").returncode == 0
    r = project.linker("env")
    assert r.stdout.splitlines() == [f"export HF_HUB_CACHE={project.view}", "export HF_HUB_OFFLINE=1"]
    code = (
        "import sys; from huggingface_hub import hf_hub_download, constants;"
        "sys.stdout.write(open(hf_hub_download('org/tiny','config.json')).read());"
        "sys.exit(0 if constants.HF_HUB_OFFLINE else 5)"
    )
    r = project.linker("run", "--", sys.executable, "-c", code)
    assert r.returncode == 0, r.stderr
    assert r.stdout.encode() == old["config.json"]
    assert project.linker("run", "--", sys.executable, "-c", "raise SystemExit(7)").returncode == 7
