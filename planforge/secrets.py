"""Keep credentials out of everything planforge writes: logs, run.json, datasets, cards."""

from __future__ import annotations

import os
import re

REDACTED = "[REDACTED]"
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]+@")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:api[_-]?key|key|token|access_token|secret|password)=)[^&\s#'\"]+")
_KEY_SHAPES = re.compile(r"\b(?:sk-[A-Za-z0-9_\-]{16,}|hf_[A-Za-z0-9]{20,}|ghp_[A-Za-z0-9]{20,})")
_SECRET_ENV = re.compile(r"(?i)(?:_KEY|_TOKEN)$|SECRET|PASSWORD")


def scrub_url(url: str) -> str:
    """A URL without ``user:password@`` and without key/token query parameters."""
    return _QUERY_SECRET.sub(rf"\1{REDACTED}", _USERINFO.sub(rf"\1{REDACTED}@", url))


def scrub_text(text: str) -> str:
    """Text with URL credentials, key-shaped tokens and the values of secret environment variables removed."""
    text = _KEY_SHAPES.sub(REDACTED, scrub_url(text))
    for name, value in os.environ.items():
        if value and len(value) >= 8 and _SECRET_ENV.search(name) and value in text:
            text = text.replace(value, REDACTED)
    return text
