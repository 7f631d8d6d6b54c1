"""Run the real huggingface_hub in an isolated subprocess and bring back a JSON result.

Each call gets a fresh `sys.executable` process (hub reads its environment once, at import), an empty
temporary HF_HOME, telemetry / progress bars / update checks disabled, and none of the caller's
Hugging Face / transformers variables unless `env` sets them explicitly.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_MARKER = "@@HFPROBE-RESULT@@"

# Inherited variables that would leak the caller's setup into the probe. Everything with these
# prefixes is dropped, which covers HF_TOKEN, HF_ENDPOINT, HF_HUB_CACHE, HF_HUB_DISABLE_SYMLINKS,
# HUGGINGFACE_HUB_CACHE, HUGGING_FACE_HUB_TOKEN, TRANSFORMERS_OFFLINE, TRANSFORMERS_CACHE, ...
_STRIP_PREFIXES = ("HF_", "HUGGINGFACE_", "HUGGING_FACE_", "TRANSFORMERS_")
_STRIP_NAMES = (
    "SENTENCE_TRANSFORMERS_HOME",
    "PYTORCH_TRANSFORMERS_CACHE",
    "PYTORCH_PRETRAINED_BERT_CACHE",
)


class HfProbeError(RuntimeError):
    """The probe subprocess failed (non-zero exit, timeout, or no result line)."""

    def __init__(self, message: str, *, returncode: int | None, stdout: str, stderr: str):
        super().__init__(f"{message}\n--- stderr ---\n{stderr[-8000:]}\n--- stdout ---\n{stdout[-2000:]}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def isolated_env(
    *,
    hub_cache: str | os.PathLike | None,
    hf_home: str | os.PathLike,
    env: Mapping[str, str | None] | None = None,
    offline: bool = True,
) -> dict[str, str]:
    """The environment a probe runs with. A `None` value in `env` removes that variable."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(_STRIP_PREFIXES) and k not in _STRIP_NAMES}
    out["HF_HOME"] = os.fspath(hf_home)
    out["HF_HUB_DISABLE_TELEMETRY"] = "1"
    out["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    out["HF_HUB_DISABLE_UPDATE_CHECK"] = "1"  # no PyPI check, no `hf-cli` skill hint
    out["HF_HUB_DISABLE_SYMLINKS_WARNING"] = "1"
    out["PYTHONIOENCODING"] = "utf-8"
    if hub_cache is not None:
        out["HF_HUB_CACHE"] = os.fspath(hub_cache)
    if offline:
        out["HF_HUB_OFFLINE"] = "1"
    for k, v in (env or {}).items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


_PRELUDE = """\
import json as _hfprobe_json
params = _hfprobe_json.loads({params!r})
result = None
"""

_EPILOGUE = """
import sys as _hfprobe_sys
_hfprobe_sys.stdout.flush()
print("\\n" + {marker!r} + _hfprobe_json.dumps(result), flush=True)
"""


def run_hf(
    code: str,
    *,
    hub_cache: str | os.PathLike | None,
    env: Mapping[str, str | None] | None = None,
    offline: bool = True,
    timeout: float = 60,
    params: Any = None,
    cwd: str | os.PathLike | None = None,
) -> Any:
    """Run `code` in a fresh interpreter and return the JSON value it assigns to `result`.

    `params` (JSON-able) is available to the code as the variable `params`. Raises `HfProbeError`
    (with stderr) on a non-zero exit, a timeout or a missing result.
    """
    script = _PRELUDE.format(params=json.dumps(params)) + textwrap.dedent(code) + _EPILOGUE.format(marker=_MARKER)
    hf_home = tempfile.mkdtemp(prefix="hfprobe-home-")
    try:
        script_path = Path(hf_home) / "_probe.py"
        script_path.write_text(script, encoding="utf-8")
        try:
            proc = subprocess.run(
                [sys.executable, os.fspath(script_path)],
                env=isolated_env(hub_cache=hub_cache, hf_home=hf_home, env=env, offline=offline),
                cwd=cwd,
                capture_output=True,
                text=True,
                encoding="utf-8",
                timeout=timeout,
            )
        except subprocess.TimeoutExpired as e:
            raise HfProbeError(
                f"probe timed out after {timeout}s",
                returncode=None,
                stdout=_text(e.stdout),
                stderr=_text(e.stderr),
            ) from e
    finally:
        shutil.rmtree(hf_home, ignore_errors=True)
    if proc.returncode != 0:
        raise HfProbeError(
            f"probe exited with {proc.returncode}",
            returncode=proc.returncode,
            stdout=proc.stdout,
            stderr=proc.stderr,
        )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(_MARKER):
            return json.loads(line[len(_MARKER) :])
    raise HfProbeError("probe printed no result", returncode=0, stdout=proc.stdout, stderr=proc.stderr)


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def hf_cli(
    args: list[str],
    *,
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike | None = None,
    hub_cache: str | os.PathLike | None = None,
    offline: bool = True,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the real `hf` CLI next to `sys.executable`, isolated like `run_hf`. Never raises on exit code."""
    hf = Path(sys.executable).parent / ("hf.exe" if os.name == "nt" else "hf")
    hf_home = tempfile.mkdtemp(prefix="hfprobe-home-")
    try:
        return subprocess.run(
            [os.fspath(hf), *args],
            env=isolated_env(hub_cache=hub_cache, hf_home=hf_home, env=env, offline=offline),
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=timeout,
        )
    finally:
        shutil.rmtree(hf_home, ignore_errors=True)


# --------------------------------------------------------------------------------------------------
# Convenience probes. Errors are reported as the exception class name (a `str`), so tests can assert
# on e.g. "LocalEntryNotFoundError" / "IncompleteSnapshotError" without parsing tracebacks.

_LOAD_FILE = """
import base64
from huggingface_hub import hf_hub_download
try:
    p = hf_hub_download(
        params["repo_id"], params["filename"], revision=params["revision"], repo_type=params["repo_type"]
    )
    with open(p, "rb") as f:
        result = {"data": base64.b64encode(f.read()).decode(), "path": p}
except Exception as e:
    result = {"error": type(e).__name__, "message": str(e)}
"""


def load_file(
    cache: str | os.PathLike,
    repo_id: str,
    filename: str,
    revision: str | None = None,
    repo_type: str = "model",
    *,
    env: Mapping[str, str | None] | None = None,
) -> bytes | str:
    """Offline `hf_hub_download` with HF_HUB_CACHE=cache: the file's bytes, or the exception class name."""
    r = run_hf(
        _LOAD_FILE,
        hub_cache=cache,
        env=env,
        params={"repo_id": repo_id, "filename": filename, "revision": revision, "repo_type": repo_type},
    )
    if "error" in r:
        return r["error"]
    return base64.b64decode(r["data"])


_SNAPSHOT_FILES = """
import hashlib, os
from huggingface_hub import snapshot_download
try:
    root = snapshot_download(
        params["repo_id"],
        revision=params["revision"],
        repo_type=params["repo_type"],
        allow_patterns=params["allow_patterns"],
        local_files_only=params["local_files_only"],
    )
    files = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        for name in filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root).replace(os.sep, "/")
            with open(full, "rb") as f:
                files[rel] = hashlib.sha256(f.read()).hexdigest()
    result = {"files": files, "path": root}
except Exception as e:
    result = {"error": type(e).__name__, "message": str(e)}
"""


def snapshot_files(
    cache: str | os.PathLike,
    repo_id: str,
    revision: str | None = None,
    repo_type: str = "model",
    *,
    allow_patterns: list[str] | str | None = None,
    local_files_only: bool = False,
    env: Mapping[str, str | None] | None = None,
) -> dict[str, str] | str:
    """Offline `snapshot_download`, then sha256 of every file: {repo path: sha256}, or the exception name.

    Offline means HF_HUB_OFFLINE=1; `local_files_only=True` is also passed to the call if asked (the two
    differ for a sha revision with a cached tree listing: offline alone still walks the download loop).
    """
    r = run_hf(
        _SNAPSHOT_FILES,
        hub_cache=cache,
        env=env,
        params={
            "repo_id": repo_id,
            "revision": revision,
            "repo_type": repo_type,
            "allow_patterns": allow_patterns,
            "local_files_only": local_files_only,
        },
    )
    if "error" in r:
        return r["error"]
    return r["files"]


_TRY_LOAD = """
import hashlib
from huggingface_hub import try_to_load_from_cache, _CACHED_NO_EXIST
r = try_to_load_from_cache(
    params["repo_id"], params["filename"], revision=params["revision"], repo_type=params["repo_type"]
)
if r is _CACHED_NO_EXIST:
    result = "NO_EXIST"
elif r is None:
    result = None
else:
    with open(r, "rb") as f:
        result = hashlib.sha256(f.read()).hexdigest()
"""


def try_load(
    cache: str | os.PathLike,
    repo_id: str,
    filename: str,
    revision: str | None = None,
    repo_type: str = "model",
    *,
    env: Mapping[str, str | None] | None = None,
) -> str | None:
    """`try_to_load_from_cache`: "NO_EXIST" (the sentinel), None (miss) or the file's sha256."""
    return run_hf(
        _TRY_LOAD,
        hub_cache=cache,
        env=env,
        params={"repo_id": repo_id, "filename": filename, "revision": revision, "repo_type": repo_type},
    )


_SCAN = """
from huggingface_hub import scan_cache_dir
info = scan_cache_dir(params["cache"])
repos = []
for repo in sorted(info.repos, key=lambda r: (r.repo_type, r.repo_id)):
    revisions = []
    for rev in sorted(repo.revisions, key=lambda r: r.commit_hash):
        revisions.append({
            "commit_hash": rev.commit_hash,
            "refs": sorted(rev.refs),
            "nb_files": rev.nb_files,
            "size_on_disk": rev.size_on_disk,
            "snapshot_path": str(rev.snapshot_path),
            "files": sorted(
                (
                    {
                        "file_name": f.file_name,
                        "file_path": str(f.file_path),
                        "blob_path": str(f.blob_path),
                        "size_on_disk": f.size_on_disk,
                    }
                    for f in rev.files
                ),
                key=lambda d: d["file_path"],
            ),
        })
    repos.append({
        "repo_id": repo.repo_id,
        "repo_type": repo.repo_type,
        "repo_path": str(repo.repo_path),
        "nb_files": repo.nb_files,
        "size_on_disk": repo.size_on_disk,
        "refs": {name: rev.commit_hash for name, rev in repo.refs.items()},
        "revisions": revisions,
    })
result = {
    "repos": repos,
    "warnings": [str(w) for w in info.warnings],
    "size_on_disk": info.size_on_disk,
    "incomplete_files": sorted(str(f.file_path) for f in info.incomplete_files),
}
"""


def scan(cache: str | os.PathLike, *, env: Mapping[str, str | None] | None = None) -> dict:
    """`scan_cache_dir(cache)` as JSON.

    {"repos": [{"repo_id", "repo_type", "repo_path", "nb_files", "size_on_disk", "refs": {name: commit},
    "revisions": [{"commit_hash", "refs", "nb_files", "size_on_disk", "snapshot_path", "files": [...]}]}],
    "warnings": [str], "size_on_disk": int, "incomplete_files": [str]}
    """
    return run_hf(_SCAN, hub_cache=cache, env=env, params={"cache": os.fspath(cache)})
