"""Read a teacher's reply: ``{"examples": [{"query": str, "plan": str}]}``, bare, in a fenced block or
surrounded by prose. Raw control characters inside strings (a newline in a plan, which a grammar-constrained
server lets through) are read as they are. A reply cut off inside its examples array (``max_tokens`` reached)
gives the examples that were complete before the cut. Anything else is a rejected reply, counted by the run
under its :attr:`~planforge.errors.ReplyFormatError.code` (``empty_reply``, ``unreadable_reply``,
``wrong_shape``), never a crash."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from planforge.errors import ReplyFormatError

_FENCE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)```", re.S)
_EXAMPLES_ARRAY = re.compile(r'"examples"\s*:\s*\[')
MAX_REPLY_CHARS = 2_000_000
_DECODER = json.JSONDecoder(strict=False)


@dataclass(frozen=True)
class ProposedExample:
    query: str | None
    plan: Any  # LLMCompiler text (or JSON calls); None when the item is malformed
    problem: str | None = None  # why the item itself is unusable


@dataclass(frozen=True)
class ReadReply:
    """What a reply held. ``salvaged``: the reply was cut off (or left unclosed) inside its examples array, and
    ``examples`` are the items complete before that point."""

    examples: list[ProposedExample]
    salvaged: bool = False


def _decode(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
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


def _salvage(content: str) -> list[Any]:
    """The items of the first ``"examples": [`` array that decode whole, up to the first that does not."""
    found = _EXAMPLES_ARRAY.search(content)
    if found is None:
        return []
    items: list[Any] = []
    at = found.end()
    while True:
        while at < len(content) and content[at] in " \t\r\n,":
            at += 1
        if at >= len(content) or content[at] == "]":
            return items
        try:
            item, at = _DECODER.raw_decode(content, at)
        except (ValueError, RecursionError):
            return items
        items.append(item)


def _example(item: Any) -> ProposedExample:
    if not isinstance(item, dict):
        return ProposedExample(None, None, "an example is not an object")
    query, plan = item.get("query"), item.get("plan")
    if not isinstance(query, str) or not query.strip():
        return ProposedExample(None, None, "an example has no 'query' text")
    if not isinstance(plan, (str, list)) or not plan:
        return ProposedExample(query, None, "an example has no 'plan'")
    return ProposedExample(query.strip(), plan)


def read_reply(content: Any) -> ReadReply:
    """The examples of a reply (an empty list for ``{"examples": []}``); raises :class:`ReplyFormatError`."""
    if not isinstance(content, str) or not content.strip():
        raise ReplyFormatError("empty reply", "empty_reply")
    if len(content) > MAX_REPLY_CHARS:
        raise ReplyFormatError(f"reply of {len(content)} characters is over the limit")
    data = _document(content)
    if data is None:
        items = _salvage(content)
        if not items:
            raise ReplyFormatError("no JSON object in the reply")
        return ReadReply([_example(item) for item in items], salvaged=True)
    if isinstance(data, list):
        data = {"examples": data}
    if not isinstance(data, dict) or not isinstance(data.get("examples"), list):
        raise ReplyFormatError("the JSON has no 'examples' list", "wrong_shape")
    return ReadReply([_example(item) for item in data["examples"]])


def parse_reply(content: Any) -> list[ProposedExample]:
    """The examples of a reply (see :func:`read_reply`)."""
    return read_reply(content).examples
