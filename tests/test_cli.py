"""The `linker` command itself: --version, --help and usage errors."""

from __future__ import annotations

import subprocess
import sys


def test_version_help_and_usage_errors() -> None:
    run = lambda *a: subprocess.run([sys.executable, "-m", "linker", *a], capture_output=True, text=True)  # noqa: E731
    assert run("--version").stdout.startswith("linker, version")
    r = run("--help")
    assert r.returncode == 0 and "sync" in r.stdout and "status" in r.stdout
    assert run("sync", "--bogus").returncode == 2
    assert run("nosuchcommand").returncode == 2


def test_global_options_are_accepted_after_the_verb(project, tmp_path) -> None:
    """`linker sync -q`, `linker status --cache-dir G`, `linker verify -c FILE -v`: one mechanism for every verb."""
    from testing.synckit import lock_entry, two_revisions

    other = tmp_path / "other" / "hub"
    other.mkdir(parents=True)
    two_revisions(other)
    lock = tmp_path / "elsewhere.yaml"
    project.write_lock([lock_entry()])
    lock.write_text(project.lock_path.read_text().replace("models_cache", str(project.root / "models_cache")))
    project.lock_path.unlink()
    r = project.linker("sync", "-q", "--cache-dir", str(other), "-c", str(lock), "--allow-outside-project")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # -q after the verb hides the progress lines
    r = project.linker("status", "--cache-dir", str(other), "--config", str(lock), "--allow-outside-project")
    assert r.returncode == 0, r.stdout + r.stderr
    r = project.linker("verify", "-c", str(lock), "--cache-dir", str(other), "--allow-outside-project", "-q")
    assert r.returncode == 0, r.stdout + r.stderr
    # before and after the verb at once: the one after the verb wins for values, flags add up
    r = project.linker("--cache-dir", str(project.global_cache), "status", "--cache-dir", str(other), "-c", str(lock),
                       "--allow-outside-project")  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    # `run` keeps what follows its command for the command: `-c` there is python's
    r = project.linker("run", "-c", str(lock), "--allow-outside-project", "--", sys.executable, "-c", "print('ok')")
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr
