import pytest

from planforge.plan import parse_plan
from planforge.tools import tools_from_json
from planforge.validators import ErrorCode, validate


def codes(errors):
    return [e.code.value for e in errors]


def test_bfcl_ground_truth_is_valid(bfcl_tools, bfcl_ground_truth):
    for row in bfcl_ground_truth:
        assert validate(row["plan"], bfcl_tools) == [], row["id"]


@pytest.mark.parametrize(
    ("plan", "code", "words"),
    [
        # one required argument dropped
        (
            [{"name": "math_toolkit.sum_of_multiples", "arguments": {"lower_limit": 1, "multiples": [3]}}],
            "missing_argument",
            "missing required argument 'upper_limit' (integer)",
        ),
        # one argument of the wrong type
        (
            [{"name": "calculate_triangle_area", "arguments": {"base": "10", "height": 5}}],
            "type_mismatch",
            "argument 'base' expected integer, got string '10'",
        ),
        # one unknown argument
        (
            [{"name": "geometry.circumference", "arguments": {"radius": 3, "colour": "red"}}],
            "unexpected_argument",
            "unexpected argument 'colour'; it takes radius, units",
        ),
        # an unknown function name
        ([{"name": "geometry.area", "arguments": {"radius": 3}}], "unknown_function", "geometry.area()"),
        # enum on an array parameter constrains its items
        ('1. hotel_booking.book("Ritz", ["penthouse"], 3)', "type_mismatch", "room_types'[0] expected one of"),
        # nested: tuple items typed as float
        ('1. plot_points([[1.0, "two"]])', "type_mismatch", "points'[0][1] expected number"),
        ('1. calculate_triangle_area(1, 2, "cm", 4)', "unexpected_argument", "takes 3 arguments"),
        (
            "1. calculate_triangle_area(1, base=2, height=3)",
            "unexpected_argument",
            "given both by position and by name",
        ),
        ("1. calculate_triangle_area(True, 2)", "type_mismatch", "expected integer, got boolean True"),
        ("", "empty_plan", "calls no function"),
        ("1. join()", "empty_plan", "calls no function"),
        ("1. f(", "syntax", "step 1"),
    ],
)
def test_each_defect_gets_its_code(bfcl_tools, plan, code, words):
    errors = validate(plan, bfcl_tools)
    assert codes(errors) == [code], errors
    assert words in errors[0].message


def test_int_is_a_valid_number_and_none_means_omitted(bfcl_tools):
    assert validate("1. geometry.circumference(3, None)", bfcl_tools) == []
    assert validate("1. calculate_triangle_area(3.0, 4, None)", bfcl_tools) == []  # 3.0 is integral
    errors = validate("1. calculate_triangle_area(None, 4)", bfcl_tools)  # None for a required one is not
    assert codes(errors) == ["type_mismatch"]


def test_open_parameters_when_the_schema_allows_more():
    tools = tools_from_json(
        [
            {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "additionalProperties": {"type": "integer"},
                },
            }
        ]
    )
    assert validate('1. f(a="x", b=2)', tools) == []
    assert codes(validate('1. f(a="x", b="two")', tools)) == ["type_mismatch"]


def test_schemas_outside_the_fast_subset_use_jsonschema():
    tools = tools_from_json(
        [
            {
                "name": "f",
                "parameters": {
                    "type": "object",
                    "required": ["n", "s"],
                    "properties": {
                        "n": {"type": "integer", "minimum": 1},
                        "s": {"anyOf": [{"type": "string", "pattern": "^a"}, {"type": "null"}]},
                    },
                },
            }
        ]
    )
    assert validate("1. f(2, 'abc')", tools) == []
    assert codes(validate("1. f(0, 'abc')", tools)) == ["type_mismatch"]
    assert codes(validate("1. f(2)", tools)) == ["missing_argument"]
    assert codes(validate("1. f(2, 'abc', 3)", tools)) == ["unexpected_argument"]
    assert codes(validate("1. f(n=2, s=None, t=1)", tools)) == ["unexpected_argument"]


REF_TOOLS = tools_from_json(
    [
        {
            "name": "lookup",
            "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            "returns": {"type": "string"},
        },
        {"name": "count", "parameters": {"type": "object", "properties": {}}, "returns": {"type": "integer"}},
        {"name": "anything", "parameters": {"type": "object", "properties": {}}},
        {
            "name": "emails",
            "parameters": {"type": "object", "properties": {}},
            "returns": {"type": "array", "items": {"type": "string"}},
        },
        {
            "name": "use",
            "parameters": {
                "type": "object",
                "properties": {
                    "n": {"type": "integer"},
                    "to": {"type": "array", "items": {"type": "string"}},
                    "text": {"type": "string"},
                },
            },
        },
    ]
)


@pytest.mark.parametrize(
    ("plan", "expected"),
    [
        ('1. lookup("a")\n2. use(to=["$1"], text="see $1")\n3. join()', []),
        ('1. count()\n2. use(n="$1")', []),
        ('1. anything()\n2. use(n="$1", to="$1")', []),  # unknown return type: accepted
        ('1. emails()\n2. use(to="$1")', []),
        ('1. lookup("a")\n2. use(n="$1")', ["reference_type"]),
        ('1. lookup("a")\n2. use(to="$1")', ["reference_type"]),
        ('1. emails()\n2. use(to=["$1"])', ["reference_type"]),  # checked through list items
        ('1. count()\n2. use(text="${1}")', ["reference_type"]),
        ('1. lookup("$0")', ["bad_reference"]),
        ('1. lookup("$1")', ["bad_reference"]),
        ('1. lookup("$2")\n2. lookup("a")', ["bad_reference"]),
        ('1. lookup("$7")', ["bad_reference"]),
        ('1. lookup("a")\n2. join()\n3. lookup("$2")', ["join", "bad_reference"]),
        ('1. lookup("$2")\n2. lookup("$1")', ["bad_reference", "cycle"]),
        ('1. lookup("a")\n2. join()\n3. join()', ["join", "join"]),
        ('1. lookup("a")\n2. join(1)', ["join"]),
        ('1. lookup("a")\n2. use(n="$1 items")', ["type_mismatch"]),
    ],
)
def test_references(plan, expected):
    assert sorted(codes(validate(plan, REF_TOOLS))) == sorted(expected)


def test_cycle_message_names_the_steps():
    errors = validate('1. lookup("$3")\n2. lookup("$1")\n3. lookup("$2")', REF_TOOLS)
    cycle = [e for e in errors if e.code is ErrorCode.CYCLE]
    assert cycle[0].message == "steps 1 -> 3 -> 2 -> 1 depend on each other in a cycle" or cycle[0].message == (
        "steps 1 -> 2 -> 3 -> 1 depend on each other in a cycle"
    )


def test_require_join():
    assert codes(validate('1. lookup("a")', REF_TOOLS, require_join=True)) == ["join"]
    assert validate('1. lookup("a")\n2. join()', REF_TOOLS, require_join=True) == []


def test_rules_receive_plan_tools_and_context():
    seen = {}

    def no_lookup_of_sid(plan, tools, context):
        seen.update(context)
        return (
            []
            if "Sid" not in context["query"]
            else [__import__("planforge.validators", fromlist=["PlanError"]).PlanError(ErrorCode.RULE, 1, "no Sid")]
        )

    errors = validate('1. lookup("a")', REF_TOOLS, rules=[no_lookup_of_sid], context={"query": "mail Sid"})
    assert codes(errors) == ["rule"] and seen == {"query": "mail Sid"}


def test_parsed_plans_are_accepted_as_is(mac_tools):
    plan = parse_plan(
        '1. get_email_address("Sid")\n2. compose_new_email(["$1"], [], "Hi", "", [])\n3. join()',
        param_order=mac_tools.param_order,
    )
    assert validate(plan, mac_tools, require_join=True) == []


def test_the_empty_plan_is_valid_exactly_on_a_no_call_example(bfcl_tools):
    from planforge.validators import judge

    for empty in ("", "1. join()"):
        assert validate(empty, bfcl_tools, require_join=True, no_call=True) == []  # no function serves it
        assert codes(validate(empty, bfcl_tools, require_join=True)) == ["empty_plan"]  # elsewhere: no plan
        assert judge(empty, bfcl_tools, no_call=True).valid and judge(empty, bfcl_tools).codes == ("empty_plan",)
    errors = validate("1. geometry.circumference(3, None)\n2. join()", bfcl_tools, no_call=True)
    assert codes(errors) == ["unexpected_call"] and "no offered function serves this request" in errors[0].message
    assert errors[0].step == 1


def test_subsets_share_what_is_compiled_per_function_and_per_group_of_return_types():
    from planforge.validators.references import reference_sensitive_parameters

    # "use" with only a string producer: n (integer) and to (array) cannot take its output, text can
    with_lookup = REF_TOOLS.subset(["lookup", "use"])
    assert {p.name for p in reference_sensitive_parameters(with_lookup)["use"]} == {"n", "to"}
    # the same group of return types in another subset (another order, a function returning nothing)
    again = REF_TOOLS.subset(["anything", "use", "lookup"])
    assert reference_sensitive_parameters(again)["use"] is reference_sensitive_parameters(with_lookup)["use"]
    # another group: with an integer producer too, text (string) is no longer safe from every $K
    with_count = REF_TOOLS.subset(["count", "lookup", "use"])
    assert {p.name for p in reference_sensitive_parameters(with_count)["use"]} == {"n", "to", "text"}
    # an integer producer alone: n can take any $K, so only to and text are checked
    assert {p.name for p in reference_sensitive_parameters(REF_TOOLS.subset(["count", "use"]))["use"]} == {"to", "text"}
    assert codes(validate('1. count()\n2. use(n="$1")', REF_TOOLS.subset(["count", "use"]))) == []
    assert codes(validate('1. lookup("a")\n2. use(n="$1")', with_lookup)) == ["reference_type"]
    # the argument checker is the function's own, whichever subset asks
    validate("1. use(n=1)", with_lookup)
    validate('1. use(n="x")', again)
    assert with_lookup["use"].compiled["checker"] is again["use"].compiled["checker"]


def test_a_pickled_tool_set_carries_its_functions_not_what_was_compiled_for_them():
    import pickle

    tools = REF_TOOLS.subset(["lookup", "use"])
    validate('1. lookup("a")\n2. use(n="$1")', tools)
    assert tools.compiled and tools["use"].compiled
    copy = pickle.loads(pickle.dumps(tools))
    assert copy == tools and copy.compiled == {} and copy["use"].compiled == {}
    assert codes(validate('1. lookup("a")\n2. use(n="$1")', copy)) == ["reference_type"]
