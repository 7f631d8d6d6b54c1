"""Secrets out of everything linker prints: the userinfo of URLs (`http://user:hf_…@host`) and the token value.

Light on purpose (no huggingface_hub import): every output channel can afford it."""

from __future__ import annotations

import os
import re
import sys
from typing import Any

_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/@'\"<>]+@")
_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


def scrub_url(url: str) -> str:
    """`url` without its userinfo: `http://user:secret@host/x` -> `http://***@host/x`."""
    return _USERINFO.sub(r"\1***@", url)


def scrub_text(text: str, extra: tuple[str, ...] = ()) -> str:
    """`text` with URL userinfo and the token (from the environment, or `extra`) replaced by `***`."""
    if "://" in text:
        text = _USERINFO.sub(r"\1***@", text)
    for secret in (*extra, *(os.environ.get(v, "").strip() for v in _TOKEN_VARS)):
        if len(secret) >= 8 and secret in text:
            text = text.replace(secret, "***")
    return text


class ScrubbingStream:
    """A text stream that scrubs what is written to it (see `scrub_text`); everything else is the wrapped one's."""

    def __init__(self, inner: Any, extra: tuple[str, ...] = ()) -> None:
        self._inner, self._extra = inner, extra

    def write(self, text: Any) -> Any:
        return self._inner.write(scrub_text(text, self._extra) if isinstance(text, str) else text)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def guard_std_streams(extra: tuple[str, ...] = ()) -> None:
    """Scrub everything written to stdout and stderr from now on (tracebacks too), when there is a secret to hide:
    userinfo in `HF_ENDPOINT`, a token in the environment, or `extra`."""
    secrets = [s for s in (*extra, *(os.environ.get(v, "") for v in _TOKEN_VARS)) if len(s.strip()) >= 8]
    if not secrets and "@" not in os.environ.get("HF_ENDPOINT", ""):
        return
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, ScrubbingStream):
            setattr(sys, name, ScrubbingStream(stream, tuple(extra)))
