"""The engine of gen validate, in process: verdict lines and the summary."""

import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planforge.plan_files import validate_text, verdict_line
from planforge.validators import ErrorCode, PlanError

ids = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@pytest.mark.slow
@settings(max_examples=500)
@given(ids)
def test_valid_verdict_lines_are_what_json_dumps_writes(record_id):
    expected = {"id": record_id, "valid": True, "errors": []}
    utf8 = json.dumps(expected, ensure_ascii=False)
    if any("\ud800" <= c <= "\udfff" for c in utf8):
        assert verdict_line(record_id, []) == json.dumps(expected) + "\n"  # only an escape carries a lone surrogate
    else:
        assert verdict_line(record_id, []) == utf8 + "\n"


def test_invalid_verdicts_carry_every_error():
    errors = [PlanError(ErrorCode.SYNTAX, 2, "step 2: bad"), PlanError(ErrorCode.JOIN, None, "no join")]
    assert json.loads(verdict_line("a", errors)) == {
        "id": "a",
        "valid": False,
        "errors": [e.to_dict() for e in errors],
    }


def test_verdicts_come_out_in_order_in_batches(mac_tools):
    rows = [{"id": i, "plan": '1. get_email_address("Sid")' if i % 3 else "1. nope()"} for i in range(1000)]
    out = io.StringIO()
    summary = validate_text("\n".join(json.dumps(r) for r in rows), "plans.jsonl", mac_tools, out=out)
    verdicts = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [v["id"] for v in verdicts] == list(range(1000))
    assert [v["valid"] for v in verdicts] == [bool(i % 3) for i in range(1000)]
    assert (summary.total, summary.valid, dict(summary.by_code)) == (1000, 666, {"unknown_function": 334})
