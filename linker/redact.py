"""Secrets out of everything linker prints: the userinfo of URLs (`http://user:hf_…@host`) and the token value.

Light on purpose (no huggingface_hub import): every output channel can afford it."""

from __future__ import annotations

import os
import re

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
