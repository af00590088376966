"""Read a teacher's reply: ``{"examples": [{"query": str, "plan": str}]}``, bare, in a fenced block or
surrounded by prose. Anything else is a rejected reply (counted by the run, never a crash)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from planforge.errors import ReplyFormatError

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
MAX_REPLY_CHARS = 2_000_000


@dataclass(frozen=True)
class ProposedExample:
    query: str | None
    plan: Any  # LLMCompiler text (or JSON calls); None when the item is malformed
    problem: str | None = None  # why the item itself is unusable


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _document(content: str) -> Any:
    data = _decode(content)
    if data is not None:
        return data
    for block in _FENCE.findall(content):
        data = _decode(block)
        if data is not None:
            return data
    start, end = content.find("{"), content.rfind("}")
    if 0 <= start < end:
        return _decode(content[start : end + 1])
    return None


def parse_reply(content: Any) -> list[ProposedExample]:
    if not isinstance(content, str) or not content.strip():
        raise ReplyFormatError("empty reply")
    if len(content) > MAX_REPLY_CHARS:
        raise ReplyFormatError(f"reply of {len(content)} characters is over the limit")
    data = _document(content)
    if data is None:
        raise ReplyFormatError("no JSON object in the reply")
    if isinstance(data, list):
        data = {"examples": data}
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise ReplyFormatError("the JSON has no 'examples' list")
    out = []
    for item in data["examples"]:
        if not isinstance(item, dict):
            out.append(ProposedExample(None, None, "an example is not an object"))
            continue
        query, plan = item.get("query"), item.get("plan")
        if not isinstance(query, str) or not query.strip():
            out.append(ProposedExample(None, None, "an example has no 'query' text"))
        elif not isinstance(plan, (str, list)) or not plan:
            out.append(ProposedExample(query, None, "an example has no 'plan'"))
        else:
            out.append(ProposedExample(query.strip(), plan))
    return out
