"""The on-disk response cache: a reply is stored under a hash of (model, messages, sampling
parameters), so re-running the same command makes zero teacher calls and nothing is paid twice.
diskcache (SQLite) does the storage: safe across processes and crashes."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import diskcache

from planforge.generator.teachers.base import TeacherReply


def default_cache_dir() -> Path:
    base = os.environ.get("PLANFORGE_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "planforge"
    )
    return Path(base) / "responses"


def request_key(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> str:
    payload = json.dumps({"model": model, "messages": messages, "params": params}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


class ResponseCache:
    def __init__(self, directory: Path):
        self.directory = directory
        self._cache = diskcache.Cache(str(directory), size_limit=2**34)

    def get(self, key: str) -> TeacherReply | None:
        value = self._cache.get(key)
        if value is None:
            return None
        return TeacherReply(value["content"], value["prompt_tokens"], value["completion_tokens"], cached=True)

    def put(self, key: str, reply: TeacherReply) -> None:
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
