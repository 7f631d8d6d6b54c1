"""The view as code and users meet it: a `linker env` shell never turns the view into the global cache (issue 10
§2), a view always pins `main` (§3), and a copy-mode view is self-contained and keeps its link mode (§6)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from testing.cachefactory import build_repo, tiny_model_files
from testing.hfprobe import hf_cli, load_file
from testing.repairkit import REPO, REV, lock_entry, run_json, synced, view_repo


def _env_of(project) -> dict[str, str]:
    """The variables `linker env` prints, as `eval "$(linker env)"` leaves them in the shell."""
    r = project.linker("env")
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        out[name] = value
    assert out["HF_HUB_CACHE"] == str(project.view)
    return out


def _linker_refs(repo: Path) -> list[str]:
    base = repo / "refs" / "linker"
    return sorted(p.name for p in base.iterdir()) if base.is_dir() else []


def _prunable(cache: Path) -> int:
    """How many revisions the real `hf cache prune` would delete."""
    proc = hf_cli(["cache", "prune", "--dry-run", "--cache-dir", str(cache), "--format", "json"], hub_cache=cache)
    assert proc.returncode == 0, proc.stderr
    return int(json.loads(proc.stdout)["revisions"]) if proc.stdout.strip() else 0


# ---------------------------------------------------------------------------------------------------------------
# §2: a shell that evaluated `linker env`


def test_sync_in_a_linker_env_shell_keeps_the_global_ref_in_the_global_cache(project) -> None:
    synced(project)
    grepo = project.global_cache / "models--org--tiny"
    before = _linker_refs(grepo)
    assert before and _prunable(project.global_cache) == 0
    env = _env_of(project)
    for args in (["sync"], ["sync", "--check"], ["status"], ["verify"]):
        r = project.linker(*args, env=env)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        notices = [line for line in r.stderr.splitlines() if "is a linker view" in line]
        assert len(notices) == 1 and str(project.global_cache) in notices[0], r.stderr
    assert _linker_refs(grepo) == before  # the project ref stays in the global cache
    assert _linker_refs(view_repo(project)) == []  # and none was written inside the view
    assert not (project.view / "models--org--tiny" / "refs" / "linker").exists()
    assert _prunable(project.global_cache) == 0  # `hf cache prune` spares the pin
    assert load_file(project.view, REPO, "config.json") == (grepo / "snapshots" / REV / "config.json").read_bytes()


def test_a_view_with_no_recorded_global_cache_falls_to_the_next_source(project) -> None:
    """HF_HUB_CACHE names the view and its manifest records nothing: huggingface_hub's next source
    (here HF_HOME/hub) is the global cache, never the view."""
    hf_home_hub = Path(os.environ["HF_HOME"]) / "hub"
    files = tiny_model_files("st", seed=1)
    info = build_repo(hf_home_hub, REPO, {REV: files}, refs={})
    project.write_lock([lock_entry(info)])
    env = _env_of(project)
    r = project.linker("sync", env=env)  # the first sync, in a shell that evaluated `linker env` already
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"using the global cache {hf_home_hub}" in r.stderr and "HF_HOME" in r.stderr
    assert _linker_refs(hf_home_hub / "models--org--tiny")
    assert _linker_refs(view_repo(project)) == []
    assert load_file(project.view, REPO, "config.json") == files["config.json"]


def test_doctor_explains_a_linker_env_shell(project) -> None:
    synced(project)
    r = project.linker("doctor", env=_env_of(project))
    assert "is a linker view" in r.stdout and str(project.global_cache) in r.stdout, r.stdout
    assert "FAIL  global-cache" not in r.stdout


# ---------------------------------------------------------------------------------------------------------------
# §3: a view always pins `main`


def test_a_tag_pin_loads_without_a_revision_offline(project) -> None:
    files = tiny_model_files("st", seed=3)
    info = build_repo(project.global_cache, REPO, {REV: files}, refs={})
    project.write_lock([{**lock_entry(info), "ref": "v1.0"}])  # what `linker add org/tiny@v1.0` writes
    r = project.linker("sync")
    assert r.returncode == 0, r.stdout + r.stderr
    refs = view_repo(project) / "refs"
    assert (refs / "main").read_text() == REV and (refs / "v1.0").read_text() == REV
    assert load_file(project.view, REPO, "config.json") == files["config.json"]  # unmodified code: no revision
    assert load_file(project.view, REPO, "config.json", revision="v1.0") == files["config.json"]
    assert project.linker("verify").returncode == 0

    (refs / "main").unlink()  # a view written before this rule, or a user's `rm`
    code, doc = run_json(project, "verify")
    assert code == 1 and any(p["kind"] == "bad-ref" and p["path"] == "refs/main" for p in doc["problems"]), doc
    assert project.linker("sync", "--check").returncode == 1
    assert project.linker("sync").returncode == 0
    assert (refs / "main").read_text() == REV
    assert load_file(project.view, REPO, "config.json") == files["config.json"]


def test_a_view_is_skipped_in_huggingface_hub_s_order_of_sources(tmp_path: Path, monkeypatch) -> None:
    from linker.globalcache import RECORDED, choose_global_cache

    def view_at(path: Path, **fields: str) -> Path:
        (path / ".locks").mkdir(parents=True)
        (path / ".locks" / "linker-manifest.json").write_text(json.dumps({"version": 2, **fields, "repos": {}}))
        return path

    view = view_at(tmp_path / "view")
    monkeypatch.setenv("HF_HUB_CACHE", str(view))
    monkeypatch.setenv("HUGGINGFACE_HUB_CACHE", str(tmp_path / "legacy"))
    chosen = choose_global_cache()
    assert (chosen.path, chosen.source, chosen.view) == (tmp_path / "legacy", "HUGGINGFACE_HUB_CACHE", view)
    assert chosen.notice and "HF_HUB_CACHE=" in chosen.notice and "chosen by HUGGINGFACE_HUB_CACHE" in chosen.notice
    monkeypatch.delenv("HUGGINGFACE_HUB_CACHE")
    assert choose_global_cache().path == Path(os.environ["HF_HOME"]) / "hub"
    monkeypatch.delenv("HF_HOME")
    assert choose_global_cache().path == Path(os.environ["XDG_CACHE_HOME"]) / "huggingface" / "hub"

    recorded = view_at(tmp_path / "view2", global_cache=str(tmp_path / "g"))
    chosen = choose_global_cache(recorded)  # --cache-dir naming a view that recorded its global cache
    assert (chosen.path, chosen.source) == (tmp_path / "g", RECORDED) and "--cache-dir is a linker view" in (
        chosen.notice or ""
    )
    looped = view_at(tmp_path / "view3", global_cache=str(view))  # a record naming a view is not taken either
    assert choose_global_cache(looped).path == Path(os.environ["XDG_CACHE_HOME"]) / "huggingface" / "hub"
    assert choose_global_cache(tmp_path / "plain").notice is None  # not a view: as huggingface_hub reads it
