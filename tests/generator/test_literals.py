"""The literal check of paraphrase mode: which plan values a request states, and whether a rewrite keeps them."""

import pytest

from planforge.generator.diversity import Diversity
from planforge.generator.literals import check_rewrite, needed_literals

NOW = "2026-03-09 10:00:00"  # a Monday
ZOOM = [
    {"name": "get_email_address", "arguments": {"name": "Sid"}},
    {
        "name": "get_zoom_meeting_link",
        "arguments": {
            "topic": "Apple sync",
            "start_time": "2026-03-10 15:00:00",
            "duration": 30,
            "meeting_invitees": ["$1"],
        },
    },
]
SEED = "Set up a zoom for the Apple sync with Sid tomorrow at 3pm for half an hour"


def missing(rewrite, seed=SEED, calls=ZOOM, now=NOW):
    return [literal.describe() for literal in check_rewrite(seed, rewrite, calls, now)]


def test_the_literals_a_request_states():
    kinds = {(literal.kind, literal.shown) for literal in needed_literals(SEED, ZOOM, NOW)}
    assert kinds == {
        ("text", "Sid"),
        ("text", "Apple sync"),
        ("day", "2026-03-10"),
        ("time", "15:00"),
        ("number", "30"),
    }


def test_a_rewrite_that_keeps_them_passes_in_other_words():
    assert missing(SEED) == []
    assert missing("tomorrow 3 pm: zoom with sid about the apple sync, 30 minutes") == []
    assert missing("Could you make a half-hour zoom (Apple sync) with Sid on Tuesday at 15:00?") == []


def test_each_dropped_literal_is_named():
    assert missing("Set up a zoom for the Apple sync tomorrow at 3pm for half an hour") == ["text 'Sid'"]
    assert missing("Set up a zoom with Sid tomorrow at 3pm for half an hour") == ["text 'Apple sync'"]
    assert missing("Set up a zoom for the Apple sync with Sid tomorrow for half an hour") == ["time '15:00'"]
    assert missing("Set up a zoom for the Apple sync with Sid tomorrow at 3pm") == ["number '30'"]


def test_a_date_must_resolve_to_the_same_day_against_now():
    assert missing("Set up a zoom for the Apple sync with Sid on Wednesday at 3pm for half an hour") == [
        "day '2026-03-10'"
    ]
    assert missing("Set up a zoom for the Apple sync with Sid at 4pm tomorrow for half an hour") == ["time '15:00'"]
    # the recipe's rule: "next Tuesday" is the Tuesday of the following week, not tomorrow
    assert missing("Set up a zoom for the Apple sync with Sid next Tuesday at 3pm for half an hour") == [
        "day '2026-03-10'"
    ]


def test_values_the_request_does_not_state_are_not_needed():
    calls = [
        {
            "name": "create_calendar_event",
            "arguments": {
                "title": "family dinner",
                "start_date": "2026-09-23 17:00:00",
                "end_date": "2026-09-23 18:00:00",
            },
        },
        {
            "name": "maps_show_directions",
            "arguments": {"start_location": "", "end_location": "Soda Hall", "transport": "w"},
        },
    ]
    seed = "Calendar family dinner today at 5pm and show me walking directions to Soda Hall"
    now = "2026-09-23 12:15:00"
    shown = {literal.shown for literal in needed_literals(seed, calls, now)}
    assert shown == {"family dinner", "2026-09-23", "17:00", "Soda Hall"}  # no end time, no travel mode code
    assert (
        check_rewrite(
            seed, "walking route to Soda Hall please, and family dinner on the calendar at 5pm today", calls, now
        )
        == []
    )


def test_phone_numbers_compare_by_digits_and_case_and_punctuation_do_not_matter():
    calls = [{"name": "send_sms", "arguments": {"recipients": ["+1 415 555 0101"], "message": "I'm running late"}}]
    seed = "Text +1 415 555 0101 that I’m running late."
    assert check_rewrite(seed, "sms +1 (415) 555-0101: i'm RUNNING late!", calls, NOW) == []
    assert [x.kind for x in check_rewrite(seed, "sms +1 (415) 555-0101 that I'll be late", calls, NOW)] == ["text"]
    assert [x.kind for x in check_rewrite(seed, "sms 555-0101 that I'm running late", calls, NOW)] == ["phone"]


def test_absolute_dates_are_read_by_dateparser():
    pytest.importorskip("dateparser")
    assert missing("Apple sync zoom with Sid on March 10 at 3pm, thirty minutes") == []
    assert missing("Apple sync zoom with Sid on March 11 at 3pm, thirty minutes") == ["day '2026-03-10'"]


def test_diversity_deals_every_persona_once_per_block_and_repeats_with_the_seed():
    deck = Diversity(tuple(f"p{i}" for i in range(5)), ("s0", "s1", "s2"), seed=4)
    block = [deck.pick(seq)[0] for seq in range(5)]
    assert sorted(block) == ["p0", "p1", "p2", "p3", "p4"]
    assert sorted(deck.pick(seq)[1] for seq in range(3, 6)) == ["s0", "s1", "s2"]
    assert [Diversity(deck.personas, deck.scenarios, 4).pick(s) for s in range(9)] == [deck.pick(s) for s in range(9)]
    assert [Diversity(deck.personas, deck.scenarios, 5).pick(s) for s in range(9)] != [deck.pick(s) for s in range(9)]
    assert Diversity.of({}, 0) is None
