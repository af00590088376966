"""The dataset card: Hub metadata (YAML) and a Markdown body, built by pure functions.

:func:`card_metadata` and :func:`card_body` take plain values (statistics, the run summary, example rows)
and return a :class:`huggingface_hub.DatasetCardData` and a string; :func:`validate_card` checks the
metadata offline against the vocabularies the Hub validates (``DatasetCard.validate`` needs the network;
``datasets`` ships the language, size-category, creator and multilinguality lists, and ``configs`` /
``dataset_info`` are checked by parsing them back with ``datasets``' own readers).
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from planforge.console import first_line
from planforge.dataset.features import PAIRS, PLANS, REVIEWED_PAIRS
from planforge.dataset.provenance import RunRecord
from planforge.dataset.stats import DatasetStats, distribution_summary, size_category

if TYPE_CHECKING:  # pragma: no cover
    import datasets
    from huggingface_hub import DatasetCard, DatasetCardData


def _words(text: str) -> list[str]:
    return text.split()


# https://huggingface.co/docs/hub/repositories-licenses (the identifiers the Hub accepts)
HUB_LICENSES = frozenset(
    _words(
        """
        apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
        bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
        cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
        cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
        cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
        eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c
        ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openrail++ osl-3.0 postgresql ofl-1.1 ncsa unlicense zlib
        pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license llama2 llama3 llama3.1 llama3.2
        llama3.3 llama4 gemma unknown other
        """
    )
)

# https://huggingface.co/tasks (the task ids the Hub accepts in ``task_categories``)
HUB_TASK_CATEGORIES = frozenset(
    _words(
        """
        text-classification token-classification table-question-answering question-answering
        zero-shot-classification translation summarization feature-extraction text-generation fill-mask
        sentence-similarity text-to-speech text-to-audio automatic-speech-recognition audio-to-audio
        audio-classification audio-text-to-text voice-activity-detection depth-estimation image-classification
        object-detection image-segmentation text-to-image image-to-text image-to-image image-to-video
        unconditional-image-generation video-classification reinforcement-learning robotics tabular-classification
        tabular-regression tabular-to-text table-to-text multiple-choice text-ranking text-retrieval
        time-series-forecasting text-to-video image-text-to-text visual-question-answering
        document-question-answering zero-shot-image-classification graph-ml mask-generation
        zero-shot-object-detection text-to-3d image-to-3d image-feature-extraction video-text-to-text
        keypoint-detection visual-document-retrieval any-to-any video-to-video other
        """
    )
)

_SPLIT_NAME = re.compile(r"^\w+(\.\w+)*$")

CITATIONS = {
    "llmcompiler": """@inproceedings{kim2024llmcompiler,
  title     = {An {LLM} Compiler for Parallel Function Calling},
  author    = {Kim, Sehoon and Moon, Suhong and Tabrizi, Ryan and Lee, Nicholas and Mahoney, Michael W. and
               Keutzer, Kurt and Gholami, Amir},
  booktitle = {Proceedings of the 41st International Conference on Machine Learning (ICML)},
  year      = {2024},
  eprint    = {2312.04511},
  archivePrefix = {arXiv}
}""",
    "tinyagent": """@inproceedings{erdogan2024tinyagent,
  title     = {{TinyAgent}: Function Calling at the Edge},
  author    = {Erdogan, Lutfi Eren and Lee, Nicholas and Jha, Siddharth and Kim, Sehoon and Tabrizi, Ryan and
               Moon, Suhong and Hooper, Coleman and Anumanchipalli, Gopala and Keutzer, Kurt and Gholami, Amir},
  booktitle = {Proceedings of the 2024 Conference on Empirical Methods in Natural Language Processing:
               System Demonstrations},
  year      = {2024},
  eprint    = {2409.00608},
  archivePrefix = {arXiv}
}""",
    "gorilla": """@article{patil2023gorilla,
  title   = {Gorilla: Large Language Model Connected with Massive {API}s},
  author  = {Patil, Shishir G. and Zhang, Tianjun and Wang, Xin and Gonzalez, Joseph E.},
  journal = {arXiv preprint arXiv:2305.15334},
  year    = {2023}
}""",
    "dpo": """@inproceedings{rafailov2023dpo,
  title     = {Direct Preference Optimization: Your Language Model is Secretly a Reward Model},
  author    = {Rafailov, Rafael and Sharma, Archit and Mitchell, Eric and Ermon, Stefano and
               Manning, Christopher D. and Finn, Chelsea},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2023},
  eprint    = {2305.18290},
  archivePrefix = {arXiv}
}""",
}

COLUMN_DOCS = {
    PLANS: {
        "id": "stable example id (hash of recipe, request and plan)",
        "query": "the user request",
        "tools": "the functions offered with this request (targets and distractors), OpenAI tool entries; "
        "TRL hands them to the chat template",
        "prompt": "system and user turns: the planner instructions with the example's date, and the request",
        "completion": "the assistant turn: the plan as LLMCompiler text (TRL trains on it alone)",
        "plan": "the reference plan: a JSON list of calls with named arguments; `$K` is step K's output",
        "plan_text": "the same plan as LLMCompiler text, positional arguments, ending in `join()`",
        "target_tools": "the functions the plan uses (tool-retrieval labels)",
        "meta": "the example's fixed date and time, teacher, model, recipe, request id and distractor functions",
    },
    PAIRS: {
        "id": "stable pair id",
        "prompt": "system and user turns: what the planner sees",
        "chosen": "the preferred assistant turn (a valid plan, LLMCompiler text)",
        "rejected": "the dispreferred assistant turn",
        "tools": "the functions offered, OpenAI tool entries",
        "rejection_source": "where the rejected plan came from",
        "rejection_kind": "what is wrong with the rejected plan",
        "chosen_errors": "validator errors of the chosen plan (normally none)",
        "rejected_errors": "validator errors of the rejected plan",
        "example_id": "id of the `gen run` example the pair was built from",
        "query": "the user request",
        "rejection_detail": "the defect of the rejected plan, in words",
        "chosen_valid": "whether the chosen plan passes every validator",
        "rejected_valid": "whether the rejected plan passes every validator",
        "rejected_equivalent": "whether the rejected plan is equivalent to the chosen one (same calls, same DAG)",
        "meta": "the example's fixed date and time, recipe and the student model that wrote the rejected plan",
        "verdict": "the reviewers' majority verdict (chosen, rejected, both, neither)",
        "agreement": "share of reviewers agreeing with the verdict",
        "annotators": "how many reviewers judged the pair",
        "agreed": "how many of them gave the majority verdict",
        "agreed_by": "the reviewers who gave it",
        "error_kinds": "what the reviewers said is wrong with the rejected plan",
        "corrected": "whether the chosen plan is a reviewer's correction",
        "corrected_by": "the reviewer who wrote the correction",
        "swapped": "whether the reviewers preferred the originally rejected plan",
    },
}


@dataclass(frozen=True)
class CardOptions:
    repo_id: str
    license: str = "apache-2.0"
    language: tuple[str, ...] = ("en",)
    pretty_name: str | None = None
    source_dir: str = "DIR"


@dataclass
class CardInputs:
    """Everything the card says, gathered beforehand (no I/O in the builders)."""

    kind: str
    stats: DatasetStats
    run: RunRecord
    columns: Sequence[str]
    examples: Sequence[Mapping[str, Any]] = ()
    provenance_files: Sequence[str] = ()
    notes: Sequence[str] = field(default_factory=list)
    pairs_report: Mapping[str, Any] = field(default_factory=dict)  # `gen pairs`' pairs.json
    review_report: Mapping[str, Any] = field(default_factory=dict)  # `gen review pull`'s review_report.json
    recipe_meta: Mapping[str, Any] = field(default_factory=dict)  # the recipe's recipe.yaml


# --------------------------------------------------------------------------------------------------
# metadata


def default_pretty_name(inputs: CardInputs, opts: CardOptions) -> str:
    if opts.pretty_name:
        return opts.pretty_name
    name = inputs.run.recipe.get("name") if isinstance(inputs.run.recipe.get("name"), str) else None
    base = name or opts.repo_id.split("/")[-1]
    suffix = "preference pairs" if inputs.kind != PLANS else "function-calling plans"
    return f"{base.replace('_', ' ').replace('-', ' ')} {suffix}"


def card_tags(kind: str) -> list[str]:
    tags = ["function-calling", "tool-use", "planning", "llmcompiler", "agents", "synthetic", "planforge"]
    if kind in (PAIRS, REVIEWED_PAIRS):
        tags += ["dpo", "preference"]
    if kind == REVIEWED_PAIRS:
        tags.append("human-feedback")
    return tags


def card_metadata(
    inputs: CardInputs,
    opts: CardOptions,
    features: datasets.Features | None = None,
    split_nbytes: Mapping[str, int] | None = None,
    download_sizes: Mapping[str, int] | None = None,
) -> DatasetCardData:
    """The YAML header: license, language, task, size, tags, ``configs`` (one per split, matching the
    ``data/{split}-*`` files that ``push_to_hub`` writes) and, with ``features``, ``dataset_info`` (in-memory
    bytes per split, and the parquet bytes as ``download_size``: ``push_to_hub`` needs it to update the
    card when the dataset is published again)."""
    from datasets.info import DatasetInfo, DatasetInfosDict
    from datasets.splits import SplitDict, SplitInfo
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    splits = list(inputs.stats.split_sizes)
    reviewed = inputs.kind == REVIEWED_PAIRS
    data = DatasetCardData(
        license=opts.license,
        language=list(opts.language),
        pretty_name=default_pretty_name(inputs, opts),
        task_categories=["text-generation"],
        size_categories=[size_category(inputs.stats.total)],
        annotations_creators=["machine-generated", "expert-generated"] if reviewed else ["machine-generated"],
        language_creators=["machine-generated"],
        multilinguality=["monolingual"] if len(opts.language) == 1 else ["multilingual"],
        source_datasets=["original"],
        tags=card_tags(inputs.kind),
    )
    if features is not None:
        info = DatasetInfo(features=features, splits=SplitDict(), dataset_size=0)
        for split in splits:
            nbytes = int((split_nbytes or {}).get(split, 0))
            info.splits.add(SplitInfo(name=split, num_bytes=nbytes, num_examples=inputs.stats.split_sizes[split]))
            info.dataset_size += nbytes
        info.download_size = sum(int((download_sizes or {}).get(split, 0)) for split in splits)
        info.size_in_bytes = info.download_size + info.dataset_size
        DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    configs = {"default": {"data_files": [{"split": s, "path": f"data/{s}-*"} for s in splits]}}
    MetadataConfigs(configs).to_dataset_card_data(data)
    return data


# --------------------------------------------------------------------------------------------------
# body


def _md(text: Any, limit: int | None = None) -> str:
    """Text safe inside a Markdown table cell."""
    s = str(text).replace("\r", " ").replace("\n", " ").replace("|", "\\|")
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _span(a: float, b: float) -> str:
    return f"{a:.0f}" if a == b else f"{a:.0f}–{b:.0f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def _int(n: float | int | None) -> str:
    return "n/a" if n is None else f"{int(n):,}"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], align: str = "") -> str:
    aligns = align or "l" + "r" * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in aligns]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _fence(text: str, lang: str = "text") -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{lang}\n{text.rstrip()}\n{fence}"


def reproduce_commands(inputs: CardInputs, opts: CardOptions) -> tuple[list[str], bool]:
    """Shell lines that rebuild and republish the dataset, and whether they were reconstructed (no argv)."""
    run = inputs.run
    publish = shlex.join(["gen", "publish", opts.source_dir, "--repo-id", opts.repo_id])
    if run.command:
        return [shlex.join(run.command), publish], False
    if inputs.kind == PLANS and run.recipe.get("name"):
        cmd = ["gen", "run", "recipe", str(run.recipe["name"]), "--out", opts.source_dir]
        if run.requested is not None:
            cmd += ["-n", str(run.requested)]
        if run.seed is not None:
            cmd += ["--seed", str(run.seed)]
        return [shlex.join(cmd), publish], True
    return [publish], True


def written_by(run: RunRecord) -> str:
    """Who wrote the examples, in words: the offline template teacher is no language model."""
    if run.teacher == "template":
        return "written by planforge's offline template teacher (a request grammar, no language model)"
    if run.teacher == "hand-written":
        return "written by hand"
    if run.teacher and run.teacher.startswith("import:"):
        source = (run.extra.get("imported_from") or {}) if isinstance(run.extra, dict) else {}
        name = PurePath(str(source.get("path") or "")).name
        return f"imported from {run.teacher.split(':', 1)[1]} data{f' ({name})' if name else ''}"
    teacher = " / ".join(x for x in (run.teacher, run.model) if x)
    return f"written by a teacher LLM ({teacher})" if teacher else "written by a teacher LLM"


def _summary_sentence(inputs: CardInputs, opts: CardOptions) -> str:
    stats = inputs.stats
    n_funcs = len(stats.function_plans)
    by = f", {written_by(inputs.run)}"
    if inputs.kind == PLANS:
        return (
            f"{stats.total:,} {'' if (inputs.run.teacher or '').startswith('import:') else 'synthetic '}"
            f"function-calling examples{by} and kept only when every validator passed. "
            f"Each row pairs a user request with a plan in the LLMCompiler style: numbered calls to {n_funcs} "
            "functions where `$K` stands for the output of step K, so every plan is a dependency DAG whose "
            "independent steps can run in parallel."
        )
    reviewed = " and reviewed by people" if inputs.kind == REVIEWED_PAIRS else ""
    return (
        f"{stats.total:,} preference pairs for planner models{reviewed}: for each request, a chosen plan that "
        "passes every validator and a rejected plan with a known defect, in the LLMCompiler style "
        f"(`$K` stands for the output of step K). The plans call {n_funcs} functions."
    )


FUNNEL_DOCS = {
    "requested": "requested",
    "proposed": "proposed by the teacher",
    "parsed": "parsed",
    "valid": "valid (every validator passed)",
    "verified": "verified (a blind replan gave the same plan)",
    "accepted": "accepted (distinct, kept)",
}


def recipe_sampling(sampling: Any) -> list[str]:
    """The recipe's function sampling settings, in words (``sampling:`` of recipe.yaml)."""
    if not isinstance(sampling, Mapping):
        return []
    out = []

    def span(lo: str, hi: str) -> str | None:
        a, b = sampling.get(lo), sampling.get(hi)
        if isinstance(a, int) and isinstance(b, int):
            return _span(a, b)
        return None

    targets, distractors = span("min_targets", "max_targets"), span("min_distractors", "max_distractors")
    if targets:
        out.append(f"the recipe draws {targets} target functions per request")
    if distractors:
        out.append(f"plus {distractors} distractors")
    if isinstance(sampling.get("examples_per_request"), int):
        out.append(f"and asks for {sampling['examples_per_request']} examples per teacher request")
    share = sampling.get("no_call_share")
    if isinstance(share, (int, float)) and share > 0:
        out.append(
            f"{share:.0%} of the requests ask for requests no offered function serves (their plan is empty, "
            "`join()` alone; `meta.no_call`)"
        )
    co_use = sampling.get("co_use")
    if isinstance(co_use, Mapping) and co_use:
        out.append(f"functions that usually need another are drawn with it (co-use priors for {len(co_use)} functions)")
    now = sampling.get("now")
    if isinstance(now, Mapping) and now.get("start") and now.get("end"):
        out.append(f'each example\'s "now" is drawn between {now["start"]} and {now["end"]}')
    return out


def _how_it_was_made(inputs: CardInputs) -> list[str]:
    out = ["## How it was made", ""]
    for section in (_made_facts, _made_validators, _made_funnel, _made_rejections, _made_cost):
        out += section(inputs)
    if inputs.kind != PLANS:
        out += _pairs_provenance(inputs) + _pairs_breakdown(inputs)
    return out


def _made_facts(inputs: CardInputs) -> list[str]:
    """Recipe, teacher, endpoint, seed, teacher calls, target, version and function sampling, as a list."""
    run, stats = inputs.run, inputs.stats
    facts: list[str] = []
    recipe = run.recipe
    if recipe:
        parts = [f"`{recipe['name']}`" if recipe.get("name") else "unnamed"]
        if recipe.get("version"):
            parts.append(f"version {recipe['version']}")
        if recipe.get("hash"):
            parts.append(f"hash `{recipe['hash']}`")
        facts.append("**Recipe:** " + ", ".join(parts))
    if run.teacher == "template":
        facts.append("**Teacher:** the offline template teacher (no language model)")
    elif run.teacher or run.model:
        facts.append(f"**Teacher:** {run.teacher or 'n/a'}, model `{run.model or 'n/a'}`")
    if run.base_url:
        facts.append(f"**Endpoint:** `{run.base_url}`")
    if run.seed is not None:
        facts.append(f"**Seed:** {run.seed}")
    teacher_calls = []
    if run.teacher_requests is not None:
        failed = f" ({run.failed_requests:,} failed)" if run.failed_requests else ""
        teacher_calls.append(f"{run.teacher_requests:,} requests{failed}")
    if run.responses is not None:
        teacher_calls.append(f"{run.responses:,} responses")
    if teacher_calls:
        facts.append("**Teacher calls:** " + ", ".join(teacher_calls))
    if run.requested is not None:
        stop = f" (stopped: {run.stop_reason})" if run.stop_reason else ""
        facts.append(f"**Target:** {run.requested:,} examples{stop}")
    if run.planforge_version:
        facts.append(f"**planforge:** {run.planforge_version}")
    offered, distract = distribution_summary(stats.offered), distribution_summary(stats.distractors)
    sampling = []
    if offered:
        sampling.append(
            f"each request offered {_span(offered['min'], offered['max'])} functions (mean {offered['mean']:.1f})"
        )
    if distract:
        sampling.append(
            f"of which {_span(distract['min'], distract['max'])} distractors the plan must not use "
            f"(mean {distract['mean']:.1f})"
        )
    sampling += recipe_sampling(inputs.recipe_meta.get("sampling"))
    if run.sampling is not None:
        sampling.append("settings: `" + json.dumps(run.sampling, ensure_ascii=False, sort_keys=True) + "`")
    if sampling:
        facts.append("**Function sampling:** " + "; ".join(sampling))
    out = [f"- {fact}" for fact in facts]
    if facts:
        out.append("")
    if not run.known and inputs.kind == PLANS:
        out += ["No `run.json` was found beside the data, so generation statistics are unknown.", ""]
    return out


def _made_validators(inputs: CardInputs) -> list[str]:
    run = inputs.run
    out = [
        "**Validators.** Every kept plan parses, calls only the functions offered with its request, passes each "
        "function's JSON Schema (no missing, unexpected or mistyped arguments), references only earlier steps "
        "(`$K`), forms a DAG, ends in `join()` and feeds each step only values of the right declared type."
    ]
    rules = inputs.recipe_meta.get("rules")
    if isinstance(rules, list) and rules:
        names = [
            r if isinstance(r, str) else str(r.get("name", r)) if isinstance(r, Mapping) else str(r) for r in rules
        ]
        out.append("Recipe rules checked as well: " + ", ".join(f"`{n.rpartition(':')[2]}`" for n in names) + ".")
    if inputs.recipe_meta.get("require_join") is False:
        out.append("This recipe does not require the final `join()`.")
    if run.validators is not None:
        out.append("Validator settings: `" + json.dumps(run.validators, ensure_ascii=False, sort_keys=True) + "`.")
    return [*out, ""]


def _made_funnel(inputs: CardInputs) -> list[str]:
    run = inputs.run
    if not run.funnel:
        return []
    top_stage, top = run.funnel[0]
    rows = [(FUNNEL_DOCS.get(stage, stage), _int(n), _pct(n / top) if top else "n/a") for stage, n in run.funnel]
    out = [_table(["stage", "examples", f"of {top_stage}"], rows), ""]
    rates = []
    if run.acceptance_rate is not None:
        rates.append(f"acceptance rate {_pct(run.acceptance_rate)} (accepted / {run.acceptance_base})")
    if run.validity_rate is not None:
        rates.append(f"validity rate {_pct(run.validity_rate)} (valid / parsed)")
    if run.duplicate_rate is not None:
        rates.append(f"duplicate rate {_pct(run.duplicate_rate)} (dropped / valid)")
    if rates:
        out += ["Rates: " + "; ".join(rates) + ".", ""]
    return out + _made_verify(run)


def _made_verify(run: Any) -> list[str]:
    """The meaning check of ``gen run --verify``: what was asked of which model, and its counts."""
    verify = run.verify
    if not verify:
        return []
    model = f"`{verify.get('model') or 'n/a'}`"
    checked = _int(verify.get("checked", 0))
    if verify.get("method") == "replan":
        text = (
            f"**Meaning check (replan):** {model} planned each valid request blind; an example was kept only when "
            f"its plan was DAG-isomorphic to the teacher's. Of {checked} checked: {_int(verify.get('agreed', 0))} "
            f"agreed, {_int(verify.get('replan_mismatch', 0))} gave another plan (`replan_mismatch`), "
            f"{_int(verify.get('replan_failed', 0))} gave no readable plan (`replan_failed`)."
        )
    else:
        text = (
            f"**Meaning check (judge):** {model} was asked whether each plan does what its request asks; the verdict "
            f"and reason are in each row's `meta` (`judge_verdict`, `judge_reason`). Of {checked} checked: "
            f"{_int(verify.get('yes', 0))} yes, {_int(verify.get('no', 0))} no, "
            f"{_int(verify.get('unknown', 0))} unknown."
        )
    return [text, ""]


def _made_rejections(inputs: CardInputs) -> list[str]:
    run = inputs.run
    out: list[str] = []
    if run.rejected:
        total = sum(run.rejected.values())
        rows = [(f"`{code}`", _int(n), _pct(n / total)) for code, n in run.rejected.items()]
        out += ["Plans rejected, by validator error code:", "", _table(["code", "plans", "share"], rows), ""]
    if run.duplicates:
        dup = ", ".join(f"{kind}: {n:,}" for kind, n in run.duplicates.items())
        out += [f"Duplicates dropped: {dup} (total {run.duplicates_total:,}).", ""]
    if run.surplus:
        out += [f"{run.surplus:,} valid, distinct examples beyond the target were not kept.", ""]
    return out


def _made_cost(inputs: CardInputs) -> list[str]:
    run = inputs.run
    cost = []
    if run.cost_usd is not None:
        cost.append(f"${run.cost_usd:,.4f}")
        if run.cost_per_accepted is not None:
            cost.append(f"${1000 * run.cost_per_accepted:,.4f} per 1,000 accepted examples")
    if run.total_tokens is not None:
        tokens = f"{_int(run.prompt_tokens)} prompt, {_int(run.completion_tokens)} completion"
        cost.append(f"{_int(run.total_tokens)} tokens ({tokens})")
    if run.wall_seconds is not None:
        cost.append(f"{run.wall_seconds:,.0f} s wall time")
    return ["**Cost:** " + "; ".join(cost) + ".", ""] if cost else []


def _pairs_breakdown(inputs: CardInputs) -> list[str]:
    """Where rejected plans come from, what is wrong with them, and what reviewers said."""
    stats = inputs.stats
    out: list[str] = []
    if stats.rejection_sources:
        rows = [(k, _int(n)) for k, n in stats.rejection_sources.most_common()]
        out += ["Where the rejected plans come from:", "", _table(["source", "pairs"], rows), ""]
    if stats.rejection_kinds:
        rows = [(k, _int(n)) for k, n in stats.rejection_kinds.most_common()]
        out += ["What is wrong with them:", "", _table(["rejection kind", "pairs"], rows), ""]
    if stats.verdicts:
        rows = [(k, _int(n)) for k, n in stats.verdicts.most_common()]
        mean = sum(stats.agreements) / len(stats.agreements) if stats.agreements else None
        extra = f" Mean reviewer agreement: {mean:.2f}." if mean is not None else ""
        out += [f"Review verdicts:{extra}", "", _table(["verdict", "pairs"], rows), ""]
    if stats.review_error_kinds:
        rows = [(k, _int(n)) for k, n in stats.review_error_kinds.most_common()]
        out += ["What reviewers said is wrong with the rejected plans:", "", _table(["error", "mentions"], rows), ""]
    if stats.corrected or stats.swapped:
        out += [
            f"Reviewers wrote the chosen plan of {stats.corrected:,} pairs and swapped chosen and rejected in "
            f"{stats.swapped:,}; every reviewer-written plan passed the validators before it was kept.",
            "",
        ]
    return out


def _pairs_provenance(inputs: CardInputs) -> list[str]:
    """What `gen pairs` (pairs.json) and `gen review pull` (review_report.json) recorded, when present."""
    out: list[str] = []
    pairs = inputs.pairs_report
    if pairs:
        facts = []
        if _is_number(pairs.get("examples")):
            facts.append(f"built from {_int(pairs['examples'])} validated examples")
        if _is_number(pairs.get("total_pairs")):
            facts.append(f"{_int(pairs['total_pairs'])} pairs made")
        skipped = pairs.get("skipped")
        if isinstance(skipped, Mapping) and skipped:
            facts.append("skipped: " + ", ".join(f"{k} {_int(v)}" for k, v in skipped.items() if _is_number(v)))
        if facts:
            out += ["**Pairs:** " + "; ".join(facts) + ".", ""]
    review = inputs.review_report
    if review:
        facts = []
        if _is_number(review.get("reviewed")) and _is_number(review.get("records")):
            facts.append(f"{_int(review['reviewed'])} of {_int(review['records'])} pairs reviewed")
        annotators = review.get("annotators")
        if isinstance(annotators, Mapping) and annotators:
            facts.append(f"{len(annotators)} reviewers")  # their names stay out of the card
        agreement = review.get("agreement") if isinstance(review.get("agreement"), Mapping) else {}
        if _is_number(agreement.get("value")):
            method = str(agreement.get("method") or "").replace("_", " ")
            facts.append(f"inter-annotator agreement ({method}) {agreement['value']:.3f}")
        if _is_number(agreement.get("percent_agreement")):
            facts.append(f"raw agreement {_pct(agreement['percent_agreement'])}")
        if _is_number(review.get("total_exported")):
            facts.append(f"{_int(review['total_exported'])} pairs kept")
        if facts:
            out += ["**Review:** " + "; ".join(facts) + ".", ""]
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _structure(inputs: CardInputs) -> list[str]:
    stats = inputs.stats
    out = ["## Dataset structure", ""]
    rows = [(split, _int(n)) for split, n in stats.split_sizes.items()] + [("**total**", _int(stats.total))]
    out += [_table(["split", "rows"], rows), ""]
    docs = COLUMN_DOCS[PLANS if inputs.kind == PLANS else PAIRS]
    out += [_table(["column", "content"], [(f"`{c}`", docs.get(c, "")) for c in inputs.columns], "ll"), ""]
    return out


def _functions(inputs: CardInputs) -> list[str]:
    stats = inputs.stats
    if not stats.function_plans:
        return []
    out = ["## Functions", ""]
    plans = max(stats.plans, 1)
    rows = [
        (f"`{f}`", _int(stats.function_plans[f]), _pct(stats.function_plans[f] / plans), _int(stats.function_calls[f]))
        for f in stats.functions
    ]
    out += [_table(["function", "plans using it", "share of plans", "calls"], rows), ""]
    lengths, depths = distribution_summary(stats.plan_lengths), distribution_summary(stats.dag_depths)
    shape = []
    if lengths:
        shape.append(
            f"plans have {_span(lengths['min'], lengths['max'])} calls (mean {lengths['mean']:.2f}, "
            f"median {lengths['median']:.0f})"
        )
    if depths:
        shape.append(f"their DAGs are {_span(depths['min'], depths['max'])} steps deep (mean {depths['mean']:.2f})")
    if stats.plans:
        shape.append(f"{_pct(stats.parallel_plans / stats.plans)} have steps that can run in parallel")
    if shape:
        out += ["Shape: " + "; ".join(shape) + ".", ""]
    if stats.unparsable:
        out += [f"{stats.unparsable:,} rows have a plan that could not be read for these statistics.", ""]
    return out


def _examples(inputs: CardInputs) -> list[str]:
    if not inputs.examples:
        return []
    out = ["## Examples", ""]
    for i, row in enumerate(inputs.examples, start=1):
        if inputs.kind == PLANS:
            out += [f"**Example {i}.** {_md(row.get('query', ''))}", ""]
            out += [_fence(str(row.get("plan_text", "")))]
            targets = row.get("target_tools") or []
            meta = row.get("meta") if isinstance(row.get("meta"), Mapping) else {}
            distractors = meta.get("distractors") or []
            line = "Uses " + ", ".join(f"`{t}`" for t in targets)
            if distractors:
                line += "; also offered (distractors): " + ", ".join(f"`{d}`" for d in distractors)
            out += ["", line + ".", ""]
        else:
            prompt = row.get("prompt") or []
            user = next(
                (m.get("content") for m in reversed(prompt) if isinstance(m, Mapping) and m.get("role") == "user"), ""
            )
            out += [f"**Pair {i}.** {_md(user)}", ""]
            for label in ("chosen", "rejected"):
                turn = row.get(label) or []
                content = turn[-1].get("content", "") if turn and isinstance(turn[-1], Mapping) else ""
                title = label
                if label == "rejected" and row.get("rejection_kind"):
                    title += f" ({row.get('rejection_kind')}, from {row.get('rejection_source', 'n/a')})"
                out += [f"*{title}*", "", _fence(str(content)), ""]
            if row.get("verdict"):
                out += [f"Review verdict: {row['verdict']} (agreement {row.get('agreement', 'n/a')}).", ""]
    return out


def _uses_and_limits(inputs: CardInputs, opts: CardOptions) -> list[str]:
    pairs = inputs.kind != PLANS
    uses = [
        "## Intended uses",
        "",
        "- Fine-tuning small planner models to turn a request into a plan of function calls (TinyAgent-style "
        "on-device agents), with the functions offered in the system prompt."
        if not pairs
        else "- Preference optimisation (DPO, ORPO, KTO) of planner models: teach them to avoid the defects "
        "shown by the rejected plans.",
        "- Training tool retrieval: `target_tools` lists the functions each plan needs among those offered."
        if not pairs
        else "- Evaluating reward models or judges on plan validity.",
        "- Evaluating planners by plan equivalence: DAG isomorphism with nodes matched by function name, as "
        "TinyAgent scores them.",
        "",
        "## Limitations",
        "",
        (
            "- Synthetic: requests come from a grammar of request forms; however varied, they are not what a "
            "population of real users types, and a model should be evaluated on requests written by people."
            if inputs.run.teacher == "template"
            else "- Synthetic: requests and plans were written by a teacher LLM and inherit its style, blind spots "
            "and biases; requests are cleaner and more explicit than what people type."
        ),
        "- Validators check that a plan is feasible and well typed, not that it is the best or the intended "
        "plan, nor that argument values (names, dates, addresses) are right.",
        "- Only the functions of the recipe appear; a model trained on this data will not generalise to other "
        'functions without more data. Dates are relative to a fixed "now" stored per example.',
        "- Language" + ("s: " if len(opts.language) > 1 else ": ") + ", ".join(opts.language) + " only.",
        "- Check the teacher model's terms of use before training models that compete with it.",
        "",
    ]
    return uses


def _loading(inputs: CardInputs, opts: CardOptions) -> list[str]:
    """Load it, and train on it with TRL as it is (prompt/completion rows: the loss is on the plan only)."""
    load = ["from datasets import load_dataset", "", f'ds = load_dataset("{opts.repo_id}")']
    if inputs.kind == PLANS:
        train = [
            "from trl import SFTConfig, SFTTrainer",
            "",
            "# prompt/completion rows with `tools`: TRL trains on the plan (the completion) only, and a tool-aware",
            "# chat template describes the functions once, from `tools`",
            'trainer = SFTTrainer(model="Qwen/Qwen2.5-0.5B-Instruct", train_dataset=ds["train"],',
            '                     args=SFTConfig(output_dir="planner-sft"))',
            "trainer.train()",
        ]
    else:
        train = [
            "from trl import DPOConfig, DPOTrainer",
            "",
            "# prompt / chosen / rejected rows with `tools`, as DPOTrainer reads them",
            'trainer = DPOTrainer(model="Qwen/Qwen2.5-0.5B-Instruct", train_dataset=ds["train"],',
            '                     args=DPOConfig(output_dir="planner-dpo"))',
            "trainer.train()",
        ]
    notes = [
        "With a chat template that does not render `tools` (plain ChatML), list the functions in the system turn",
        "first: `planforge.prompting.for_template(prompt, tools, tokenizer)`; `gen train sft|dpo` does it for you.",
    ]
    return [_fence("\n".join([*load, "", *train]), "python"), "", *notes, ""]


def _personal_information(inputs: CardInputs) -> list[str]:
    synthetic = inputs.run.teacher in ("template", None) or inputs.kind != PLANS
    return [
        "## Personal information",
        "",
        "Names, email addresses, phone numbers, street addresses, files and events in this dataset are synthetic"
        + (
            ": the offline template teacher draws them from fixed, made-up word lists (example domains such as "
            "`example.com`, 555 phone numbers)."
            if synthetic
            else ", asked of the teacher model; they are not checked against real people."
        ),
        "They do not describe real people; any resemblance to a real person's contact details is accidental. "
        "API keys, tokens and credentials are scrubbed from every file published.",
        "",
    ]


def dataset_bibtex(opts: CardOptions, year: int) -> str:
    """A BibTeX entry for the dataset itself (the Hub repository)."""
    owner, _, name = opts.repo_id.partition("/")
    key = re.sub(r"[^a-z0-9]", "", (owner + name).lower())[:40] or "planforgedataset"
    title = opts.pretty_name or name.replace("-", " ").replace("_", " ")
    return (
        f"@misc{{{key}{year},\n"
        f"  title        = {{{title}}},\n"
        f"  author       = {{{owner}}},\n"
        f"  year         = {{{year}}},\n"
        f"  howpublished = {{\\url{{https://huggingface.co/datasets/{opts.repo_id}}}}},\n"
        f"  note         = {{Synthetic function-calling plans made with planforge}}\n"
        "}"
    )


def _citations(inputs: CardInputs, opts: CardOptions) -> list[str]:
    import datetime

    keys = ["llmcompiler", "tinyagent", "gorilla"] + (["dpo"] if inputs.kind != PLANS else [])
    year = datetime.date.today().year
    out = ["## Citation", "", "This dataset:", "", _fence(dataset_bibtex(opts, year), "bibtex"), ""]
    out += ["It builds on:", ""]
    for key in keys:
        out += [_fence(CITATIONS[key], "bibtex"), ""]
    return out


def card_body(inputs: CardInputs, opts: CardOptions) -> str:
    """The Markdown below the YAML header."""
    title = default_pretty_name(inputs, opts)
    out = [f"# {title}", "", _summary_sentence(inputs, opts), ""]
    description = inputs.recipe_meta.get("description")
    if isinstance(description, str) and description.strip():
        out += [f"Recipe: {' '.join(description.split())}", ""]
    out += _loading(inputs, opts)
    out += _structure(inputs)
    out += _how_it_was_made(inputs)
    out += _functions(inputs)
    out += _examples(inputs)
    out += _uses_and_limits(inputs, opts)
    out += _personal_information(inputs)
    lines, reconstructed = reproduce_commands(inputs, opts)
    out += ["## Reproduce", ""]
    if reconstructed:
        out += ["Reconstructed from the run's settings (the exact command line was not recorded):", ""]
    out += [_fence("\n".join(lines), "bash"), ""]
    if inputs.provenance_files:
        out += [
            "The run's statistics and recipe are in `provenance/`: "
            + ", ".join(f"`{p}`" for p in inputs.provenance_files[:12])
            + (" …" if len(inputs.provenance_files) > 12 else "")
            + ".",
            "",
        ]
    out += _citations(inputs, opts)
    out += ["Made with planforge."]
    return "\n".join(out) + "\n"


def render_card(metadata: DatasetCardData, body: str) -> DatasetCard:
    from huggingface_hub import DatasetCard

    return DatasetCard(f"---\n{metadata.to_yaml()}\n---\n\n{body}")


# --------------------------------------------------------------------------------------------------
# offline validation


@lru_cache(maxsize=1)
def _datasets_vocabularies() -> dict[str, frozenset[str]]:
    root = resources.files("datasets.utils.resources")
    creators = json.loads((root / "creators.json").read_text(encoding="utf-8"))
    return {
        "language": frozenset(json.loads((root / "languages.json").read_text(encoding="utf-8"))),
        "size_categories": frozenset(json.loads((root / "size_categories.json").read_text(encoding="utf-8"))),
        "multilinguality": frozenset(json.loads((root / "multilingualities.json").read_text(encoding="utf-8"))),
        "language_creators": frozenset(creators["language"]),
        "annotations_creators": frozenset(creators["annotations"]),
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def validate_card(card: DatasetCard | str, splits: Sequence[str] | None = None) -> list[str]:
    """Problems the Hub would report with the card's metadata, checked offline; ``[]`` when it is fine.

    Round-trips the YAML, checks every enumerated field against the Hub's vocabularies and parses
    ``configs`` and ``dataset_info`` back with ``datasets``' readers (``splits``: the expected splits)."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCard

    try:
        parsed = DatasetCard(str(card))
    except Exception as exc:  # noqa: BLE001 - a YAML error of any kind
        return [f"metadata does not parse: {exc}"]
    meta = parsed.data.to_dict()
    if not meta:
        return ["no YAML metadata block"]
    problems: list[str] = []
    vocab = _datasets_vocabularies()

    licenses = _as_list(meta.get("license"))
    if meta.get("license") is None:
        problems.append("license is missing")
    for lic in licenses:
        if lic is not None and lic not in HUB_LICENSES:
            problems.append(f"license {lic!r} is not a Hub license identifier")
    if "other" in licenses and not (meta.get("license_name") and meta.get("license_link")):
        problems.append("license 'other' needs license_name and license_link")
    for key in ("language", "size_categories", "multilinguality", "language_creators", "annotations_creators"):
        if meta.get(key) is None:
            if key in ("language", "size_categories"):
                problems.append(f"{key} is missing")
            continue
        for value in _as_list(meta[key]):
            if value not in vocab[key]:
                problems.append(f"{key}: {value!r} is not a known value")
    tasks = meta.get("task_categories")
    if tasks is None:
        problems.append("task_categories is missing")
    for task in _as_list(tasks or []):
        if task not in HUB_TASK_CATEGORIES:
            problems.append(f"task_categories: {task!r} is not a Hub task")
    tags = meta.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) and t for t in tags)):
        problems.append("tags must be a list of strings")
    if meta.get("pretty_name") is not None and not isinstance(meta.get("pretty_name"), str):
        problems.append("pretty_name must be a string")

    try:
        configs = MetadataConfigs.from_dataset_card_data(parsed.data)
    except Exception as exc:  # noqa: BLE001 - datasets raises ValueError/TypeError for bad configs
        problems.append(f"configs: {first_line(exc)}")
    else:
        if not configs:
            problems.append("configs is missing")
        else:
            for name, config in configs.items():
                files = config.get("data_files")
                if not isinstance(files, list) or not files:
                    problems.append(f"config {name!r} has no data_files")
                    continue
                found = [f.get("split") for f in files if isinstance(f, dict)]
                for split in found:
                    if not isinstance(split, str) or not _SPLIT_NAME.match(split):
                        problems.append(f"config {name!r}: bad split name {split!r}")
                if splits is not None and sorted(found) != sorted(splits):
                    problems.append(f"config {name!r} lists splits {found}, the data has {list(splits)}")
    if "dataset_info" in meta:
        try:
            infos = DatasetInfosDict.from_dataset_card_data(parsed.data)
        except Exception as exc:  # noqa: BLE001
            problems.append(f"dataset_info: {first_line(exc)}")
        else:
            for name, info in infos.items():
                if splits is not None and info.splits is not None and sorted(info.splits) != sorted(splits):
                    problems.append(f"dataset_info {name!r} lists splits {list(info.splits)}")
    return problems
