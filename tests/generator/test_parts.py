"""Sampler, template teacher, reply parsing, dedup, splits and the checkpoint, each alone."""

import json
from collections import Counter
from itertools import combinations

import pytest

from planforge.generator.checkpoint import Checkpoint, CheckpointError
from planforge.generator.dedup import Deduplicator, jaccard
from planforge.generator.replies import ReplyFormatError, parse_reply
from planforge.generator.sampler import FunctionSampler
from planforge.generator.teachers.template import TemplateTeacher, load_templates
from planforge.generator.writer import assign_splits, parse_splits, split_sizes
from planforge.recipes.loader import load_recipe
from planforge.validators import validate

RECIPE = load_recipe("mac_assistant")


def draws(sampler, n):
    return [sampler.draw() for _ in range(n)]


def test_sampler_is_seeded_and_offers_targets_plus_distractors():
    a = draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=3), 50)
    b = draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=3), 50)
    assert [(r.targets, list(r.tools), r.now) for r in a] == [(r.targets, list(r.tools), r.now) for r in b]
    for request in a:
        assert 1 <= len(request.targets) <= 4
        assert set(request.targets) <= set(request.tools)
        assert 2 <= len(request.tools) - len(request.targets) <= 6
    # co-use: summarize_pdf always comes with open_and_get_file_path
    assert all("open_and_get_file_path" in r.targets for r in a if "summarize_pdf" in r.targets)


def test_sampler_coverage_reaches_every_function_and_rare_combinations():
    sampler = FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=0)
    requests = draws(sampler, 400)
    used = Counter(f for r in requests for f in r.targets)
    assert set(used) == set(RECIPE.tools)
    assert min(used.values()) >= 0.25 * max(used.values())  # weighted towards what is little used


def test_sampler_resume_replays_the_same_requests():
    full = draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=1), 30)
    resumed = FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=1)
    resumed.skip_to(20)
    assert [r.targets for r in draws(resumed, 10)] == [r.targets for r in full[20:]]


def test_template_teacher_writes_valid_multi_intent_examples():
    book = load_templates(RECIPE.templates_path, set(RECIPE.tools))
    teacher = TemplateTeacher(book, set(RECIPE.tools), 4, seed=0)
    sampler = FunctionSampler.for_teacher(RECIPE.tools, RECIPE.sampling, 0, teacher)
    queries, multi, covered = set(), 0, Counter()
    for _ in range(200):
        request = sampler.draw()
        for example in json.loads(teacher.reply(request).content)["examples"]:
            errors = validate(
                example["plan"],
                request.tools,
                require_join=True,
                rules=RECIPE.rule_functions(),
                context={"query": example["query"], "now": request.now},
            )
            assert errors == [], (example, errors)
            queries.add(example["query"])
            multi += any(c in example["query"] for c in (" and ", ", then ", "Also, "))
            covered.update(line.split(". ", 1)[1].split("(")[0] for line in example["plan"].splitlines())
    assert len(queries) > 900  # paraphrase and slot variety
    assert multi > 200
    assert set(covered) - {"join"} == set(RECIPE.tools)


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


def test_dedup_exact_and_near():
    original = "Please email Sid about the Q3 budget and the hiring pipeline before Friday"
    typo = "Please email Sid about the Q3 budget and the hiring pipline before Friday"
    assert jaccard(original, typo) > 0.85
    dedup = Deduplicator(threshold=0.85)
    dedup.add_text(original)
    assert dedup.check("please EMAIL Sid about the Q3 budget, and the hiring pipeline before Friday!").kind == "exact"
    assert dedup.check(typo).kind == "near"
    assert dedup.check("Email Sid about the Q3 budget").kind is None  # similar, not near: 0.85 is strict
    assert dedup.check("Text Lutfi that dinner is at 7").kind is None


def test_splits_settings_and_assignment():
    assert parse_splits("validation=0.1, test=20") == {"validation": 0.1, "test": 20.0}
    with pytest.raises(ValueError, match="unknown split"):
        parse_splits("dev=0.1")
    assert split_sizes(100, {"validation": 0.05, "test": 0.05}) == {"train": 90, "validation": 5, "test": 5}
    assert split_sizes(100, {"validation": 10, "test": 3}) == {"train": 87, "validation": 10, "test": 3}
    parts = assign_splits(50, {"validation": 0.1, "test": 0.1}, seed=0)
    assert sorted(i for p in parts.values() for i in p) == list(range(50))
    assert all(set(a).isdisjoint(b) for a, b in combinations(parts.values(), 2))
    assert parts == assign_splits(50, {"validation": 0.1, "test": 0.1}, seed=0)


def test_checkpoint_resume_drops_torn_lines_and_unfinished_requests(tmp_path):
    header = {"config_hash": "abc"}
    checkpoint = Checkpoint(tmp_path / "checkpoint.jsonl")
    checkpoint.start(header)
    checkpoint.record_request(0, [{"query": "a"}, {"query": "b"}], {"requests": 1, "accepted": 2})
    checkpoint.record_request(1, [], {"requests": 1, "failed_requests": 1})
    checkpoint.close()
    with checkpoint.path.open("a") as handle:  # request 2 died after one example, mid-line
        handle.write(json.dumps({"kind": "example", "seq": 2, "row": {"query": "c"}}) + "\n")
        handle.write('{"kind": "exa')
    state = checkpoint.resume(header)
    assert (state.next_seq, state.rows, state.queries) == (2, 2, ["a", "b"])
    checkpoint.record_request(2, [{"query": "d"}], {"requests": 1, "accepted": 1})
    checkpoint.close()
    assert [r["query"] for r in checkpoint.rows()] == ["a", "b", "d"]
    with pytest.raises(CheckpointError, match="made with other settings"):
        Checkpoint(checkpoint.path).resume({"config_hash": "other"})
