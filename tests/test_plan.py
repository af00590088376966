import json
import keyword
import re
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planforge.plan import (
    BEYOND_ANY_STEP,
    MAX_INTEGER,
    MAX_JSON_PLAN_CHARS,
    MAX_NESTING,
    MAX_PLAN_CHARS,
    REFERENCE,
    Plan,
    PlanSyntaxError,
    Step,
    _parse_arguments_as_json,
    _parse_arguments_as_python,
    _split_step_line,
    format_value,
    parse_calls,
    parse_plan,
    parse_text,
    positional,
    references_in_text,
    step_number,
    to_calls,
    to_text,
    to_tool_calls,
)
from tests.support.adversarial import ADVERSARIAL_LINES, SIZES

# -- hand-written cases ------------------------------------------------------------------------------


def test_llmcompiler_text_with_thoughts_keywords_and_end_marker():
    plan = parse_text(
        "Thought: I need Sid's address first.\n"
        '1. get_email_address("Sid")\n'
        "2. compose_new_email(['$1'], [], subject=\"Re: (draft), v2\", context='costs $5, \"quoted\"', "
        "attachments=[])\n"
        "3. join()<END_OF_PLAN>"
    )
    assert [s.name for s in plan.steps] == ["get_email_address", "compose_new_email", "join"]
    assert plan.steps[0].thought == "I need Sid's address first."
    assert plan.steps[1].args == (["$1"], [])
    assert plan.steps[1].kwargs == {"subject": "Re: (draft), v2", "context": 'costs $5, "quoted"', "attachments": []}
    assert plan.steps[1].references == (1, 5)
    assert plan.end_of_plan and plan.has_join and len(plan.calls) == 2


def test_literals_nested_structures_and_constants():
    plan = parse_text('1. math_toolkit.f(None, True, False, -3, 2.5e3, (1, 2), {"k": [None, {"x": "${1}"}]}, "a" "b")')
    step = plan.steps[0]
    assert step.name == "math_toolkit.f"
    assert step.args == (None, True, False, -3, 2500.0, [1, 2], {"k": [None, {"x": "${1}"}]}, "ab")
    assert step.references == (1,)


def test_bare_references_are_read_as_strings():
    step = parse_text("1. a()\n2. summarize_pdf($1)\n3. f(x=${1}, y=[$1, $2])").steps[2]
    assert step.kwargs == {"x": "${1}", "y": ["$1", "$2"]}
    assert parse_text("1. a()\n2. summarize_pdf($1)").steps[1].args == ("$1",)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("hello world", r"expected 'N\. function\(arguments\)'"),
        ("2. f()", r"step 1 \(line 1\): numbered 2, expected 1"),
        ("1. f(x)", "argument x is not a Python literal"),
        ("1. f(__import__('os'))", "is not a Python literal"),
        ("1. f(*[1])", "not allowed"),
        ("1. f({1: 2})", "keys must be strings"),
        ("1. f({1, 2})", "set values are not allowed"),
        ("1. f(1e999)", "non-finite"),
        ("1. f(x=1, x=2)", "given twice"),
        ("1. f()\n<END_OF_PLAN>\n2. g()", "after <END_OF_PLAN>"),
        ("1. f(" + "[" * 5000 + ")", "not Python literals"),
    ],
)
def test_syntax_errors(text, words):
    with pytest.raises(PlanSyntaxError, match=words):
        parse_text(text)


def test_size_bound():
    with pytest.raises(PlanSyntaxError, match="limit"):
        parse_plan("1. f()\n" * (MAX_PLAN_CHARS // 7 + 1))


def test_json_calls_in_every_form():
    expected = [
        {"name": "get_phone_number", "arguments": {"name": "Lutfi"}},
        {"name": "send_sms", "arguments": {"recipients": ["$1"], "message": "hi"}},
    ]
    as_strings = [{"name": c["name"], "arguments": json.dumps(c["arguments"])} for c in expected]
    tool_calls = [{"id": f"c{i}", "type": "function", "function": c} for i, c in enumerate(as_strings)]
    for form in (expected, as_strings, tool_calls, {"tool_calls": tool_calls}, json.dumps(expected)):
        plan = parse_plan(form)
        assert to_calls(plan) == expected
        assert plan.steps[1].references == (1,)
    assert to_tool_calls(parse_plan(expected))[1]["function"] == expected[1]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"name": "f"}, "must be a list"),
        ([{"arguments": {}}], "no function name"),
        ([{"name": "f", "arguments": "{oops"}], "not valid JSON"),
        ([{"name": "f", "arguments": [1]}], "must be an object"),
        ("[1, 2", "not valid JSON"),
    ],
)
def test_json_syntax_errors(data, words):
    with pytest.raises(PlanSyntaxError, match=words):
        parse_plan(data)


def test_bind_and_positional_are_inverse():
    order = {"f": ("a", "b", "c")}
    plan = parse_text('1. f(1, "x", c=[2])')
    bound = plan.bind(order)
    assert bound.steps[0].args == () and bound.steps[0].kwargs == {"a": 1, "b": "x", "c": [2]}
    assert parse_text('1. f(1, "x", c=[2])', order) == bound
    assert to_text(positional(bound, order)) == '1. f(1, "x", [2])'
    # too many positional arguments: left as written for the validators to report
    assert parse_text("1. f(1, 2, 3, 4)").bind(order).steps[0].args == (1, 2, 3, 4)


def test_to_calls_needs_named_arguments():
    with pytest.raises(ValueError, match="bind"):
        to_calls(parse_text("1. f(1)"))


# -- properties --------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))
function_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}(\.[A-Za-z_][A-Za-z0-9_]{0,6})?", fullmatch=True).filter(
    lambda s: s != "join"
)
thoughts = st.none() | st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(
    str.strip
).filter(bool)


@st.composite
def plans(draw, named_only: bool = False):
    count = draw(st.integers(0, 5))
    steps = []
    for index in range(1, count + 1):
        args = () if named_only else tuple(draw(st.lists(json_values, max_size=3)))
        kwargs = draw(st.dictionaries(identifiers, json_values, max_size=3))
        steps.append(Step(index, draw(function_names), args, kwargs, draw(thoughts)))
    if draw(st.booleans()):
        steps.append(Step(count + 1, "join"))
    return Plan(tuple(steps), end_of_plan=False if named_only else draw(st.booleans()))


@pytest.mark.slow
@settings(max_examples=300)
@given(plans())
def test_text_round_trip_is_lossless(plan):
    text = to_text(plan)
    assert parse_text(text) == plan
    assert to_text(parse_text(text)) == text


@pytest.mark.slow
@settings(max_examples=300)
@given(plans(named_only=True))
def test_json_round_trip_is_lossless(plan):
    calls = json.loads(json.dumps(to_calls(plan)))
    assert parse_calls(calls) == plan
    assert to_calls(parse_calls(calls)) == calls


@pytest.mark.slow
@settings(max_examples=300)
@given(st.lists(json_values, min_size=1, max_size=4))
def test_json_fast_path_agrees_with_literal_eval(values):
    canonical = ", ".join(format_value(v) for v in values)
    fast = _parse_arguments_as_json(canonical)
    slow_args, slow_kwargs = _parse_arguments_as_python(canonical, 1)
    assert list(slow_args) == values and slow_kwargs == {}
    if "\\" not in canonical:  # a backslash before '/' sends the text the slow way, on purpose
        assert fast == values
    assert fast is None or fast == values
    # Python's own repr (single quotes, escapes JSON lacks) goes the slow way to the same values.
    python_repr = ", ".join(repr(v) for v in values)
    assert list(_parse_arguments_as_python(python_repr, 1)[0]) == values


# -- limits: every input is a verdict, in bounded time -------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


@pytest.mark.parametrize("depth", [MAX_NESTING, MAX_NESTING + 1, 900, 5000])
def test_nesting_limit_is_the_same_for_text_json_and_decoded_plans(depth):
    text_plan = f"1. f({_nested(depth)})"
    json_text = '[{"name": "f", "arguments": {"x": ' + _nested(depth) + "}}]"
    forms = [text_plan, json_text]
    if depth < 900:  # json.loads itself stops near Python's recursion limit
        forms.append(json.loads(json_text))
    for form in forms:
        if depth <= MAX_NESTING:
            assert parse_plan(form).steps[0].values().__next__() == json.loads(_nested(depth))
        else:
            with pytest.raises(PlanSyntaxError, match=f"(deeper than {MAX_NESTING} levels|not Python literals)"):
                parse_plan(form)


def test_decoded_plans_are_checked_without_recursion():
    deep = 1
    for _ in range(100_000):
        deep = {"x": deep}
    with pytest.raises(PlanSyntaxError, match=f"step 1: arguments nest deeper than {MAX_NESTING} levels"):
        parse_calls([{"name": "f", "arguments": deep}])


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([{"name": "f", "arguments": {"x": {1, 2}}}], "step 1: set values are not allowed"),
        ([{"name": "f"}, {"name": "g", "arguments": {"x": (1, 2)}}], "step 2: tuple values are not allowed"),
        ([{"name": "f", "arguments": {"x": {1: "a"}}}], "keys must be strings"),
        ([{"name": "f", "arguments": {"x": [float("nan")]}}], "non-finite"),
        ([{"name": "f", "arguments": {"x": 10**400}}], "integers beyond"),
        ([{"name": "f", "arguments": '{"x": NaN}'}], "non-finite"),
        ([{"name": "f", "arguments": {"x": "a" * MAX_JSON_PLAN_CHARS}}], "262,144 limit"),
        ([{"name": "f" * (MAX_JSON_PLAN_CHARS + 1)}], "262,144 limit"),
        ([{"name": "f", "arguments": {}}] * (MAX_JSON_PLAN_CHARS + 1), "262,144 limit"),
    ],
)
@pytest.mark.slow
def test_decoded_plans_hold_json_values_within_the_limits(data, words):
    with pytest.raises(PlanSyntaxError, match=words):
        parse_calls(data)


def test_json_plan_text_limit_is_larger_than_the_text_limit():
    call = '{"name": "f", "arguments": {"x": "' + "a" * 1000 + '"}}'
    json_plan = "[" + ", ".join([call] * (MAX_PLAN_CHARS // len(call) + 1)) + "]"
    assert MAX_PLAN_CHARS < len(json_plan) <= MAX_JSON_PLAN_CHARS
    assert len(parse_plan(json_plan).steps) == MAX_PLAN_CHARS // len(call) + 1
    with pytest.raises(PlanSyntaxError, match="over the 262,144 limit for JSON plans"):
        parse_plan(" " * MAX_JSON_PLAN_CHARS + json_plan)
    with pytest.raises(PlanSyntaxError, match="over the 65,536 limit for text plans"):
        parse_plan("1. f()\n" * (MAX_PLAN_CHARS // 7 + 1))


def test_integers_beyond_float_range_are_refused_like_non_finite_floats():
    assert parse_text(f"1. f({MAX_INTEGER}, {-MAX_INTEGER})").steps[0].args == (MAX_INTEGER, -MAX_INTEGER)
    for literal in (str(MAX_INTEGER + 1), "-" + "9" * 400, "9" * 400 + ".0"):
        with pytest.raises(PlanSyntaxError, match="(integers beyond|non-finite)"):
            parse_text(f"1. f({literal})")
    with pytest.raises(PlanSyntaxError, match="not Python literals"):  # over Python's 4,300 digits
        parse_text("1. f(" + "9" * 5000 + ")")


def test_step_numbers_and_references_of_any_length():
    with pytest.raises(PlanSyntaxError, match="step 1 \\(line 1\\): numbered 1111111111111111111…, expected 1"):
        parse_text("1" * 5000 + ". f()")
    with pytest.raises(PlanSyntaxError, match="numbered 0000000001, expected 1"):
        parse_text("0000000001. f()")
    step = parse_text('1. f("$' + "9" * 5000 + '", "${' + "0" * 20 + '1}", $' + "1" * 10 + ")").steps[0]
    assert step.references == (BEYOND_ANY_STEP, 1, BEYOND_ANY_STEP)
    assert step_number("000000000012") == 12 and step_number("1234567890") == BEYOND_ANY_STEP


def _outcome(text: str):
    try:
        return parse_text(text)
    except PlanSyntaxError as exc:
        return str(exc)


@pytest.mark.parametrize("text", [r"1. f('\d')", "1. f(1if True else 2)"])
def test_python_warnings_neither_print_nor_change_the_verdict(recwarn, text):
    expected = _outcome(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # as under pytest -W error: a warning must not turn into a SyntaxError
        assert _outcome(text) == expected
    assert not [w for w in recwarn if issubclass(w.category, (SyntaxWarning, DeprecationWarning))]
    assert _outcome(r"1. f('\d')").steps[0].args == ("\\d",)


def test_triple_quoted_strings_and_bare_references():
    step = parse_text("1. f(\"\"\"a\"b\"\"\", '''it's''', $1)").steps[0]
    assert step.args == ('a"b', "it's", "$1")


@pytest.mark.timeout(60)  # a hang guard; the parsing time itself is benchmarks/adversarial_parse.py's
@pytest.mark.parametrize("name", sorted(ADVERSARIAL_LINES))
def test_adversarial_lines_are_syntax_verdicts(name):
    for size in SIZES:
        with pytest.raises(PlanSyntaxError):
            parse_text(ADVERSARIAL_LINES[name](size))


# The pattern step lines were read with before, kept as the reference for the hand-written split.
_STEP_LINE_REFERENCE = re.compile(
    r"(\d+)\s*\.\s*([A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*)*)\s*\((.*)\)\s*(<END_OF_PLAN>)?\s*\Z", re.S
)
step_line_parts = st.sampled_from(
    ["1", "12", ".", " ", "\t", "f", "a.b", "x-y", "(", ")", "<END_OF_PLAN>", '"', "'", "$1", ",", "\u3000", "é"]
)


@pytest.mark.slow
@settings(max_examples=1000)
@given(st.lists(step_line_parts, max_size=12).map("".join))
def test_step_line_split_equals_the_reference_pattern(line):
    line = line.strip()
    expected = _STEP_LINE_REFERENCE.match(line)
    got = _split_step_line(line)
    if expected is None:
        assert got is None
    else:
        number, name, args, end = expected.groups()
        assert got == (number, name, args, end is not None)


def test_references_written_as_escapes_count():
    assert parse_text('1. f("\\u00241", "${2}", "\\u0024{3}")').steps[0].references == (1, 2, 3)
    assert parse_text("1. f('\\x242')").steps[0].references == (2,)


@settings(max_examples=500)
@given(st.text(alphabet="${}0123456789a١ ", max_size=40))
def test_references_in_text_reads_every_k_as_step_number_does(text):
    assert references_in_text(text) == [step_number(a or b) for a, b in REFERENCE.findall(text)]
