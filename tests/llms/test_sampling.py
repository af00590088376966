"""Local plans, greedy and sampled: the student of on-policy negatives samples several plans per prompt."""

from __future__ import annotations

import datasets
import pytest

from planforge.dataset.rows import row_prompt, row_tools
from planforge.errors import ConfigError
from planforge.llms.planners import LocalPlanner, PlannerPrompt

pytestmark = pytest.mark.torch


def test_greedy_and_sampled_plans(plans_dir, tiny_model_dir):
    import torch

    rows = datasets.load_from_disk(str(plans_dir))["test"]
    prompts = [PlannerPrompt(row_prompt(row), row_tools(row)) for row in rows]
    greedy = LocalPlanner(str(tiny_model_dir), max_new_tokens=12, batch_size=2)
    first = greedy.generate(prompts)
    assert len(first) == len(prompts) and greedy.generate(prompts) == first  # greedy is deterministic
    assert greedy.sample(prompts) == [[text] for text in first]  # temperature 0: one greedy plan
    assert len(greedy.prompt_tokens) == 3 * len(prompts) and min(greedy.prompt_tokens) > 0

    sampler = LocalPlanner(str(tiny_model_dir), max_new_tokens=12, batch_size=2, temperature=1.5, samples=3)
    torch.manual_seed(0)
    found = sampler.sample(prompts)
    assert [len(s) for s in found] == [3] * len(prompts)
    assert len({text for samples in found for text in samples}) > len(prompts)  # sampling varies the plans
    torch.manual_seed(0)
    assert sampler.sample(prompts) == found  # and is reproducible from the seed

    with pytest.raises(ConfigError, match="temperature above 0"):
        LocalPlanner(str(tiny_model_dir), samples=2).sample(prompts)
