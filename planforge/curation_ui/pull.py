"""``gen review pull``: submitted reviews -> a DPO-ready dataset of reviewed pairs and a short report.

Per record, each annotator's submitted answer is mapped from A/B back to chosen/rejected; the verdict is the
answer of more than half of the annotators (a tie or a split vote is *disputed*). What is exported:

* ``chosen`` (the chosen plan is right, the rejected wrong): the pair as it was;
* ``rejected`` (reviewers found the rejected plan right and the chosen wrong): the pair swapped, when the
  rejected plan passes validation, else the agreeing reviewers' valid correction as chosen;
* ``neither``: the agreeing reviewers' valid correction as chosen against the rejected plan; dropped without one;
* ``both`` and disputed records: dropped (no preference), counted in the report.

Every corrected plan is re-validated (recipe rules included); an invalid one is reported, never exported.
Agreement over records with two answers or more: Cohen's kappa for two annotators,
Krippendorff's alpha for more (see :mod:`~planforge.curation_ui.agreement`).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from planforge.curation_ui.agreement import agreement, majority
from planforge.curation_ui.argilla_settings import (
    A_IS,
    CORRECT,
    CORRECTED,
    ERROR_KINDS_Q,
    PAIR_KEY,
    missing_parts,
    to_canonical,
)
from planforge.curation_ui.connection import find_dataset, sdk_errors
from planforge.dataset.disk import make_dataset
from planforge.dataset.features import PAIR_FEATURES, REVIEWED_FEATURES
from planforge.dataset.rows import parse_row_plan, row_tools
from planforge.errors import PlanSyntaxError, ReviewError
from planforge.pairs.corruptions import with_join
from planforge.prompting import completion_messages
from planforge.recipes.loader import recipe_rules
from planforge.tools import ToolSet
from planforge.validators import Verdict, judge

VERDICTS = ("chosen", "rejected", "both", "neither")
SPLIT_ORDER = ("train", "validation", "test")


@dataclass(frozen=True)
class Judgement:
    """One annotator's submitted review of one record, with A/B already mapped to chosen/rejected."""

    user: str
    verdict: str  # chosen | rejected | both | neither
    error_kinds: tuple[str, ...] = ()
    corrected: str = ""


@dataclass(frozen=True)
class CorrectionCheck:
    user: str
    text: str
    verdict: Verdict
    message: dict[str, Any] | None  # the canonical assistant message when the correction is valid

    @property
    def valid(self) -> bool:
        return self.message is not None


@dataclass
class Resolution:
    pair_id: str
    split: str
    verdict: str | None  # None: disputed
    annotators: int
    agreed_by: list[str]
    error_kinds: list[str]
    corrections: list[CorrectionCheck]
    row: dict[str, Any] | None = None
    dropped: str | None = None  # why no row


def judgements_from_answers(answers: Mapping[str, Mapping[str, Any]], a_chosen: bool) -> list[Judgement]:
    """``{user: {question: value}}`` (submitted answers only) -> judgements, sorted by user."""
    out = []
    for user in sorted(answers):
        values = answers[user]
        label = values.get(CORRECT)
        if label is None:
            continue
        kinds = values.get(ERROR_KINDS_Q) or []
        corrected = values.get(CORRECTED) or ""
        out.append(Judgement(user, to_canonical(label, a_chosen), tuple(kinds), str(corrected).strip()))
    return out


def check_correction(text: str, tools: ToolSet, rules: Sequence[Any], context: Mapping[str, Any], user: str):
    """Re-validate a corrected plan (a missing final ``join()`` is added, as a person would mean it)."""
    try:
        plan = with_join(parse_row_plan(text, tools))
    except PlanSyntaxError:
        return CorrectionCheck(user, text, judge(text, tools, rules=rules, context=context), None)
    verdict = judge(plan, tools, rules=rules, context=context)
    message = completion_messages(verdict.plan, tools)[0] if verdict.valid and verdict.plan is not None else None
    return CorrectionCheck(user, text, verdict, message)


def _pick_correction(checks: Sequence[CorrectionCheck], users: Sequence[str]) -> CorrectionCheck | None:
    """The valid correction most agreeing annotators wrote (same canonical text); ties by user name."""
    valid = [c for c in checks if c.valid and c.user in users and c.message is not None]
    if not valid:
        return None
    counts = Counter(c.message["content"] for c in valid)  # type: ignore[index]
    return min(valid, key=lambda c: (-counts[c.message["content"]], c.user))  # type: ignore[index]


def _verdict_columns(pair: dict[str, Any], tools: ToolSet, rules: Sequence[Any], context: Mapping[str, Any]) -> None:
    """Recompute both sides' validator verdicts (after a swap or a correction)."""
    chosen = judge(pair["chosen"][-1]["content"], tools, rules=rules, context=context)
    rejected = judge(pair["rejected"][-1]["content"], tools, reference=chosen.plan, rules=rules, context=context)
    pair["chosen_valid"] = chosen.valid
    pair["chosen_errors"] = chosen.error_dicts()
    pair["rejected_valid"] = rejected.valid
    pair["rejected_errors"] = rejected.error_dicts()
    pair["rejected_equivalent"] = bool(rejected.equivalent)


def resolve(pair: Mapping[str, Any], split: str, judgements: Sequence[Judgement]) -> Resolution:
    """Majority verdict, agreeing annotators, checked corrections and the exported row (see the module doc)."""
    tools = row_tools(pair)
    meta = pair.get("meta") or {}
    rules = recipe_rules(meta.get("recipe") or "")
    context = {"query": pair["query"], "now": meta.get("now") or ""}
    checks = [check_correction(j.corrected, tools, rules, context, j.user) for j in judgements if j.corrected]
    verdict, _ = majority(j.verdict for j in judgements)
    agreed_by = [j.user for j in judgements if j.verdict == verdict] if verdict else []
    kind_votes = Counter(k for j in judgements if j.user in agreed_by for k in j.error_kinds)
    kinds = sorted(k for k, n in kind_votes.items() if n * 2 >= len(agreed_by))
    result = Resolution(pair["id"], split, verdict, len(judgements), agreed_by, kinds, checks)
    if verdict is None:
        result.dropped = "disputed"
        return result
    row = {k: pair[k] for k in PAIR_FEATURES}
    row.update(corrected=False, corrected_by="", swapped=False)
    if verdict == "both":
        result.dropped = "both_correct"
        return result
    if verdict == "rejected":
        original_rejected = judge(pair["rejected"][-1]["content"], tools, rules=rules, context=context)
        if original_rejected.valid and original_rejected.plan is not None:
            row["chosen"] = completion_messages(original_rejected.plan, tools)
            row["rejected"] = list(pair["chosen"])
            row["swapped"] = True
        else:
            correction = _pick_correction(checks, agreed_by)
            if correction is None:
                result.dropped = "rejected_plan_invalid"
                return result
            row["chosen"] = [correction.message]
            row["rejected"] = list(pair["chosen"])
            row.update(corrected=True, corrected_by=correction.user, swapped=True)
    elif verdict == "neither":
        correction = _pick_correction(checks, agreed_by)
        if correction is None:
            result.dropped = "neither_without_valid_correction"
            return result
        row["chosen"] = [correction.message]
        row.update(corrected=True, corrected_by=correction.user)
    if row["chosen"][-1]["content"].strip() == row["rejected"][-1]["content"].strip():
        result.dropped = "correction_equals_rejected"
        return result
    if row["corrected"] or row["swapped"]:
        _verdict_columns(row, tools, rules, context)
    row.update(
        verdict=verdict,
        annotators=len(judgements),
        agreed=len(agreed_by),
        agreed_by=agreed_by,
        error_kinds=kinds,
    )
    result.row = row
    return result


@dataclass
class PullResult:
    dataset: datasets.DatasetDict
    report: dict[str, Any]
    resolutions: list[Resolution] = field(default_factory=list)


def build_report(
    resolutions: Sequence[Resolution],
    judgements: Mapping[str, Sequence[Judgement]],
    pairs: Mapping[str, Mapping[str, Any]],
    *,
    total_records: int,
    dataset: str,
    workspace: str,
) -> dict[str, Any]:
    verdicts = Counter(r.verdict or "disputed" for r in resolutions)
    dropped = Counter(r.dropped for r in resolutions if r.dropped)
    exported = Counter(r.split for r in resolutions if r.row is not None)
    error_kinds: Counter = Counter()
    by_rejection_kind: dict[str, Counter] = defaultdict(Counter)
    per_user: Counter = Counter()
    for pair_id, items in judgements.items():
        for j in items:
            per_user[j.user] += 1
            error_kinds.update(j.error_kinds)
            by_rejection_kind[pairs[pair_id]["rejection_kind"]][j.verdict] += 1
    checks = [c for r in resolutions for c in r.corrections]
    invalid = [
        {"pair_id": r.pair_id, "user": c.user, "errors": [e["message"] for e in c.verdict.error_dicts()][:5]}
        for r in resolutions
        for c in r.corrections
        if not c.valid
    ]
    labels = {pid: {j.user: j.verdict for j in items} for pid, items in judgements.items()}
    return {
        "dataset": dataset,
        "workspace": workspace,
        "records": total_records,
        "reviewed": len(resolutions),
        "unreviewed": max(0, total_records - len(resolutions)),
        "verdicts": {v: verdicts.get(v, 0) for v in (*VERDICTS, "disputed")},
        "exported": {s: exported[s] for s in _split_order(exported)},
        "total_exported": sum(exported.values()),
        "not_exported": dict(dropped),
        "error_kinds": dict(error_kinds.most_common()),
        "verdicts_by_rejection_kind": {k: dict(v) for k, v in sorted(by_rejection_kind.items())},
        "corrections": {
            "submitted": len(checks),
            "valid": sum(c.valid for c in checks),
            "invalid": len(invalid),
            "used": sum(1 for r in resolutions if r.row is not None and r.row["corrected"]),
        },
        "invalid_corrections": invalid,
        "agreement": agreement(labels).to_dict(),
        "annotators": dict(sorted(per_user.items())),
    }


def _split_order(splits) -> list[str]:
    known = [s for s in SPLIT_ORDER if s in splits]
    return known + sorted(s for s in splits if s not in SPLIT_ORDER)


def to_dataset(resolutions: Sequence[Resolution]) -> datasets.DatasetDict:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in resolutions:
        if r.row is not None:
            rows[r.split].append(r.row)
    if not rows:
        return datasets.DatasetDict({"train": make_dataset([], REVIEWED_FEATURES)})
    return datasets.DatasetDict({s: make_dataset(rows[s], REVIEWED_FEATURES) for s in _split_order(rows)})


def submitted_answers(record: Any, usernames: Mapping[Any, str]) -> dict[str, dict[str, Any]]:
    """``{username: {question: value}}`` of one SDK record's submitted responses."""
    answers: dict[str, dict[str, Any]] = defaultdict(dict)
    for response in record.responses:
        status = getattr(response.status, "value", response.status)
        if status != "submitted":
            continue
        user = usernames.get(response.user_id) or str(response.user_id)
        answers[user][response.question_name] = response.value
    return dict(answers)


def pull_reviews(
    client: Any,
    name: str,
    *,
    workspace: str | None = None,
    min_annotators: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> PullResult:
    """Read every record with at least ``min_annotators`` submitted responses and resolve it (see the module
    doc); records with fewer are left for later and counted in the report."""
    import argilla as rg

    if min_annotators < 1:
        raise ReviewError("--min-annotators must be at least 1")
    start = time.perf_counter()
    dataset = find_dataset(client, name, workspace)
    missing = missing_parts(dataset.settings)
    if missing:
        raise ReviewError(f"dataset {name!r} is not a planforge review dataset (no {', '.join(missing)})")
    with sdk_errors(f"reading dataset {name!r}"):
        usernames = {u.id: u.username for u in client.users}
        total = dataset.progress()["total"]
        query = rg.Query(filter=rg.Filter(("response.status", "==", "submitted")))
        records = dataset.records(query=query, with_responses=True, with_suggestions=False, with_vectors=False)
        resolutions: list[Resolution] = []
        judgements: dict[str, list[Judgement]] = {}
        pairs: dict[str, dict[str, Any]] = {}
        waiting = 0
        for record in records:
            metadata = record.metadata or {}
            if PAIR_KEY not in metadata or A_IS not in metadata:
                continue  # not pushed by planforge
            pair = json.loads(metadata[PAIR_KEY])
            found = judgements_from_answers(submitted_answers(record, usernames), metadata[A_IS] == "chosen")
            if not found:
                continue
            if len(found) < min_annotators:
                waiting += 1
                continue
            split = pair.pop("split", None) or metadata.get("split") or "train"
            judgements[pair["id"]] = found
            pairs[pair["id"]] = pair
            resolutions.append(resolve(pair, split, found))
            if progress is not None:
                progress(len(resolutions), total)
    workspace_name = dataset.workspace.name
    report = build_report(resolutions, judgements, pairs, total_records=total, dataset=name, workspace=workspace_name)
    report["min_annotators"] = min_annotators
    report["waiting_for_annotators"] = waiting
    report["seconds"] = round(time.perf_counter() - start, 3)
    return PullResult(to_dataset(resolutions), report, resolutions)


def report_markdown(report: Mapping[str, Any]) -> str:
    """The short human-readable review report."""
    exported = ", ".join(f"{s}: {n}" for s, n in report["exported"].items())
    lines = [
        f"# Review of {report['dataset']} (workspace {report['workspace']})",
        "",
        f"{report['reviewed']} of {report['records']} pairs reviewed; {report['total_exported']} exported"
        + (f" ({exported})." if exported else "."),
        "",
        "| verdict | pairs |",
        "|---|---:|",
        *[f"| {v} | {n} |" for v, n in report["verdicts"].items()],
        "",
    ]
    if report.get("waiting_for_annotators"):
        lines += [
            f"{report['waiting_for_annotators']} more pairs have answers from fewer than "
            f"{report['min_annotators']} annotators and were left for a later pull.",
            "",
        ]
    if report["not_exported"]:
        lines += ["Not exported: " + ", ".join(f"{k} {v}" for k, v in report["not_exported"].items()) + ".", ""]
    if report["error_kinds"]:
        lines += ["| error kind | times ticked |", "|---|---:|"]
        lines += [f"| {k} | {n} |" for k, n in report["error_kinds"].items()]
        lines.append("")
    a = report["agreement"]
    if a["method"] != "none":
        value = "n/a" if a["value"] is None else f"{a['value']:.3f}"
        percent = "n/a" if a["percent_agreement"] is None else f"{100 * a['percent_agreement']:.1f}%"
        name = "Cohen's kappa" if a["method"] == "cohen_kappa" else "Krippendorff's alpha"
        lines += [
            f"Agreement: {name} {value} over {a['items']} pairs, {a['annotators']} annotators "
            f"({percent} of paired answers agree).",
            "",
        ]
    c = report["corrections"]
    lines.append(
        f"Corrected plans: {c['submitted']} submitted, {c['valid']} valid, {c['invalid']} invalid, "
        f"{c['used']} used as chosen."
    )
    for item in report["invalid_corrections"][:20]:
        lines.append(f"- invalid correction by {item['user']} on {item['pair_id']}: {'; '.join(item['errors'])}")
    return "\n".join(lines) + "\n"
