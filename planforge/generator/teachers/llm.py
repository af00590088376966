"""The LLM teacher: asks a model behind any OpenAI-compatible endpoint for requests and plans.

It renders the recipe's teacher prompt for each request (the offered functions, the recipe's rules, its
few-shot examples, the targets and the example's "now"; for a no-call request, requests no listed function
serves, with the plan ``1. join()``) and hands it to a :class:`~planforge.llms.ChatClient`;
the client brings structured output, retries, rate limits and the reply cache (:mod:`planforge.llms`)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from planforge.generator.teachers.base import TeacherReply, TeacherRequest
from planforge.llms.base import ChatClient, ClientStats
from planforge.llms.layers import attach_journal
from planforge.prompting import PLANNER_INSTRUCTIONS, render_function
from planforge.recipes.loader import Recipe
from planforge.recipes.prompts import DEFAULT_NO_CALL_PROMPT, DEFAULT_SYSTEM_PROMPT, DEFAULT_USER_PROMPT

EXAMPLES_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["examples"],
    "properties": {
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["query", "plan"],
                "properties": {"query": {"type": "string"}, "plan": {"type": "string"}},
            },
        }
    },
}


class LLMTeacher:
    """Teacher requests -> chat messages -> the client's reply. ``name`` is what run.json records."""

    name = "openai"
    shapes = None  # any plan the targets ask for: the model writes what it is asked

    def __init__(
        self,
        recipe: Recipe,
        client: ChatClient,
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        diversity: Any = None,
    ):
        self.recipe = recipe
        #: the recipe's personas and scenarios (planforge.generator.diversity), one of each per request
        self.diversity = diversity
        self.screen = None
        if diversity is not None:
            from planforge.generator.diversity import MetaScreen

            self.screen = MetaScreen(diversity)
        self.client = client
        self.model = client.model
        self.endpoint = client.endpoint
        self.temperature = recipe.teacher["temperature"] if temperature is None else temperature
        self.max_tokens = max_tokens or recipe.teacher["max_tokens"]
        self._functions = {spec.name: render_function(spec) for spec in recipe.tools.specs}
        self._system = lru_cache(maxsize=1024)(self._system_for)  # by offered functions, in order

    @property
    def stats(self) -> ClientStats:
        return self.client.stats

    # -- prompt ----------------------------------------------------------------------------------------

    def messages(self, request: TeacherRequest) -> list[dict[str, Any]]:
        """The system turn depends only on the offered functions (built once per set), the user turn on the
        targets (a no-call request's: none of the functions serves it), the count and "now"."""
        teacher = self.recipe.teacher
        system = self._system(tuple(request.tools))
        if request.no_call:
            user = teacher.get("no_call_prompt", DEFAULT_NO_CALL_PROMPT).format(
                num_examples=request.num_examples, now=request.now
            )
        else:
            user = teacher.get("user_prompt", DEFAULT_USER_PROMPT).format(
                num_examples=request.num_examples, targets=", ".join(request.targets), now=request.now
            )
        if self.diversity is not None:
            user = f"{user}\n\n{self.diversity.prompt_line(request.seq)}"
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    def _system_for(self, offered: tuple[str, ...]) -> str:
        teacher = self.recipe.teacher
        few_shot = (
            "\n\n".join(
                f"Request: {shot.query}\n" + (f"(now: {shot.now})\n" if shot.now else "") + f"Plan:\n{shot.plan}"
                for shot in self.recipe.few_shot
            )
            or "(none)"
        )
        rules = "\n".join(f"- {r.description}" for r in self.recipe.rules) or "- (none)"
        return teacher.get("system_prompt", DEFAULT_SYSTEM_PROMPT).format(
            planner_instructions=teacher.get("planner_instructions", PLANNER_INSTRUCTIONS),
            functions="\n".join(self._functions[name] for name in offered),
            rules=rules,
            few_shot=few_shot,
        )

    def render(self, request: TeacherRequest) -> str:
        return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in self.messages(request))

    def sampling_params(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    # -- calls -----------------------------------------------------------------------------------------

    async def complete(self, request: TeacherRequest) -> TeacherReply:
        return await self.client.chat(self.messages(request), self.sampling_params())

    def attach_journal(self, journal: Any) -> None:
        """Hand the run's batch journal to the client's batch layer, when it has one."""
        attach_journal(self.client, journal)

    async def aclose(self) -> None:
        await self.client.aclose()
