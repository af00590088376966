"""Secret scrubbing: API keys, tokens and credentials never reach a card, a log or an upload.

A :class:`Scrubber` replaces, in text and in decoded JSON/YAML-like objects:

* the values of environment variables named like ``*_KEY``, ``*_TOKEN``, ``*SECRET*``, ``*PASSWORD*``
  (and any extra literal secret, such as the Hub token in use);
* well-known key shapes: ``sk-...`` (OpenAI, Anthropic), ``hf_...`` (Hugging Face), ``ghp_...``
  (GitHub), ``AKIA...`` (AWS), ``Bearer ...``;
* credentials in URLs: ``user:pass@`` and ``?api_key=``/``token=``/``sig=`` query values;
* values following ``--api-key``/``--token``-like flags and ``api_key: ...``-like keys.

Everything is pure and deterministic so it can be tested with planted values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

REDACTED = "[REDACTED]"

# Environment variable names whose values are secrets.
_SECRET_ENV_NAME = re.compile(r"(?i)(?:_KEY|_TOKEN|_PAT)$|SECRET|PASSWORD|PASSWD|^(?:API_?KEY|TOKEN|KEY)$")
# Dictionary keys whose string values are secrets (normalized: lower case, no separators).
_SECRET_KEY_SUFFIXES = ("apikey", "token", "secret", "password", "passwd", "authorization", "credentials")
_SECRET_KEY_EXACT = {"key", "auth", "bearer", "cookie"}

_MIN_SECRET_LEN = 8

# (literal markers, pattern): a pattern runs only on text holding one of its markers
_KEY_SHAPES = [
    (("sk-",), re.compile(r"\bsk-[A-Za-z0-9][A-Za-z0-9_\-]{15,}")),  # OpenAI, Anthropic (sk-ant-...), proxies
    (("hf_",), re.compile(r"\bhf_[A-Za-z0-9]{20,}")),  # Hugging Face
    (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}")),  # GitHub
    (("github_pat_",), re.compile(r"\bgithub_pat_[A-Za-z0-9_]{30,}")),
    (("AKIA",), re.compile(r"\bAKIA[0-9A-Z]{16}\b")),  # AWS access key id
    (("xox",), re.compile(r"\bxox[abprs]-[A-Za-z0-9\-]{10,}")),  # Slack
    (("AIza",), re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),  # Google API key
]
_BEARER = re.compile(r"\b(Bearer)(\s+)(?!\[REDACTED\])(?=[\w.~+/\-]*\d)[A-Za-z0-9._~+/\-]{8,}=*")
# scheme://user:pass@host or scheme://token@host
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)(?!\[REDACTED\]@)[^/\s@'\"<>]+@")
_URL_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:api[_-]?key|key|access[_-]?token|auth[_-]?token|token|secret|password|sig|signature|auth)=)"
    r"(?!\[REDACTED\])[^&#\s'\"<>]+"
)
# --api-key VALUE, --hf-token=VALUE (the flag name must end with the secret word: --max-tokens is fine)
_FLAG_NAME = r"--?[\w-]*?(?:key|token|secret|password|passwd)"
_SECRET_FLAG = re.compile(rf"(?i)^{_FLAG_NAME}$")
_FLAG_VALUE = re.compile(rf"(?i)(?<![\w-])({_FLAG_NAME})(=|[ \t]+)(?!-)(?!\[REDACTED\])(\"[^\"]*\"|'[^']*'|[^\s'\"]+)")
# api_key: VALUE / "token": "VALUE" / password = VALUE, in YAML, JSON, TOML, .env or prose
_ASSIGNMENT = re.compile(
    r"(?im)([\"']?\b[\w-]*?(?:api[_-]?key|secret|password|passwd|token|access[_-]?key)[\"']?[ \t]*[:=][ \t]*)"
    r"(?![{\[\s])(?!\[REDACTED\])(?!null\b|None\b|true\b|false\b|~)(\"[^\"\n]*\"|'[^'\n]*'|[^\s,}\]#]+)"
)


def is_secret_env_name(name: str) -> bool:
    return bool(_SECRET_ENV_NAME.search(name))


def is_secret_key(key: str) -> bool:
    """Whether a mapping key names a secret (``api_key``, ``hfToken``, ``client-secret``; not ``tokens``)."""
    norm = re.sub(r"[^a-z0-9]", "", key.lower())
    return norm in _SECRET_KEY_EXACT or norm.endswith(_SECRET_KEY_SUFFIXES) or "secret" in norm


def _looks_like_secret_value(value: str) -> bool:
    """Plain words and short flags are not worth redacting everywhere (they would corrupt the data)."""
    value = value.strip()
    if len(value) < _MIN_SECRET_LEN or value.lower() in {"true", "false", "none", "null"}:
        return False
    return not (value.isalpha() and value.islower())


@dataclass(frozen=True)
class Scrubber:
    """Replaces secrets with ``[REDACTED]``. ``literals``: exact secret values, longest first."""

    literals: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, extra: Iterable[str | None] = ()) -> Scrubber:
        environ = os.environ if environ is None else environ
        values = {v.strip() for k, v in environ.items() if is_secret_env_name(k) and _looks_like_secret_value(v)}
        values |= {v.strip() for v in extra if v and _looks_like_secret_value(v)}
        return cls(tuple(sorted(values, key=len, reverse=True)))

    # -- text ----------------------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """Everything: the precise rules, plus flags (``--api-key X``) and assignments (``token: X``).
        For cards, logs, ``run.json`` and recipe files."""
        text = self.precise(text)
        if text:
            text = _FLAG_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
            text = _ASSIGNMENT.sub(lambda m: m.group(1) + _quoted_like(m.group(2)), text)
        return text

    def precise(self, text: str) -> str:
        """Only what cannot be anything but a secret: known secret values, key shapes, URL credentials,
        bearer tokens. For dataset rows, whose function signatures may legitimately say ``token: str``."""
        if not text:
            return text
        for literal in self.literals:
            if literal in text:
                text = text.replace(literal, REDACTED)
        # Each rule runs only when its literal marker is there: dataset rows are megabytes of text.
        for needle, shape in _KEY_SHAPES:
            if any(n in text for n in needle):
                text = shape.sub(REDACTED, text)
        if "://" in text and "@" in text:
            text = _URL_USERINFO.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
        if "=" in text:
            text = _URL_QUERY_SECRET.sub(lambda m: m.group(1) + REDACTED, text)
        if "earer" in text:
            text = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
        return text

    def bytes(self, data: bytes) -> bytes | None:
        """Scrubbed UTF-8 text, or ``None`` for binary content (which cannot be scrubbed safely)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\x00" in text:
            return None
        return self.text(text).encode("utf-8")

    # -- objects -------------------------------------------------------------------------------------

    def obj(self, value: Any) -> Any:
        """A scrubbed copy of a JSON-like value: secret-named keys lose their string values, strings are
        scrubbed, and in lists of strings the item after an ``--api-key``-like flag is redacted."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            out = {}
            for key, item in value.items():
                if isinstance(key, str) and is_secret_key(key) and isinstance(item, str) and item:
                    out[key] = REDACTED
                else:
                    out[key] = self.obj(item)
            return out
        if isinstance(value, (list, tuple)):
            items = [self.obj(v) for v in value]
            for i in range(len(value) - 1):
                if isinstance(value[i], str) and _SECRET_FLAG.match(value[i]) and isinstance(value[i + 1], str):
                    items[i + 1] = REDACTED
            return items if isinstance(value, list) else tuple(items)
        return value

    # -- checks --------------------------------------------------------------------------------------

    def leaks(self, text: str) -> list[str]:
        """Secret-looking substrings still present in ``text`` (for a last check before anything leaves)."""
        found = [lit for lit in self.literals if lit in text]
        for _, shape in _KEY_SHAPES:
            found += shape.findall(text)
        found += [m.group(0) for m in _URL_USERINFO.finditer(text)]
        return found


def _quoted_like(original: str) -> str:
    if len(original) >= 2 and original[0] == original[-1] and original[0] in "\"'":
        return f"{original[0]}{REDACTED}{original[0]}"
    return f'"{REDACTED}"'


def scrub_url(url: str) -> str:
    """A URL without ``user:password@`` and without key/token query values."""
    return Scrubber().precise(url)


def scrub_text(text: str) -> str:
    """Text scrubbed of every secret this process knows of (its secret environment values included)."""
    return Scrubber.from_env().text(text)
