"""Reading teacher replies: JSON, fences, prose; unusable replies and malformed items."""

import pytest

from planforge.errors import ReplyFormatError
from planforge.generator.replies import ReadReply, parse_reply, read_reply


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


@pytest.mark.parametrize(
    ("content", "code"),
    [
        ("", "empty_reply"),
        ("   ", "empty_reply"),
        ("I cannot help with that.", "unreadable_reply"),
        ('{"examples": [{"query": "q", "pl', "unreadable_reply"),  # cut inside the first example
        ('{"example1": [{"query": "q", "plan": "1. f()"}]}', "wrong_shape"),
        ('{"title": "Mac assistant"}', "wrong_shape"),
    ],
)
def test_unusable_replies_say_why(content, code):
    with pytest.raises(ReplyFormatError) as caught:
        parse_reply(content)
    assert caught.value.code == code


def test_an_empty_examples_list_is_read_as_no_example():
    """Not an error: the run counts it as a reply without an example (empty_examples)."""
    assert read_reply('{"examples": []}') == ReadReply([])


def test_raw_control_characters_inside_strings_are_read():
    """A grammar-constrained server lets a raw newline or tab into a string, which strict JSON refuses."""
    (example,) = parse_reply('{"examples": [{"query": "Text Sid\tnow", "plan": "1. f()\n2. join()"}]}')
    assert example.plan == "1. f()\n2. join()" and example.query == "Text Sid\tnow"


@pytest.mark.parametrize(
    "content",
    [
        '{"examples": [{"query": "a", "plan": "1. f()"}, {"query": "b", "plan": "1. g()"}, {"query": "c", "pl',
        '{"examples": [{"query": "a", "plan": "1. f()"},\n  {"query": "b", "plan": "1. g()"}\n',  # never closed
        'Sure!\n```json\n{"examples": [{"query": "a", "plan": "1. f()"}, {"query": "b", "plan": "1. g()"}, {"qu',
        '{"examples": [{"query": "a", "plan": "1. f()\n2. join()"}, {"query": "b", "plan": "1. g()"}, ',
    ],
)
def test_complete_examples_are_salvaged_from_a_cut_reply(content):
    found = read_reply(content)
    assert found.salvaged and [e.query for e in found.examples] == ["a", "b"]
    assert all(e.problem is None for e in found.examples)


def test_a_whole_reply_is_not_salvaged():
    found = read_reply('{"examples": [{"query": "a", "plan": "1. f()"}]}')
    assert not found.salvaged and len(found.examples) == 1
