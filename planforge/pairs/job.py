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
from planforge.pairs.builder import PairsConfig, build_pairs, summary

STUDENTS = ("local", "openai")


@dataclass
class StudentOptions:
    kind: str = "local"  # local (transformers) | openai (any OpenAI-compatible endpoint)
    model: str | None = None  # hub id, folder or .gguf (local; default SmolLM2-135M), or the endpoint's model
    endpoint: EndpointOptions = field(
        default_factory=lambda: EndpointOptions(concurrency=8, max_retries=2, use_cache=False)
    )
    temperature: float = 0.0
    max_new_tokens: int = 320
    batch_size: int = 8  # local: prompts per generation batch

    def build(self) -> Planner:
        if self.kind == "openai":
            if not self.model:
                raise ConfigError("--student openai needs --model (the endpoint's model name)")
            self.endpoint.model = self.model
            return EndpointPlanner(self.endpoint, temperature=self.temperature, max_tokens=self.max_new_tokens)
        if self.kind == "local":
            return LocalPlanner(self.model, max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)
        raise ConfigError(f"--student must be local or openai, not {self.kind!r}")


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
    plans = load_dataset_of_kind(job.dataset, kind=PLANS)
    student = job.student.build() if job.pairs.uses_student else None
    start = time.perf_counter()
    dataset, stats = build_pairs(plans, job.pairs, student, progress=progress)
    report = summary(
        stats,
        job.pairs,
        source=str(job.dataset),
        student=student.name if student else None,
        seconds=time.perf_counter() - start,
    )
    with atomic_dir(job.out, job.overwrite) as tmp:
        save_dataset(dataset, tmp)
        (tmp / "pairs.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return report
