"""When and under which serial number a document is made: reproducible when `SOURCE_DATE_EPOCH` is set (the
reproducible-builds convention): the time is that instant and the serial a digest of the content."""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import datetime, timezone
from typing import Any

_NAMESPACE = uuid.UUID("6f1d7c3e-2b1a-4e57-9c1e-6b0f3f6a9d41")


def timestamp() -> str:
    """UTC, to the second, `YYYY-MM-DDThh:mm:ssZ` (the form both SPDX and CycloneDX accept)."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.fromtimestamp(int(raw), timezone.utc) if raw.isdigit() else datetime.now(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def serial(content: Any) -> uuid.UUID:
    """A fresh UUID, or with `SOURCE_DATE_EPOCH` set one derived from `content` (same content, same serial)."""
    if not os.environ.get("SOURCE_DATE_EPOCH", "").strip().isdigit():
        return uuid.uuid4()
    digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
    return uuid.uuid5(_NAMESPACE, digest)
