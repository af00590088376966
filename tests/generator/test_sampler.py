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
