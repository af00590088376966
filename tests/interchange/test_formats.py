"""Each format on its own (pure): a planforge row written out is the format's documented shape, and read back it
is the same request and the same plan; records of the published shapes (written here by hand) are read right;
broken records are a counted code, never an exception."""

from __future__ import annotations

import json

import datasets
import pytest

from planforge.dataset.rows import row_plan, row_tools
from planforge.errors import RecordFormatError
from planforge.interchange import EXPORTERS, IMPORTERS, bfcl, glaive, hermes, openai, sharegpt, xlam
from planforge.plan import parse_calls
from planforge.validators import judge, plans_equivalent


@pytest.fixture(scope="module")
def rows(plans_dir):
    loaded = datasets.load_from_disk(str(plans_dir))
    return [row for split in loaded.values() for row in split]


def _same_plan(row, imported) -> bool:
    verdict = judge(imported.calls, imported.tools)
    assert verdict.errors == (), verdict.errors
    return plans_equivalent(verdict.plan, row_plan(row).bind(row_tools(row).param_order))


@pytest.mark.parametrize("name", ["openai", "sharegpt", "hermes", "xlam"])
def test_every_row_comes_back_as_the_same_request_and_plan(rows, name):
    module = EXPORTERS[name]
    for index, row in enumerate(rows):
        record = json.loads(json.dumps(module.export_row(row, index)))  # what a file holds
        imported = IMPORTERS[name].import_record(record, index)
        assert imported.query == row["query"]
        assert set(imported.tools) == set(row_tools(row))
        assert _same_plan(row, imported)
        if name in ("openai", "hermes"):
            assert imported.now == row["meta"]["now"]  # carried in the system turn


def test_bfcl_items_and_answers_come_back(rows):
    for index, row in enumerate(rows):
        question, answer = bfcl.export_row(row, index), bfcl.export_answer(row, index)
        assert question["id"] == answer["id"] and question["id"].rsplit("_", 1)[0] in (
            "simple",
            "multiple",
            "parallel",
            "parallel_multiple",
        )
        assert all(f["parameters"]["type"] == "dict" for f in question["function"])
        imported = bfcl.import_record(json.loads(json.dumps(question)), index, answer)
        assert imported.query == row["query"]
        verdict = judge(imported.calls, imported.tools)
        assert verdict.errors == ()
        # BFCL has no null: a None argument is written as "leave it out", so compare the given values
        given = [(c["name"], {k: v for k, v in c["arguments"].items() if v is not None}) for c in imported.calls]
        plan = row_plan(row).bind(row_tools(row).param_order)
        assert given == [(s.name, {k: v for k, v in s.kwargs.items() if v is not None}) for s in plan.calls]


def test_openai_export_is_what_openai_fine_tuning_reads(rows):
    record = openai.export_row(rows[0], 0)
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["system", "user", "assistant"]
    calls = record["messages"][-1]["tool_calls"]
    assert all(isinstance(c["function"]["arguments"], str) for c in calls)  # JSON strings, as OpenAI wants
    assert all(json.loads(c["function"]["arguments"]) is not None for c in calls)
    assert [c["id"] for c in calls] == [f"call_{k}" for k in range(1, len(calls) + 1)]
    for entry in record["tools"]:
        assert entry["type"] == "function" and set(entry["function"]) == {"name", "description", "parameters"}


def test_references_stay_dollar_k_strings(rows):
    chained = next(r for r in rows if '"$1"' in r["plan"])
    calls = [
        json.loads(c["function"]["arguments"]) for c in openai.export_row(chained, 0)["messages"][-1]["tool_calls"]
    ]
    assert any("$1" in json.dumps(arguments) for arguments in calls)
    answers = json.loads(xlam.export_row(chained, 0)["answers"])
    assert any("$1" in json.dumps(a["arguments"]) for a in answers)


HERMES_PUBLISHED = {
    "id": "h-1",
    "conversations": [
        {
            "from": "system",
            "value": "You are a function calling AI model. You are provided with function signatures within "
            "<tools></tools> XML tags. Here are the available tools: <tools> [{'type': 'function', 'function': "
            "{'name': 'get_stock_price', 'description': 'Get a stock price', 'parameters': {'type': 'object', "
            "'properties': {'symbol': {'type': 'string'}}, 'required': ['symbol']}}}] </tools>",
        },
        {"from": "human", "value": "What is Apple trading at, and Microsoft?"},
        {
            "from": "gpt",
            "value": "<tool_call>\n{'arguments': {'symbol': 'AAPL'}, 'name': 'get_stock_price'}\n</tool_call>\n"
            "<tool_call>\n{'arguments': {'symbol': 'MSFT'}, 'name': 'get_stock_price'}\n</tool_call>",
        },
        {"from": "tool", "value": "<tool_response>{'price': 1}</tool_response>"},
    ],
}

GLAIVE_PUBLISHED = {
    "system": "SYSTEM: You are a helpful assistant with access to the following functions. Use them if required -\n"
    '{\n    "name": "get_exchange_rate",\n    "description": "Get the exchange rate between two currencies",\n'
    '    "parameters": {\n        "type": "object",\n        "properties": {\n            "base_currency": '
    '{"type": "string"},\n            "target_currency": {"type": "string"}\n        },\n'
    '        "required": ["base_currency", "target_currency"]\n    }\n}\n',
    "chat": "USER: Hi, I need to know the exchange rate from USD to GBP.\n\n\nASSISTANT: <functioncall> "
    '{"name": "get_exchange_rate", "arguments": \'{"base_currency": "USD", "target_currency": "GBP"}\'} '
    '<|endoftext|>\n\n\nFUNCTION RESPONSE: {"exchange_rate": 0.75}\n\n\nASSISTANT: It is 0.75. <|endoftext|>\n\n\n'
    "USER: Thanks, and EUR?\n\n\nASSISTANT: <functioncall> "
    '{"name": "get_exchange_rate", "arguments": \'{"base_currency": "USD", "target_currency": "EUR"}\'} '
    "<|endoftext|>",
}

XLAM_PUBLISHED = {
    "id": 7,
    "query": "Find the top 3 stories in 'technology' and also check whether 'racecar' is a palindrome.",
    "tools": json.dumps(
        [
            {
                "name": "top_stories",
                "description": "Top stories of a section.",
                "parameters": {
                    "section": {"description": "The section.", "type": "str", "default": "home"},
                    "limit": {"description": "How many.", "type": "int, optional", "default": 10},
                },
            },
            {
                "name": "is_palindrome",
                "description": "Checks a word.",
                "parameters": {"text": {"description": "The word.", "type": "str"}},
            },
            {
                "name": "mean",
                "description": "Mean of numbers.",
                "parameters": {"numbers": {"description": "The numbers.", "type": "List[float]"}},
            },
        ]
    ),
    "answers": json.dumps(
        [
            {"name": "top_stories", "arguments": {"section": "technology", "limit": 3}},
            {"name": "is_palindrome", "arguments": {"text": "racecar"}},
        ]
    ),
}


def test_published_hermes_with_python_literals():
    imported = hermes.import_record(HERMES_PUBLISHED, 0)
    assert imported.query == "What is Apple trading at, and Microsoft?" and imported.source_id == "h-1"
    assert [c["arguments"]["symbol"] for c in imported.calls] == ["AAPL", "MSFT"]
    assert judge(imported.calls, imported.tools).errors == ()


def test_published_glaive_takes_the_calls_before_the_next_user_turn():
    imported = glaive.import_record(GLAIVE_PUBLISHED, 3)
    assert imported.query == "Hi, I need to know the exchange rate from USD to GBP."
    assert imported.calls == [
        {"name": "get_exchange_rate", "arguments": {"base_currency": "USD", "target_currency": "GBP"}}
    ]
    assert list(imported.tools) == ["get_exchange_rate"]
    declined = {**GLAIVE_PUBLISHED, "chat": "USER: Book a flight.\n\n\nASSISTANT: I can't do that. <|endoftext|>"}
    with pytest.raises(RecordFormatError) as caught:
        glaive.import_record(declined, 0)
    assert caught.value.code == "no_calls"


def test_published_xlam_with_its_tool_dialect():
    imported = xlam.import_record(XLAM_PUBLISHED, 0)
    params = imported.tools["top_stories"].parameters
    assert params["properties"]["limit"] == {"type": "integer", "description": "How many.", "default": 10}
    assert params["required"] == []  # a default or ", optional" makes a parameter optional
    assert imported.tools["is_palindrome"].parameters["required"] == ["text"]
    assert imported.tools["mean"].parameters["properties"]["numbers"]["items"] == {"type": "number"}
    assert judge(imported.calls, imported.tools).errors == ()
    assert imported.source_id == "7"


def test_xlam_types_written_back_in_its_spelling(mac_tools):
    written = xlam.xlam_function(mac_tools["compose_new_email"])
    assert written["parameters"]["recipients"]["type"] == "List[str]"
    assert all(not p["type"].endswith("optional") for p in written["parameters"].values())  # all required there
    assert xlam.type_name({"type": ["string", "null"]}) == "Union[str, None]"


def test_sharegpt_reads_a_single_call_object():
    record = {
        "conversations": [
            {"from": "human", "value": "Weather in Paris?"},
            {"from": "function_call", "value": '{"name": "weather", "arguments": {"city": "Paris"}}'},
            {"from": "observation", "value": "sunny"},
            {"from": "gpt", "value": "Sunny."},
        ],
        "tools": '[{"name": "weather", "description": "", "parameters": {"type": "object", '
        '"properties": {"city": {"type": "string"}}, "required": ["city"]}}]',
    }
    imported = sharegpt.import_record(record, 0)
    assert imported.calls == [{"name": "weather", "arguments": {"city": "Paris"}}]


@pytest.mark.parametrize(
    ("name", "record", "code"),
    [
        ("openai", {"messages": "no"}, "bad_record"),
        (
            "openai",
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
            "no_calls",
        ),
        ("openai", {"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f"}}]}]}, "no_query"),
        (
            "openai",
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{not json"}}]},
                ]
            },
            "unreadable",
        ),
        ("openai", {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [7]}]}, "calls"),
        ("sharegpt", {"conversations": [{"from": "human", "value": "x"}]}, "no_calls"),
        ("hermes", {"conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "hi"}]}, "no_calls"),
        ("xlam", {"query": "x", "answers": "[]", "tools": "[]"}, "no_calls"),
        ("xlam", {"query": "", "answers": "[]"}, "no_query"),
        ("xlam", {"query": "x", "answers": '[{"name": "f", "arguments": {}}]', "tools": '[{"name": 3}]'}, "tools"),
        ("glaive", ["not", "a", "record"], "bad_record"),
        ("bfcl", {"question": [[{"role": "user", "content": "x"}]], "function": [{"name": "f"}]}, "no_calls"),
    ],
)
def test_broken_records_are_a_code_not_a_crash(name, record, code):
    with pytest.raises(RecordFormatError) as caught:
        IMPORTERS[name].import_record(record, 0)
    assert caught.value.code == code and str(caught.value)


def test_hostile_literals_are_refused_without_crashing():
    from planforge.interchange.calls import loads

    for text in ("(" * 100_000, "[" * 5000 + "]" * 5000, "__import__('os').system('true')", "{1, 2}", "1e999"):
        with pytest.raises(RecordFormatError):
            value = loads(text, "x")
            parse_calls(value)  # 1e999 decodes (as inf): the plan reader refuses it
