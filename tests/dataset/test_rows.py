"""Reading rows back: plans from assistant turns."""

from __future__ import annotations

from planforge.dataset.rows import message_plan
from tests.publishing import fixtures


def test_message_plan_reads_text_or_tool_calls() -> None:
    tools = fixtures.mac_tools()
    text = [{"role": "assistant", "content": '1. get_phone_number("Mo")\n2. send_sms(["$1"], "hi")\n3. join()'}]
    plan = message_plan(text, tools)
    assert plan is not None and plan.function_names() == ["get_phone_number", "send_sms"]
    assert plan.steps[1].kwargs == {"recipients": ["$1"], "message": "hi"}
    calls = [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_phone_number", "arguments": '{"name": "Mo"}'},
                }
            ],
        }
    ]
    assert message_plan(calls, None).function_names() == ["get_phone_number"]
    assert message_plan([{"role": "assistant", "content": "no plan here"}], tools) is None
    assert message_plan([], tools) is None
