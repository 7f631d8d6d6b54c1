"""The HTTP client huggingface_hub uses inside linker (installed with its public `set_client_factory`).

* Every request gets a deadline, `LINKER_HUB_TIMEOUT` seconds (default 30, 0 = none): connect, send and each read
  are bounded by it, and so is the whole request until its body starts; a body must then keep at least
  `MIN_RATE` bytes/s on average, so a server that trickles bytes cannot hold us either. A passed deadline raises
  `HubDeadline`, which huggingface_hub does not retry.
* 429 and 5xx answers are retried here, honouring `Retry-After`, as long as the wait fits in the same budget
  (at most `MAX_RETRIES` times); retries are counted and summed up in one line at exit, never logged raw.
* huggingface_hub's own log records and warnings are kept off the terminal: warnings become one `warning:` line.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NoReturn
from urllib.parse import urlsplit

from ..errors import env_seconds
from ..redact import scrub_text

ENV = "LINKER_HUB_TIMEOUT"
DEFAULT_TIMEOUT = 30.0
MIN_RATE = 8 * 1024  # bytes/s: a body slower than this on average, after the first deadline, is cut
MAX_RETRIES = 5
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class HubDeadline(Exception):
    """A request to `origin` passed its deadline of `seconds`."""

    def __init__(self, origin: str, seconds: float) -> None:
        super().__init__(f"{origin} did not answer within {seconds:g} s ({ENV})")
        self.origin, self.seconds = origin, seconds


def origin_of(url: object) -> str:
    """scheme://host[:port] of a URL, without userinfo."""
    parts = urlsplit(str(url))
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def timeout_from_env(warn: Callable[[str], None]) -> float | None:
    """`LINKER_HUB_TIMEOUT` in seconds (None = no deadline); an invalid value is warned about once, then 30 s."""
    return env_seconds(ENV, DEFAULT_TIMEOUT, lambda why: warn(f"warning: {why}")) or None


class _Settings:
    timeout: float | None = DEFAULT_TIMEOUT
    retries: dict[int, int] = {}  # status -> retries made after it
    lock = threading.Lock()


def retries_made() -> dict[int, int]:
    """How many times requests were retried in this process, by the status that made us retry."""
    with _Settings.lock:
        return dict(_Settings.retries)


def retry_summary() -> str | None:
    """One line counting the retries of this process, or None."""
    made = retries_made()
    if not made:
        return None
    by = ", ".join(f"HTTP {status} x{n}" for status, n in sorted(made.items()))
    return f"note: {sum(made.values())} Hub request(s) retried after {by}"


def _retry_after(headers: Any) -> float | None:
    value = (headers.get("retry-after") or "").strip()
    return float(value) if value.isdigit() else None


def _make_client_class() -> type:
    import httpx2

    class DeadlineStream(httpx2.SyncByteStream):
        def __init__(self, inner: Any, origin: str, start: float, seconds: float) -> None:
            self.inner, self.origin, self.start, self.seconds = inner, origin, start, seconds

        def __iter__(self) -> Iterator[bytes]:
            received = 0
            try:
                for chunk in self.inner:
                    received += len(chunk)
                    if time.monotonic() > self.start + self.seconds + received / MIN_RATE:
                        raise HubDeadline(self.origin, self.seconds)
                    yield chunk
            except httpx2.TimeoutException:
                raise HubDeadline(self.origin, self.seconds) from None

        def close(self) -> None:
            self.inner.close()

    class DeadlineClient(httpx2.Client):
        def send(self, request: httpx2.Request, *, stream: bool = False, **kwargs: Any) -> httpx2.Response:
            seconds = _Settings.timeout
            origin = origin_of(request.url)
            start = time.monotonic()
            attempt = 0
            while True:
                attempt += 1
                if seconds is not None:
                    request.extensions = {**request.extensions, "timeout": httpx2.Timeout(seconds).as_dict()}
                attempt_start = time.monotonic()
                try:
                    response = super().send(request, stream=True, **kwargs)
                except httpx2.TimeoutException:
                    if seconds is None:  # no deadline of ours: huggingface_hub's own timeouts, its own handling
                        raise
                    raise HubDeadline(origin, seconds) from None
                if seconds is not None:
                    response.stream = DeadlineStream(response.stream, origin, attempt_start, seconds)
                wait = self._retry_wait(response, attempt, start, seconds)
                if wait is None:
                    break
                response.close()
                with _Settings.lock:
                    _Settings.retries[response.status_code] = _Settings.retries.get(response.status_code, 0) + 1
                time.sleep(wait)
            if not stream:
                try:
                    response.read()
                except BaseException:
                    response.close()
                    raise
            return response

        @staticmethod
        def _retry_wait(response: httpx2.Response, attempt: int, start: float, seconds: float | None) -> float | None:
            """Seconds to wait before retrying `response`, or None to hand it over as it is."""
            if response.status_code not in RETRY_STATUSES:
                return None
            if attempt > MAX_RETRIES:
                _give_up(response, attempt - 1)
            wait = _retry_after(response.headers)
            wait = float(min(2 ** (attempt - 1), 8)) if wait is None else wait
            if seconds is not None and time.monotonic() + wait > start + seconds:
                _give_up(response, attempt - 1)
            return wait

    return DeadlineClient


def _give_up(response: Any, retries: int) -> NoReturn:
    """Raise huggingface_hub's own error for a 429/5xx we stop retrying (so its backoff does not retry it again),
    with `linker_retries` set to the retries made."""
    from huggingface_hub.utils import hf_raise_for_status

    response.read()
    try:
        hf_raise_for_status(response)
    except Exception as exc:
        exc.linker_retries = retries  # type: ignore[attr-defined]
        raise
    raise AssertionError(f"HTTP {response.status_code} did not raise")  # pragma: no cover - always >= 429


def _say_retries(warn: Callable[[str], None]) -> None:
    line = retry_summary()
    if line:
        warn(line)


_installed = threading.Lock()
_done = False


def install(warn: Callable[[str], None]) -> None:
    """Make huggingface_hub use the deadline client, and keep its logs and warnings off the terminal (once).
    The retry count is given to `warn` at exit."""
    global _done
    with _installed:
        if _done:
            return
        _done = True
        atexit.register(_say_retries, warn)
        _Settings.timeout = timeout_from_env(warn)
        from huggingface_hub.utils import get_session, set_client_factory

        hooks = get_session().event_hooks  # huggingface_hub's own hooks: offline mode, request ids
        client_class = _make_client_class()
        set_client_factory(lambda: client_class(event_hooks=hooks, follow_redirects=True, timeout=None))
        _quiet_huggingface_hub(warn)


def _quiet_huggingface_hub(warn: Callable[[str], None]) -> None:
    """huggingface_hub's log records are dropped (linker reports outcomes itself); its warnings become one line."""
    hf_logger = logging.getLogger("huggingface_hub")
    hf_logger.handlers[:] = [logging.NullHandler()]
    hf_logger.propagate = False
    shown: set[str] = set()
    previous = warnings.showwarning

    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        if "huggingface_hub" not in filename:
            previous(message, category, filename, lineno, file, line)
            return
        text = scrub_text(str(message).strip().splitlines()[0] if str(message).strip() else category.__name__)
        if text not in shown:
            shown.add(text)
            warn(f"warning: {text}")

    warnings.showwarning = show
