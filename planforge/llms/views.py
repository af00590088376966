"""What a planner is shown for a request: the functions and the in-context demonstrations.

The functions are those offered with the request, or a ToolRAG classifier's selection (plus, at training time,
any function the reference plan needs that it missed, so the target stays writable). The demonstrations
(``icl_examples`` K, TinyAgent's retrieved in-context examples) are the K training examples nearest to the request
by MiniLM embedding (:class:`~planforge.llms.retrieval.DemonstrationIndex`) whose plans call only the functions
shown: never the example itself, never one of the evaluation split. :mod:`planforge.prompting` renders both.

SFT, DPO and GRPO training, ``gen eval plans`` and ``gen pairs``' student all build their prompts here, and each
run records its settings (``toolrag``, ``icl_examples``, ``icl_data`` in ``run_config.json``), so a model is
evaluated, tuned further and sampled on the prompts it was trained on (:meth:`PromptSettings.resolve`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.errors import ConfigError
from planforge.llms.planners import PlannerPrompt
from planforge.prompting import with_demonstrations
from planforge.tools import ToolSet


@dataclass(frozen=True)
class Request:
    """One request to show a planner: its example id (None when unknown), text, system + user turns, the functions
    offered with it and those its reference plan calls."""

    id: str | None
    query: str
    messages: list[dict[str, Any]]
    offered: ToolSet
    needed: Sequence[str] = ()


@dataclass(frozen=True)
class PromptSettings:
    """How a run's prompts are built: a ToolRAG classifier folder, K demonstrations and the plans dataset whose
    train split they come from."""

    toolrag: str | None = None
    icl_examples: int = 0
    icl_data: str | None = None

    @classmethod
    def of_run(cls, run_dir: str | Path | None) -> PromptSettings:
        """The settings a training run recorded (``run_config.json``); none for a folder without one."""
        from planforge.dataset.provenance import read_run_config

        config = ((read_run_config(run_dir) or {}).get("config") or {}) if run_dir else {}
        return cls(config.get("toolrag"), int(config.get("icl_examples") or 0), config.get("icl_data"))

    @classmethod
    def resolve(
        cls,
        toolrag: str | None,
        icl_examples: int | None,
        icl_data: str | None,
        *,
        run: str | Path | None = None,
        data: str | None = None,
        use_run: bool = True,
    ) -> PromptSettings:
        """What was given, else what the run (an adapter folder) was trained with; demonstrations come from
        ``icl_data``, else the run's, else ``data``."""
        recorded = cls.of_run(run) if use_run else cls()
        k = icl_examples if icl_examples is not None else recorded.icl_examples
        if k < 0:
            raise ConfigError("--icl-examples must be 0 or more")
        source = (icl_data or recorded.icl_data or data) if k else None
        if k and not source:
            raise ConfigError("--icl-examples needs --icl-data (a plans dataset whose train split holds the examples)")
        return cls(toolrag if toolrag is not None else recorded.toolrag, k, source)


class PromptViews:
    """Builds :class:`~planforge.llms.planners.PlannerPrompt` s for requests under one :class:`PromptSettings`."""

    def __init__(self, settings: PromptSettings, *, classifier: Any = None, index: Any = None) -> None:
        self.settings = settings
        self.classifier = classifier
        self.index = index

    @classmethod
    def load(cls, settings: PromptSettings) -> PromptViews:
        """Load the classifier and embed the demonstration pool the settings name (nothing when they name none)."""
        classifier = index = None
        if settings.toolrag:
            from planforge.llms.retrieval import ToolRAGClassifier

            classifier = ToolRAGClassifier.load(settings.toolrag)
        if settings.icl_examples:
            index = demonstration_index(str(settings.icl_data))
        return cls(settings, classifier=classifier, index=index)

    def prompts(self, requests: Sequence[Request], *, add_needed: bool) -> tuple[list[PlannerPrompt], dict[str, Any]]:
        """Each request's prompt (its turns with the demonstrations, and the functions shown) and figures on them:
        requests whose needed functions ToolRAG missed, functions and demonstrations shown per request."""
        info: dict[str, Any] = {}
        shown = [r.offered for r in requests]
        if self.classifier is not None:
            shown, found = toolrag_shown(
                self.classifier, [r.query for r in requests], [r.needed for r in requests], add_needed=add_needed
            )
            info.update(found)
        demonstrations: list[list[Any]] = [[] for _ in requests]
        if self.index is not None and self.settings.icl_examples:
            queries, ids = [r.query for r in requests], [r.id for r in requests]
            demonstrations = self.index.select(queries, [list(t) for t in shown], self.settings.icl_examples, ids)
            info["icl_examples"] = self.settings.icl_examples
            info["icl_data"] = self.settings.icl_data
            info["icl_mean_shown"] = sum(len(d) for d in demonstrations) / max(len(requests), 1)
        prompts = [
            PlannerPrompt(with_demonstrations(r.messages, demos), tools)
            for r, tools, demos in zip(requests, shown, demonstrations, strict=True)
        ]
        return prompts, info


def toolrag_shown(
    classifier: Any, queries: Sequence[str], needed: Sequence[Sequence[str]], *, add_needed: bool = True
) -> tuple[list[ToolSet], dict[str, Any]]:
    """The functions a ToolRAG classifier lists for each request, in its order. ``add_needed`` (training): also
    list the functions the target plan calls that the classifier missed, so the target stays writable."""
    selections = classifier.select(list(queries))
    missed = 0
    shown = []
    for names, wanted in zip(selections, needed, strict=True):
        lost = [t for t in wanted if t not in names]
        missed += bool(lost)
        if add_needed and lost:
            names.extend(t for t in lost if t in classifier.tools)
        chosen = set(names)
        shown.append(classifier.tools.subset([n for n in classifier.tools if n in chosen]))
    info = {
        "toolrag_rows_with_missed_targets": missed,
        "toolrag_mean_shown": sum(len(s) for s in shown) / max(len(shown), 1),
    }
    return shown, info


def demonstration_index(data: str) -> Any:
    """The solved examples of a plans dataset's train split, embedded with the packaged MiniLM."""
    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PLANS
    from planforge.dataset.rows import iter_rows
    from planforge.llms.retrieval import DemonstrationIndex, SentenceEncoder, Solved

    ds = load_dataset_of_kind(data, kind=PLANS, columns=("id", "query", "plan_text", "target_tools", "meta"))
    if "train" not in ds or not len(ds["train"]):
        raise ConfigError(f"{data}: no train split to take in-context examples from")
    examples = [
        Solved(
            row["id"],
            row["query"],
            row["plan_text"],
            (row.get("meta") or {}).get("now"),
            frozenset(row["target_tools"] or ()),
        )
        for row in iter_rows(ds["train"], ("id", "query", "plan_text", "target_tools", "meta"))
    ]
    return DemonstrationIndex(examples, SentenceEncoder())
