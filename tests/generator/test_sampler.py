"""The function sampler: seeded draws, coverage, replay on resume."""

from collections import Counter

from planforge.generator.sampler import FunctionSampler
from planforge.recipes.loader import load_recipe

RECIPE = load_recipe("mac_assistant")


def draws(sampler, n):
    return [sampler.draw() for _ in range(n)]


def test_sampler_is_seeded_and_offers_targets_plus_distractors():
    a = draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=3), 50)
    b = draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=3), 50)
    assert [(r.targets, list(r.tools), r.now) for r in a] == [(r.targets, list(r.tools), r.now) for r in b]
    for request in a:
        if request.no_call:  # sampling.no_call_share of the requests: functions offered, none needed
            assert request.targets == () and len(request.tools) >= 3
            continue
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


def test_each_example_of_a_shaped_request_gets_its_own_shape_and_offered_functions():
    from planforge.generator.teachers.template import TemplateTeacher, load_templates

    teacher = TemplateTeacher(load_templates(RECIPE.templates_path, set(RECIPE.tools)), set(RECIPE.tools), seed=0)
    shapes = {s.id: s for s in teacher.shapes.shapes}
    requests = all_requests = draws(FunctionSampler.for_teacher(RECIPE.tools, RECIPE.sampling, 0, teacher), 100)
    low, high = RECIPE.sampling["min_distractors"], RECIPE.sampling["max_distractors"]
    no_call = [r for r in requests if r.no_call]  # sampling.no_call_share: no shape, since no function serves them
    assert len(no_call) == 5 and all(r.shapes == () == r.example_tools == r.targets for r in no_call)
    requests = [r for r in requests if not r.no_call]
    for request in requests:
        assert len(request.shapes) == len(request.example_tools) == request.num_examples
        assert set(request.targets) == shapes[request.shapes[0]].functions
        assert list(request.tools_for(0)) == list(request.tools)
        for shape, tools in zip(request.shapes, request.example_tools, strict=True):
            functions = shapes[shape].functions
            assert functions <= set(tools) and low <= len(tools) - len(functions) <= high
    mixed = sum(len({shapes[s].structure for s in r.shapes}) >= 4 for r in requests)
    assert mixed >= 90  # a request's examples are mostly of different structures
    resumed = FunctionSampler.for_teacher(RECIPE.tools, RECIPE.sampling, 0, teacher)
    resumed.skip_to(60)
    again = draws(resumed, 40)
    assert [(r.shapes, [list(t) for t in r.example_tools]) for r in again] == [
        (r.shapes, [list(t) for t in r.example_tools]) for r in all_requests[60:]
    ]


def test_a_teacher_without_shapes_gets_one_function_set_per_request():
    for request in draws(FunctionSampler(RECIPE.tools, RECIPE.sampling, seed=2), 20):
        assert request.shapes == () and request.example_tools == ()
        assert all(request.tools_for(i) is request.tools for i in range(request.num_examples))
