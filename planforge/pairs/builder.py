"""Preference pairs for DPO: the validated teacher plan (chosen) against a wrong plan (rejected).

Rejected plans come from a student model or from typed corruptions of the chosen plan
(:mod:`planforge.pairs.corruptions`), or a mix of both. A student's plan is kept only when it is wrong: it fails
validation, is not equivalent (DAG isomorphism) to the chosen plan, or calls the same graph with wrong key
arguments (the recipe's ``key_arguments``); a student that matches is skipped and counted, as in the TinyLLM study.
On-policy negatives: the student may be the SFT model itself (``adapter:DIR``), shown the prompts it was trained
on (:mod:`planforge.llms.views`) and sampled ``samples`` times at a temperature; its wrong plans, the hardest first
(wrong arguments only, then valid but wired otherwise, then invalid), are its own mistakes.

Each row (:data:`PAIR_FEATURES`) is what TRL's ``DPOTrainer`` reads as is: ``prompt`` (system + user turns, the
SFT format), ``chosen`` and ``rejected`` (one assistant turn each: the plan as LLMCompiler text) and ``tools`` (the
offered functions, OpenAI entries), plus where the rejected plan came from and both plans' validator verdicts."""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from planforge.dataset.disk import make_dataset
from planforge.dataset.features import PAIR_FEATURES
from planforge.dataset.rows import Example, ToolCache, row_prompt
from planforge.errors import ConfigError, DatasetError, PlanSyntaxError, ToolSpecError
from planforge.llms.planners import Planner
from planforge.llms.views import PromptSettings, PromptViews, Request
from planforge.pairs.corruptions import KINDS, corrupt, with_join
from planforge.plan import Plan, positional, to_text
from planforge.prompting import completion_messages, tools_column
from planforge.recipes.loader import recipe_key_arguments, recipe_rules
from planforge.tools import ToolSet
from planforge.validators import KeyArguments, Rule, Verdict, judge

SOURCES = ("student", "corruption")
MODES = ("student", "corruptions", "mixed")


@dataclass
class PairsConfig:
    rejected: str = "mixed"  # student | corruptions | mixed
    student_share: float = 0.5  # mixed: the share of examples whose rejected plan comes from the student
    kinds: Sequence[str] = KINDS
    per_example: int = 1  # rejected plans per example (corruptions of distinct kinds, or distinct student plans)
    seed: int = 0
    splits: Sequence[str] | None = None  # None: every split
    max_examples: int | None = None  # per split

    def check(self) -> None:
        if self.rejected not in MODES:
            raise ConfigError(f"--rejected must be one of {', '.join(MODES)}, not {self.rejected!r}")
        if not 0.0 <= self.student_share <= 1.0:
            raise ConfigError(f"--student-share must be between 0 and 1, not {self.student_share}")
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            given = ", ".join(unknown) or "(none given)"
            raise ConfigError(f"unknown corruption kind(s) {given}; known: {', '.join(KINDS)}")
        if self.per_example < 1:
            raise ConfigError("--per-example must be at least 1")

    @property
    def uses_student(self) -> bool:
        return self.rejected == "student" or (self.rejected == "mixed" and self.student_share > 0)


@dataclass
class PairsStats:
    examples: int = 0
    pairs: Counter = field(default_factory=Counter)  # by split
    by_source: Counter = field(default_factory=Counter)
    by_kind: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)
    student_errors: list[str] = field(default_factory=list)
    student_samples: int = 0  # student plans judged
    student_right: int = 0  # of those, valid, equivalent and with the chosen plan's key arguments
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "pairs": dict(self.pairs),
            "total_pairs": sum(self.pairs.values()),
            "by_source": dict(self.by_source),
            "by_kind": dict(sorted(self.by_kind.items(), key=lambda kv: (-kv[1], kv[0]))),
            "skipped": dict(self.skipped),
            "student_samples": self.student_samples,
            "student_right": self.student_right,
            "student_errors": self.student_errors[:20],
            "notes": self.notes[:20],
        }


@dataclass(frozen=True)
class PairSource:
    """One accepted example of a plans dataset, with what judging its plans needs."""

    split: str
    id: str
    example: Example  # its plan bound and ending in join()
    prompt: list[dict[str, Any]]  # exactly what the SFT rows show the model

    @property
    def tools(self) -> ToolSet:
        return self.example.tools

    @property
    def plan(self) -> Plan:
        return self.example.plan

    @property
    def context(self) -> dict[str, Any]:
        return self.example.context

    @property
    def rules(self) -> tuple[Rule, ...]:
        return recipe_rules(self.example.recipe)

    @property
    def no_call(self) -> bool:
        """No offered function serves the request: the chosen plan is the empty plan."""
        return self.example.no_call or not self.plan.calls

    @property
    def key_arguments(self) -> KeyArguments:
        """The recipe's key arguments; free text is not compared (a reworded message is not a wrong plan)."""
        return KeyArguments.of(recipe_key_arguments(self.example.recipe), free_text="ignore")

    @property
    def request(self) -> Request:
        """What a student is asked: the SFT prompt, the functions offered and those the chosen plan calls."""
        return Request(self.id, self.example.query, self.prompt, self.tools, self.plan.function_names())


@dataclass(frozen=True)
class Rejection:
    source: str  # student | corruption
    kind: str  # a corruption kind, or the student plan's first error code (or not_equivalent)
    detail: str
    message: dict[str, Any]  # the assistant message
    verdict: Verdict


def source_from_row(row: Mapping[str, Any], split: str, tools: ToolSet | None = None) -> PairSource:
    """A plans-dataset row (:data:`planforge.dataset.PLAN_FEATURES`) -> :class:`PairSource`."""
    example = Example.from_row(row, tools)
    example = Example(**{**example.__dict__, "plan": with_join(example.plan)})
    return PairSource(split, row["id"], example, row_prompt(row))


def rejected_text(plan: Plan, tools: ToolSet) -> str:
    """LLMCompiler text of a wrong plan as it is: positional where possible, no ``join()`` added."""
    return to_text(positional(plan, tools.param_order), thoughts=False)


def rejected_message(plan: Plan, tools: ToolSet) -> dict[str, Any]:
    """The assistant turn of a wrong plan: its LLMCompiler text, as written (an unknown function's positional
    arguments stay positional, so nothing the plan says is lost)."""
    return {"role": "assistant", "content": rejected_text(plan, tools)}


def unparsed_message(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def pair_id(example_id: str, source: str, kind: str, content: str) -> str:
    digest = hashlib.sha1(f"{example_id}\x00{source}\x00{kind}\x00{content}".encode()).hexdigest()
    return "pair-" + digest[:16]


def student_rejection(example: PairSource, text: str, student: str, tools: ToolSet | None = None) -> Rejection | None:
    """The student's plan as a rejected answer, or None when it is right: valid, equivalent and with the key
    arguments of the chosen plan. ``tools``: the functions the student was shown (default: those offered)."""
    shown = tools if tools is not None else example.tools
    verdict = judge(
        text,
        shown,
        reference=example.plan,
        rules=example.rules,
        context=example.context,
        key_arguments=example.key_arguments,
        no_call=example.no_call,
    )
    if verdict.valid and verdict.equivalent and not verdict.arguments_wrong:
        return None
    message = unparsed_message(text) if verdict.plan is None else rejected_message(verdict.plan, shown)
    if verdict.codes:
        kind, detail = verdict.codes[0], verdict.errors[0].message
    elif not verdict.equivalent:
        kind, detail = "not_equivalent", "valid, but not the same calls and dependencies"
    else:
        mismatches = verdict.arguments.mismatches if verdict.arguments else ()
        kind, detail = "wrong_arguments", f"the same calls, other key arguments: {', '.join(mismatches)}"
    return Rejection("student", kind, f"{student}: {detail}", message, verdict)


def hardness(rejection: Rejection) -> int:
    """0 for the hardest negatives (only arguments wrong), then valid but wired otherwise, invalid but the same
    graph, the rest."""
    verdict = rejection.verdict
    if verdict.valid:
        return 0 if verdict.equivalent else 1
    return 2 if verdict.equivalent else 3


def student_rejections(
    example: PairSource, texts: Sequence[str], student: str, n: int, tools: ToolSet | None = None
) -> tuple[list[Rejection], int]:
    """Up to ``n`` of the student's distinct wrong plans for one example, the hardest first (sample order among
    equals), and how many of its plans were right."""
    wrong: list[Rejection] = []
    right = 0
    seen: set[str] = set()
    for text in texts:
        rejection = student_rejection(example, text, student, tools)
        if rejection is None:
            right += 1
            continue
        content = rejection.message["content"].strip()
        if content not in seen:
            seen.add(content)
            wrong.append(rejection)
    wrong.sort(key=hardness)
    return wrong[:n], right


def corruption_rejections(example: PairSource, kinds: Sequence[str], n: int, rng: random.Random) -> list[Rejection]:
    """Up to ``n`` corruptions of distinct kinds, tried in the given order."""
    out = []
    for kind in kinds:
        if len(out) >= n:
            break
        found = corrupt(example.plan, example.tools, kind, rng, rules=example.rules, context=example.context)
        if found is None:
            continue
        verdict = Verdict(found.plan, found.errors, found.equivalent)
        message = rejected_message(found.plan, example.tools)
        out.append(Rejection("corruption", kind, found.description, message, verdict))
    return out


def pair_row(example: PairSource, rejection: Rejection, chosen: Verdict, student: str = "") -> dict[str, Any]:
    chosen_message = completion_messages(example.plan, example.tools)[0]
    return {
        "id": pair_id(example.id, rejection.source, rejection.kind, rejection.message["content"]),
        "example_id": example.id,
        "query": example.example.query,
        "prompt": example.prompt,
        "chosen": [chosen_message],
        "rejected": [rejection.message],
        "tools": tools_column(example.tools),
        "rejection_source": rejection.source,
        "rejection_kind": rejection.kind,
        "rejection_detail": rejection.detail,
        "chosen_valid": chosen.valid,
        "chosen_errors": chosen.error_dicts(),
        "rejected_valid": rejection.verdict.valid,
        "rejected_errors": rejection.verdict.error_dicts(),
        "rejected_equivalent": bool(rejection.verdict.equivalent),
        "meta": {
            "now": example.example.now,
            "recipe": example.example.recipe,
            "student": student if rejection.source == "student" else "",
        },
    }


def read_examples(dataset: datasets.DatasetDict, config: PairsConfig, stats: PairsStats) -> list[PairSource]:
    if not dataset:
        raise DatasetError("the dataset has no splits")
    missing = [c for c in ("id", "query", "tools", "plan") if c not in next(iter(dataset.values())).column_names]
    if missing:
        raise DatasetError(f"not a plans dataset (from `gen run`): no column {', '.join(missing)}")
    splits = list(config.splits) if config.splits else list(dataset)
    unknown = [s for s in splits if s not in dataset]
    if unknown:
        raise ConfigError(f"no split {', '.join(unknown)} (the dataset has {', '.join(dataset)})")
    tool_cache = ToolCache()
    examples = []
    for split in splits:
        rows = dataset[split]
        if config.max_examples is not None:
            rows = rows.select(range(min(config.max_examples, len(rows))))
        for row in rows:
            try:
                examples.append(source_from_row(row, split, tool_cache.find(row.get("tools"))))
            except (PlanSyntaxError, ToolSpecError, ValueError, KeyError) as exc:
                stats.skipped["unreadable_example"] += 1
                stats.notes.append(f"unreadable example {row.get('id')}: {str(exc)[:200]}")
    return examples


def build_pairs(
    dataset: datasets.DatasetDict,
    config: PairsConfig,
    student: Planner | None = None,
    *,
    views: PromptViews | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[datasets.DatasetDict, PairsStats]:
    """Pairs for every example of ``dataset`` (see the module doc); ``views``: what the student is shown (default:
    the SFT prompt with the offered functions). ``progress(stage, done, total)``."""
    config.check()
    if config.uses_student and student is None:
        raise ConfigError("a student is needed for --rejected student/mixed (or use --rejected corruptions)")
    stats = PairsStats()
    examples = read_examples(dataset, config, stats)
    stats.examples = len(examples)

    # Who gets a student plan: decided per example from (seed, id), so a run is reproducible in any order.
    to_student: list[PairSource] = []
    to_corrupt: list[PairSource] = []
    for example in examples:
        rng = random.Random(f"{config.seed}:assign:{example.id}")
        share = {"student": 1.0, "corruptions": 0.0}.get(config.rejected, config.student_share)
        (to_student if rng.random() < share else to_corrupt).append(example)

    chosen_verdicts: dict[tuple[str, str], Verdict] = {}
    valid_examples: list[PairSource] = []
    for example in examples:
        verdict = judge(
            example.plan, example.tools, rules=example.rules, context=example.context, no_call=example.no_call
        )
        chosen_verdicts[(example.split, example.id)] = verdict
        if verdict.valid:
            valid_examples.append(example)
        else:
            stats.skipped["chosen_invalid"] += 1
    valid = {(e.split, e.id) for e in valid_examples}

    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in dict.fromkeys(e.split for e in examples)}
    seen_ids: set[str] = set()

    def add(example: PairSource, rejection: Rejection, student_name: str = "") -> None:
        row = pair_row(example, rejection, chosen_verdicts[(example.split, example.id)], student_name)
        if row["rejected"][0]["content"].strip() == row["chosen"][0]["content"].strip():
            stats.skipped["identical_text"] += 1
            return
        if row["id"] in seen_ids:
            stats.skipped["duplicate_pair"] += 1
            return
        seen_ids.add(row["id"])
        rows[example.split].append(row)
        stats.pairs[example.split] += 1
        stats.by_source[rejection.source] += 1
        stats.by_kind[rejection.kind] += 1

    # Corruptions: the least used kinds first, so the kinds stay balanced over the dataset.
    kind_counts = Counter({k: 0 for k in config.kinds})
    todo = [e for e in to_corrupt if (e.split, e.id) in valid]
    no_call = [e for e in todo if e.no_call]  # an empty plan has nothing to corrupt
    if no_call:
        stats.skipped["no_call_not_corrupted"] += len(no_call)
    todo = [e for e in todo if not e.no_call]
    for done, example in enumerate(todo, start=1):
        rng = random.Random(f"{config.seed}:corrupt:{example.id}")
        order = sorted(config.kinds, key=lambda k: (kind_counts[k], rng.random()))
        found = corruption_rejections(example, order, config.per_example, rng)
        if not found:
            stats.skipped["no_corruption"] += 1
        for rejection in found:
            kind_counts[rejection.kind] += 1
            add(example, rejection)
        if progress is not None:
            progress("corruptions", done, len(todo))

    todo = [e for e in to_student if (e.split, e.id) in valid]
    if todo and student is not None:
        done_count = [0]

        def tick(n: int) -> None:
            done_count[0] += n
            if progress is not None:
                progress(f"student {student.name}", done_count[0], len(todo))

        views = views or PromptViews(PromptSettings())
        prompts, _ = views.prompts([e.request for e in todo], add_needed=True)
        outputs = student.sample(prompts, tick)
        stats.student_errors.extend(student.errors[:20])
        for example, prompt, texts in zip(todo, prompts, outputs, strict=True):
            if not texts:
                stats.skipped["student_failed"] += 1
                continue
            found, right = student_rejections(example, texts, student.name, config.per_example, prompt.tools)
            stats.student_samples += len(texts)
            stats.student_right += right
            if not found:
                stats.skipped["student_matched"] += 1
            for rejection in found:
                add(example, rejection, student.name)

    out = datasets.DatasetDict({split: make_dataset(split_rows, PAIR_FEATURES) for split, split_rows in rows.items()})
    return out, stats


def summary(
    stats: PairsStats, config: PairsConfig, *, source: str, student: str | None, seconds: float
) -> dict[str, Any]:
    return {
        "source": source,
        "rejected": config.rejected,
        "student_share": config.student_share if config.rejected == "mixed" else None,
        "student": student,
        "kinds": list(config.kinds),
        "per_example": config.per_example,
        "seed": config.seed,
        **stats.to_dict(),
        "wall_seconds": round(seconds, 3),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
