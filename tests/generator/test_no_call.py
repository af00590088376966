"""No-call examples (relevance detection): requests no offered function serves, their plan the empty plan."""

import json
import random

import datasets
import pytest

from planforge.dataset.rows import Example, RowBuilder, row_plan, row_tools
from planforge.generator.assess import Assessor, RequestSpec
from planforge.generator.sampler import FunctionSampler
from planforge.generator.teachers.base import TeacherRequest
from planforge.generator.teachers.no_call import EMPTY_PLAN, KINDS, compose_no_call, templates
from planforge.generator.teachers.template import TemplateTeacher, load_templates
from planforge.plan import parse_plan
from planforge.recipes.loader import load_recipe
from planforge.validators import judge

from .test_run_template import gen

RECIPE = load_recipe("mac_assistant")


def test_mac_assistant_asks_for_five_percent_and_other_recipes_for_none():
    assert RECIPE.sampling["no_call_share"] == 0.05
    sampling = {**RECIPE.sampling}
    del sampling["no_call_share"]  # a recipe that does not say: no no-call requests
    sampler = FunctionSampler(RECIPE.tools, sampling, seed=0)
    assert not any(sampler.draw().no_call for _ in range(200))


def test_the_sampler_marks_an_exact_seeded_share_of_requests_no_call():
    def run(seed, share, n=2000):
        sampler = FunctionSampler(RECIPE.tools, {**RECIPE.sampling, "no_call_share": share}, seed=seed)
        return [sampler.draw() for _ in range(n)]

    requests = run(0, 0.05)
    marked = [r for r in requests if r.no_call]
    assert len(marked) == 100  # 5% of 2,000, spread evenly
    assert max(b.seq - a.seq for a, b in zip(marked, marked[1:], strict=False)) == 20
    for request in marked:
        assert request.targets == () and request.shapes == () and request.example_tools == ()
        assert len(request.tools) >= 3
    assert [r.seq for r in run(0, 0.05) if r.no_call] == [r.seq for r in marked]  # seeded
    assert [r.seq for r in run(1, 0.05) if r.no_call] != [r.seq for r in marked]
    assert not any(r.no_call for r in run(0, 0.0, 300))
    # a resumed run replays the same requests, no-call ones included
    resumed = FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=0)
    resumed.skip_to(1500)
    assert [(r.no_call, list(r.tools)) for r in (resumed.draw() for _ in range(100))] == [
        (r.no_call, list(r.tools)) for r in requests[1500:1600]
    ]


def test_no_call_phrasing_fills_every_template_and_writes_the_empty_plan():
    rng = random.Random(0)
    assert set(templates()) == set(KINDS)
    assert all(t[0].isupper() for kind in templates().values() for t in kind)  # each one a sentence
    seen = {compose_no_call(rng, kind=kind)["query"] for kind in KINDS for _ in range(200)}
    assert len(seen) > 100 and not any("{" in q or "}" in q for q in seen)
    assert compose_no_call(rng)["plan"] == EMPTY_PLAN and not parse_plan(EMPTY_PLAN).calls


@pytest.fixture(scope="module")
def teacher():
    book = load_templates(RECIPE.templates_path, set(RECIPE.tools))
    return TemplateTeacher(book, set(RECIPE.tools), seed=0)


def test_the_template_teacher_writes_no_call_requests_the_validators_accept_only_as_such(teacher):
    offered = ["send_sms", "get_phone_number", "create_note"]
    request = TeacherRequest(7, (), RECIPE.tools.subset(offered), "2026-03-09 10:00:00", 40, no_call=True)
    examples = json.loads(teacher.reply(request).content)["examples"]
    assert len(examples) == 40 and {e["plan"] for e in examples} == {EMPTY_PLAN}
    assert len({e["query"] for e in examples}) >= 30
    context = {"now": request.now}
    for example in examples:
        marked = judge(example["plan"], request.tools, rules=RECIPE.rule_functions(), context=context, no_call=True)
        assert marked.valid, (example, marked.errors)
        unmarked = judge(example["plan"], request.tools, rules=RECIPE.rule_functions(), context=context)
        assert unmarked.codes == ("empty_plan",)
    # about half ask of the grammar for functions that were not offered ("email Sid" with no mail function shown)
    texts = " ".join(e["query"].lower() for e in examples)
    assert any(word in texts for word in ("email", "remind", "calendar", "directions", "zoom", "summar"))


def test_a_seeded_run_writes_the_share_marked_and_validated(tmp_path):
    out = tmp_path / "mac"
    result = gen("run", "recipe", "mac_assistant", "--out", str(out), "-n", "600", "--seed", "3")
    assert result.returncode == 0, result.stderr
    data = datasets.load_from_disk(str(out))
    rows = [row for split in data.values() for row in split]
    no_call = [row for row in rows if row["meta"]["no_call"]]
    assert 0.03 <= len(no_call) / len(rows) <= 0.07
    rules = RECIPE.rule_functions()
    for row in rows:
        tools, plan = row_tools(row), row_plan(row)
        marked = row["meta"]["no_call"]
        assert bool(plan.calls) != marked
        context = {"query": row["query"], "now": row["meta"]["now"]}
        assert judge(row["plan_text"], tools, rules=rules, context=context, no_call=marked).valid
        if marked:
            assert row["plan"] == "[]" and row["plan_text"] == EMPTY_PLAN and row["target_tools"] == []
            assert judge(row["plan_text"], tools, rules=rules, context=context).codes == ("empty_plan",)
            assert Example.from_row(row).no_call
    run = json.loads((out / "run.json").read_text())
    assert run["sampling"]["no_call_share"] == 0.05


def test_a_call_on_a_no_call_example_is_an_error():
    tools = RECIPE.tools.subset(["send_sms", "get_phone_number"])
    plan = '1. get_phone_number("Sid")\n2. send_sms(["$1"], "hi")\n3. join()'
    assert judge(plan, tools, no_call=True).codes == ("unexpected_call",)
    assert judge(plan, tools).valid


def test_the_flag_rides_in_the_compact_record_so_rows_rebuilt_from_a_checkpoint_keep_it(teacher):
    offered = ["send_sms", "get_phone_number", "create_note"]
    request = TeacherRequest(7, (), RECIPE.tools.subset(offered), "2026-03-09 10:00:00", 6, no_call=True)
    spec = RequestSpec.of(request)
    assert spec.no_call and Assessor(RECIPE, "template", None).request(spec) == request  # as worker processes see it
    assessed = Assessor(RECIPE, "template", None).assess(request, teacher.reply(request))
    assert len(assessed.candidates) == 6 and not assessed.counters.get("rejected")
    builder = RowBuilder(RECIPE.tools, teacher="template", model="template", recipe=RECIPE.name)
    for candidate in assessed.candidates:
        record = json.loads(json.dumps(candidate.record))  # as the checkpoint keeps it
        assert record[6] == {"no_call": True}
        row = builder.row(record, offered, request.now, request.request_id)
        assert row["meta"]["no_call"] is True and row["plan_text"] == EMPTY_PLAN and row["target_tools"] == []
        assert Example.from_row(row).no_call and Example.from_row(row).record() == tuple(candidate.record)
    # an ordinary request's records carry no flag, and their rows say false
    plain = TeacherRequest(8, ("create_note",), RECIPE.tools.subset(offered), "2026-03-09 10:00:00", 2)
    for candidate in Assessor(RECIPE, "template", None).assess(plain, teacher.reply(plain)).candidates:
        assert len(candidate.record) == 6
        assert builder.row(candidate.record, offered, plain.now, plain.request_id)["meta"]["no_call"] is False
    # the same request unmarked: every empty plan is rejected
    unmarked = Assessor(RECIPE, "template", None).assess(
        TeacherRequest(7, (), request.tools, request.now, 6), teacher.reply(request)
    )
    assert not unmarked.candidates and unmarked.counters["rejected"] == {"empty_plan": 6}
