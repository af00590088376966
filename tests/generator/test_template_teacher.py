"""The offline template teacher, alone."""

import json
from collections import Counter

from planforge.generator.sampler import FunctionSampler
from planforge.generator.teachers.template import TemplateTeacher, load_templates
from planforge.recipes.loader import load_recipe
from planforge.validators import validate

RECIPE = load_recipe("mac_assistant")


def test_template_teacher_writes_valid_multi_intent_examples():
    book = load_templates(RECIPE.templates_path, set(RECIPE.tools))
    teacher = TemplateTeacher(book, set(RECIPE.tools), seed=0)
    sampler = FunctionSampler.for_teacher(RECIPE.tools, RECIPE.sampling, 0, teacher)
    queries, multi, covered = set(), 0, Counter()
    for _ in range(200):
        request = sampler.draw()
        for i, example in enumerate(json.loads(teacher.reply(request).content)["examples"]):
            errors = validate(
                example["plan"],
                request.tools_for(i),
                require_join=True,
                rules=RECIPE.rule_functions(),
                context={"query": example["query"], "now": request.now},
                no_call=request.no_call,
            )
            assert errors == [], (example, errors)
            queries.add(example["query"])
            multi += any(c in example["query"] for c in (" and ", ", then ", "Also, "))
            covered.update(line.split(". ", 1)[1].split("(")[0] for line in example["plan"].splitlines())
    assert len(queries) > 900  # paraphrase and slot variety
    assert multi > 200
    assert set(covered) - {"join"} == set(RECIPE.tools)
