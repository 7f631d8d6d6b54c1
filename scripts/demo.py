"""The end-to-end demo: `scripts/demo` runs this inside .venv. Nothing touches the real Hub or ~/.cache.

Each step lives in `scripts/demo_steps/<name>.py` with `run(demo)`; STEPS gives their order.
"""

from __future__ import annotations

import importlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

STEPS = ["sync", "workflows", "hub", "trust", "record", "migrate", "repair", "teams"]
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


class Demo:
    """Shared state of the demo: a temp folder with a global cache, a project, and (lazily) a local Hub."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.home = tmp / "home"
        self.global_cache = tmp / "global-cache" / "hub"
        self.project = tmp / "project"
        for p in (self.home, self.global_cache, self.project):
            p.mkdir(parents=True, exist_ok=True)
        self.hub_process: subprocess.Popen[str] | None = None
        self.endpoint: str | None = None
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"HF_TOKEN", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HUGGINGFACE_HUB_CACHE", "LINKER_CONFIG"}
        }
        self.env.update(
            HOME=str(self.home), HF_HOME=str(self.home / "hf"), XDG_CACHE_HOME=str(self.home / "xdg"),
            HF_HUB_CACHE=str(self.global_cache), HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_UPDATE_CHECK="1",
            NO_PROXY="127.0.0.1,localhost", PYTHONPATH=str(ROOT),
        )  # fmt: skip

    # presentation -------------------------------------------------------------------------------------------
    def step(self, title: str) -> None:
        print(f"\n{BOLD}== {title}{RESET}", flush=True)

    def say(self, text: str) -> None:
        print(f"{DIM}{text}{RESET}", flush=True)

    # running things -----------------------------------------------------------------------------------------
    def run(
        self,
        args: list[str],
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        expect: int | None = 0,
        show: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        shown = " ".join(shlex.quote(a) for a in args)
        if show:
            print(f"$ {shown}", flush=True)
        proc = subprocess.run(
            args, cwd=cwd or self.project, env={**self.env, **(env or {})}, text=True, capture_output=True
        )
        if show:
            for line in (proc.stdout + proc.stderr).rstrip().splitlines():
                print(f"  {line}")
        if expect is not None and proc.returncode != expect:
            raise SystemExit(f"demo failed: `{shown}` exited {proc.returncode}, expected {expect}")
        return proc

    def linker(
        self,
        *args: str,
        expect: int | None = 0,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        quiet: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """Run `linker ARGS` and show it with its output (unless quiet)."""
        exe = str(Path(sys.executable).with_name("linker"))
        proc = self.run([exe, *args], expect=expect, env=env, cwd=cwd, show=False)
        if quiet:
            return proc
        print(f"$ linker {' '.join(shlex.quote(a) for a in args)}", flush=True)
        for line in (proc.stdout + proc.stderr).rstrip().splitlines():
            print(f"  {line}")
        return proc

    def python(self, code: str, *, env: dict[str, str] | None = None, title: str = "") -> str:
        """Run Python in a fresh process (so HF_* variables are read at import) and return its stdout."""
        if title:
            print(f"$ python -c {shlex.quote(title)}", flush=True)
        proc = subprocess.run(
            [sys.executable, "-c", code],
            cwd=self.project,
            env={**self.env, **(env or {})},
            text=True,
            capture_output=True,
        )
        if proc.returncode != 0:
            raise SystemExit(f"demo failed: python snippet exited {proc.returncode}:\n{proc.stderr}")
        for line in proc.stdout.rstrip().splitlines():
            print(f"  {line}")
        return proc.stdout

    def offline_env(self, hub_cache: Path) -> dict[str, str]:
        """What a user's program sees under `linker run`: the view as HF_HUB_CACHE, offline, empty HF_HOME."""
        empty_home = Path(tempfile.mkdtemp(dir=self.tmp, prefix="empty-hf-home-"))
        return {"HF_HUB_CACHE": str(hub_cache), "HF_HUB_OFFLINE": "1", "HF_HOME": str(empty_home)}

    def start_hub(self) -> str:
        """Start the local Hub server (testing/hubserver) on 127.0.0.1 and point HF_ENDPOINT at it."""
        if self.endpoint:
            return self.endpoint
        store = self.tmp / "hub-store"
        store.mkdir(exist_ok=True)
        self.hub_process = subprocess.Popen(
            [sys.executable, "-m", "testing.hubserver", "--root", str(store)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.hub_process.stdout is not None
        info = json.loads(self.hub_process.stdout.readline())
        self.endpoint = info["endpoint"]
        self.env["HF_ENDPOINT"] = self.endpoint
        self.hub_store_root = store
        return self.endpoint

    def close(self) -> None:
        if self.hub_process:
            self.hub_process.terminate()
            self.hub_process.wait(timeout=10)


def main() -> int:
    only = sys.argv[1:] or STEPS
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="linker-demo-") as tmp:
        demo = Demo(Path(tmp))
        print(f"{BOLD}hf-linker demo{RESET} in {tmp} (offline: a local Hub on 127.0.0.1, a throwaway cache)")
        try:
            for name in STEPS:
                if name not in only:
                    continue
                module_path = ROOT / "scripts" / "demo_steps" / f"{name}.py"
                if module_path.exists():
                    importlib.import_module(f"demo_steps.{name}").run(demo)
        finally:
            demo.close()
    print(f"\n{BOLD}demo finished in {time.perf_counter() - start:.1f}s{RESET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
