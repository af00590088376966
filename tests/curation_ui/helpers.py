"""Shared test data: a hand-made pair row."""

from __future__ import annotations

from planforge.plan import parse_plan

ZOOM = (
    '1. get_email_address("Sid")\n'
    '2. get_zoom_meeting_link("Apple sync", "2026-11-22 15:00:00", 60, ["$1"])\n'
    '3. create_calendar_event("Apple sync", "2026-11-22 15:00:00", "2026-11-22 16:00:00", "$2", ["$1"], "", None)\n'
    "4. join()"
)


def make_pair(mac_tools, rejected_text: str, **extra) -> dict:
    """A pair row as `gen pairs` writes it: the zoom plan chosen, ``rejected_text`` rejected."""
    from planforge.pairs.builder import rejected_message
    from planforge.prompting import completion_messages, prompt_messages, tools_column

    tools = mac_tools.subset(["get_email_address", "get_zoom_meeting_link", "create_calendar_event", "send_sms"])
    chosen = parse_plan(ZOOM, param_order=tools.param_order).bind(tools.param_order)
    bad = parse_plan(rejected_text, param_order=tools.param_order).bind(tools.param_order)
    pair = {
        "id": "pair-0123456789abcdef",
        "example_id": "ex-1",
        "query": "Zoom with Sid about the Apple sync tomorrow at 3pm",
        "prompt": prompt_messages("Zoom with Sid"),
        "chosen": completion_messages(chosen, tools),
        "rejected": [rejected_message(bad, tools)],
        "tools": tools_column(tools),
        "rejection_source": "corruption",
        "rejection_kind": "hallucinated_function",
        "rejection_detail": "x",
        "chosen_valid": True,
        "chosen_errors": [],
        "rejected_valid": False,
        "rejected_errors": [{"code": "unknown_function", "step": 1, "message": "step 1: fetch() is not offered"}],
        "rejected_equivalent": False,
        "meta": {"now": "2026-11-21 09:00:00", "recipe": "mac_assistant", "student": ""},
    }
    pair.update(extra)
    return pair
