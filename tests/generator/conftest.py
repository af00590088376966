"""Helpers for generator tests: a responder that answers like an LLM teacher, from the recipe's templates."""

from __future__ import annotations

import re

import pytest

from planforge.generator.teachers.base import TeacherRequest
from planforge.generator.teachers.template import TemplateTeacher, load_templates
from planforge.recipes.loader import load_recipe

_FUNCTIONS_BLOCK = re.compile(r"The functions the assistant can call:\n(.*?)\n\nRules", re.S)
_TARGETS = re.compile(r"need these functions: (.*?)\. The other")
_NOW = re.compile(r"The current date and time is (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")
_COUNT = re.compile(r"Write (\d+) new examples")


class TemplateResponder:
    """Reads the offered functions, targets and "now" from a teacher prompt and answers with valid
    examples composed by the template teacher: a stand-in LLM whose good answers are known."""

    def __init__(self, seed: int = 7):
        self.recipe = load_recipe("mac_assistant")
        book = load_templates(self.recipe.templates_path, set(self.recipe.tools))
        self.teacher = TemplateTeacher(book, set(self.recipe.tools), seed)

    def request_from_prompt(self, body: dict) -> TeacherRequest:
        system, user = body["messages"][0]["content"], body["messages"][1]["content"]
        offered = [
            line.split("(", 1)[0]
            for line in _FUNCTIONS_BLOCK.search(system).group(1).splitlines()
            if line and not line.startswith(" ")
        ]
        asked = _TARGETS.search(user)  # None: a no-call request (no listed function serves it)
        targets = tuple(t.strip() for t in asked.group(1).split(",")) if asked else ()
        seq = abs(hash(user)) % 10_000_000
        return TeacherRequest(
            seq,
            targets,
            self.recipe.tools.subset(offered),
            _NOW.search(user).group(1),
            int(_COUNT.search(user).group(1)),
            no_call=asked is None,
        )

    def examples(self, body: dict) -> list[dict]:
        import json

        return json.loads(self.teacher.reply(self.request_from_prompt(body)).content)["examples"]


@pytest.fixture(scope="session")
def template_responder() -> TemplateResponder:
    return TemplateResponder()
