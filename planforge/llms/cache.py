"""The on-disk reply cache: a reply is stored under a hash of (endpoint, model, messages, sampling
parameters, the ``response_format`` its request was sent with), so re-running the same command makes zero
calls and nothing is paid twice, while a second endpoint serving a model of the same name is asked for real and
a reply written under a weaker constraint (the prompt alone) never answers a request that asks for a schema.
It also remembers which structured-output rung each endpoint settled on (:meth:`ResponseCache.remembered`), so
a re-run sends what the endpoint took, not what it refused. diskcache (SQLite) does the storage: safe across
processes and crashes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from planforge.llms.base import ChatReply, Messages


def default_cache_dir() -> Path:
    base = os.environ.get("PLANFORGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "planforge"
    )
    return Path(base) / "responses"


def request_key(
    endpoint: str,
    model: str,
    messages: Messages,
    params: dict[str, Any],
    response_format: dict[str, Any] | None = None,
) -> str:
    """``endpoint`` is the base URL without credentials: a key never holds a secret. ``response_format``: what
    the request is sent with (None: the prompt alone, which keeps the key earlier versions gave every request,
    so a batch journal or a cache written by them still matches)."""
    request: dict[str, Any] = {"endpoint": endpoint, "model": model, "messages": messages, "params": params}
    if response_format is not None:
        request["response_format"] = response_format
    payload = json.dumps(request, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    def __init__(self, directory: Path):
        import diskcache

        self.directory = directory
        self._cache = diskcache.Cache(str(directory), size_limit=2**34)

    def get(self, key: str) -> ChatReply | None:
        value = self._cache.get(key)
        if value is None:
            return None
        return ChatReply(
            value["content"],
            value["prompt_tokens"],
            value["completion_tokens"],
            cached=True,
            finish_reason=value.get("finish_reason", ""),
            structured_output=value.get("structured_output", ""),
        )

    def put(self, key: str, reply: ChatReply) -> None:
        self._cache.set(
            key,
            {
                "content": reply.content,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
                "finish_reason": reply.finish_reason,
                "structured_output": reply.structured_output,
            },
        )

    # -- what each endpoint settled on (planforge.llms.openai_client.FormatMemory) --------------------------

    def remembered(self, key: str) -> str | None:
        value = self._cache.get(key)
        return value if isinstance(value, str) else None

    def remember(self, key: str, value: str) -> None:
        if self._cache.get(key) != value:
            self._cache.set(key, value)

    def close(self) -> None:
        self._cache.close()
