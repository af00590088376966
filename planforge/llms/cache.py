"""The on-disk reply cache: a reply is stored under a hash of (endpoint, model, messages, sampling
parameters), so re-running the same command makes zero calls and nothing is paid twice, while a second
endpoint serving a model of the same name is asked for real. diskcache (SQLite) does the storage: safe
across processes and crashes."""

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


def request_key(endpoint: str, model: str, messages: Messages, params: dict[str, Any]) -> str:
    """``endpoint`` is the base URL without credentials: a key never holds a secret."""
    payload = json.dumps(
        {"endpoint": endpoint, "model": model, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
    )
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
        return ChatReply(value["content"], value["prompt_tokens"], value["completion_tokens"], cached=True)

    def put(self, key: str, reply: ChatReply) -> None:
        self._cache.set(
            key,
            {
                "content": reply.content,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
            },
        )

    def close(self) -> None:
        self._cache.close()
