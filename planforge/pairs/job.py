"""One ``gen pairs`` job: read a plans dataset, build the pairs, write them whole (``pairs.json`` beside them)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.dataset.disk import atomic_dir, check_output, load_dataset_of_kind, save_dataset
from planforge.dataset.features import PLANS
from planforge.errors import ConfigError
from planforge.llms.endpoint import EndpointOptions
from planforge.llms.planners import EndpointPlanner, LocalPlanner, Planner
from planforge.llms.views import PromptSettings, PromptViews
from planforge.pairs.builder import PairsConfig, build_pairs, summary

STUDENTS = ("local", "openai", "adapter:DIR")
ADAPTER = "adapter:"


@dataclass
class StudentOptions:
    kind: str = "local"  # local (transformers) | openai (any OpenAI-compatible endpoint) | adapter:DIR (a LoRA)
    model: str | None = None  # hub id, folder or .gguf (local; default SmolLM2-135M), or the endpoint's model
    endpoint: EndpointOptions = field(
        default_factory=lambda: EndpointOptions(concurrency=8, max_retries=2, use_cache=False)
    )
    temperature: float = 0.0
    top_p: float = 1.0
    samples: int = 1  # plans sampled per example (needs a temperature above 0 when more than one)
    max_new_tokens: int = 320
    batch_size: int = 8  # local: prompts per generation batch

    @property
    def adapter(self) -> str | None:
        """``adapter:DIR``'s folder: the student is that adapter on its base model (on-policy negatives)."""
        return self.kind[len(ADAPTER) :] if self.kind.startswith(ADAPTER) else None

    def check(self) -> None:
        if self.samples < 1:
            raise ConfigError("--samples must be at least 1")
        if self.samples > 1 and self.temperature <= 0:
            raise ConfigError("--samples above 1 needs --temperature above 0 (greedy plans are all the same)")
        if self.kind not in ("local", "openai") and not self.adapter:
            raise ConfigError(f"--student must be local, openai or adapter:DIR, not {self.kind!r}")
        if self.adapter is not None and not (Path(self.adapter) / "adapter_config.json").is_file():
            raise ConfigError(f"--student {self.kind}: not a LoRA adapter directory (no adapter_config.json)")

    def build(self) -> Planner:
        self.check()
        if self.kind == "openai":
            if not self.model:
                raise ConfigError("--student openai needs --model (the endpoint's model name)")
            self.endpoint.model = self.model
            return EndpointPlanner(
                self.endpoint, temperature=self.temperature, max_tokens=self.max_new_tokens, samples=self.samples
            )
        model = self.model
        if self.adapter is not None:
            from planforge.llms.local import base_model_of

            model = model or base_model_of(self.adapter)
            if not model:
                raise ConfigError(f"{self.adapter}: cannot tell the adapter's base model; pass --model")
        return LocalPlanner(
            model,
            adapter=self.adapter,
            max_new_tokens=self.max_new_tokens,
            batch_size=self.batch_size,
            temperature=self.temperature,
            top_p=self.top_p,
            samples=self.samples,
        )

    def views(self, dataset: Path) -> PromptViews:
        """What the student is shown: an adapter's own training prompts (its ToolRAG classifier, its demonstrations,
        from its training data or else this dataset's train split); the SFT prompt for any other student."""
        if self.adapter is None:
            return PromptViews(PromptSettings())
        return PromptViews.load(PromptSettings.resolve(None, None, None, run=self.adapter, data=str(dataset)))


@dataclass
class PairsJob:
    dataset: Path
    out: Path
    pairs: PairsConfig = field(default_factory=PairsConfig)
    student: StudentOptions = field(default_factory=StudentOptions)
    overwrite: bool = False


def run_pairs(job: PairsJob, progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Build and write the pairs; returns the report written to ``pairs.json``. Nothing is written on failure."""
    job.pairs.check()
    check_output(job.out, job.overwrite)
    job.student.check()
    plans = load_dataset_of_kind(job.dataset, kind=PLANS)
    student = job.student.build() if job.pairs.uses_student else None
    views = job.student.views(job.dataset) if student is not None else None
    start = time.perf_counter()
    dataset, stats = build_pairs(plans, job.pairs, student, views=views, progress=progress)
    report = summary(
        stats,
        job.pairs,
        source=str(job.dataset),
        student=student.name if student else None,
        seconds=time.perf_counter() - start,
    )
    if student is not None:
        report["student_sampling"] = {
            "temperature": job.student.temperature,
            "top_p": job.student.top_p,
            "samples": job.student.samples,
        }
        if views is not None and (views.settings.toolrag or views.settings.icl_examples):
            report["student_prompts"] = {
                "toolrag": views.settings.toolrag,
                "icl_examples": views.settings.icl_examples,
                "icl_data": views.settings.icl_data,
            }
    with atomic_dir(job.out, job.overwrite) as tmp:
        save_dataset(dataset, tmp)
        (tmp / "pairs.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report
