"""Test-only PYTHONPATH shim for linker subprocesses that meet a failing Hub: huggingface_hub's retry backoff
(1, 2, 4, 8, 8 s; or Retry-After + 1 s on a 429) becomes instant. Each requested sleep is appended to the file
named by HUB_SHIM_SLEEPS, so a test can prove the retries happened. linker itself knows nothing of this."""

import os
import time as _time
import types

try:
    import huggingface_hub.utils._http as _http
except Exception:  # pragma: no cover - the shim must never break a process
    _http = None

if _http is not None:
    _log = os.environ.get("HUB_SHIM_SLEEPS")

    def _sleep(seconds: float) -> None:
        if _log:
            with open(_log, "a") as f:
                f.write(f"{seconds}\n")

    _http.time = types.SimpleNamespace(**{k: getattr(_time, k) for k in dir(_time) if not k.startswith("_")})
    _http.time.sleep = _sleep
