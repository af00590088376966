"""Reading teacher replies: JSON, fences, prose; unusable replies and malformed items."""

import pytest

from planforge.errors import ReplyFormatError
from planforge.generator.replies import parse_reply


@pytest.mark.parametrize(
    "content",
    [
        '{"examples": [{"query": "q", "plan": "1. f()"}]}',
        'Here you go:\n```json\n{"examples": [{"query": "q", "plan": "1. f()"}]}\n```\nEnjoy!',
        'Sure. {"examples": [{"query": "q", "plan": "1. f()"}]} Hope this helps.',
        '[{"query": "q", "plan": "1. f()"}]',
    ],
)
def test_replies_in_json_fences_or_prose(content):
    (example,) = parse_reply(content)
    assert (example.query, example.plan, example.problem) == ("q", "1. f()", None)


@pytest.mark.parametrize(
    "content", ["", "I cannot help with that.", '{"examples": "none"}', '{"items": []}', "```json\n{broken\n```"]
)
def test_unusable_replies(content):
    with pytest.raises(ReplyFormatError):
        parse_reply(content)


def test_malformed_items_are_marked_not_fatal():
    items = parse_reply('{"examples": [1, {"plan": "1. f()"}, {"query": "q"}, {"query": "q", "plan": "1. f()"}]}')
    assert [i.problem is None for i in items] == [False, False, False, True]
