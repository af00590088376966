"""The review dataset in Argilla: its fields, questions and metadata, and one record per pair (pure).

Fields, in the order an annotator reads them: the request (with the example's "now"), then plans A and B side
by side with the lines that differ highlighted (a custom field), then the offered functions, collapsed until
opened (a custom field: the plans are what is judged; the docs are looked up).
Questions: which plan is correct (``A``, ``B``, ``both``, ``neither``), the error kinds of a wrong plan
(multi-label, optional) and an optional corrected plan (text). Metadata: the tool count (visible), the
rejection kind and source, the split and which side A is (hidden from annotators). The pair itself travels in
an extra metadata key, ``pair`` (JSON), which Argilla shows to owners and admins only, so a pull needs nothing
but the Argilla dataset.

A and B are assigned per record from a hash of the pair id: stable across re-pushes (a response keeps
meaning what it meant) and balanced over a dataset, so annotators cannot learn that A is always right.
Validator verdicts become suggestions (agent ``planforge-validators``) only when asked for: a pre-selected
answer anchors annotators toward it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from planforge.curation_ui.rendering import render_functions, render_plan_text, render_request
from planforge.dataset.rows import row_tools
from planforge.pairs.corruptions import DESCRIPTIONS, KINDS

FIELDS = ("request", "plans", "functions")
CORRECT = "correct"
ERROR_KINDS_Q = "error_kinds"
CORRECTED = "corrected_plan"
QUESTIONS = (CORRECT, ERROR_KINDS_Q, CORRECTED)

CORRECT_LABELS = {
    "A": "Plan A is correct",
    "B": "Plan B is correct",
    "both": "Both are correct",
    "neither": "Neither is correct",
}
#: Error kinds a reviewer can tick: the corruption kinds plus what students get wrong otherwise.
ERROR_KINDS: dict[str, str] = {
    **{kind: DESCRIPTIONS[kind] for kind in KINDS},
    "bad_arguments": "a required argument is missing, or an unknown one is given",
    "wrong_values": "right calls, but a wrong value (date, name, text)",
    "syntax": "not a readable plan (format, numbering, join())",
    "other": "something else (say what in the corrected plan)",
}
#: Validator error codes -> the error kind a reviewer would tick (suggestions only).
CODE_TO_KIND = {
    "syntax": "syntax",
    "join": "syntax",
    "empty_plan": "missing_step",
    "unexpected_call": "extra_step",
    "unknown_function": "hallucinated_function",
    "missing_argument": "bad_arguments",
    "unexpected_argument": "bad_arguments",
    "type_mismatch": "type_error",
    "reference_type": "type_error",
    "bad_reference": "broken_dependency",
    "cycle": "broken_dependency",
    "rule": "wrong_values",
}
AGENT = "planforge-validators"
A_IS = "a_is"  # metadata: "chosen" or "rejected"
PAIR_KEY = "pair"  # extra metadata: the pair row as JSON

GUIDELINES = """\
Each record is a user request, the functions the planner was offered, and two plans (A and B) written in the
LLMCompiler style: numbered calls, where "$K" means the result of step K (the line under a step says what
each $K refers to). A plan is correct when running its calls, in order, does what the request asks: the right
functions, the right dependencies, right argument values, nothing missing and nothing extra.

1. Which plan is correct? A, B, both, or neither.
2. For a wrong plan, tick what is wrong with it (several kinds may apply).
3. Optionally, write the correct plan (one call per line, `N. function(args)`, ending with `N. join()`).
   It is re-validated when the reviews are pulled; an invalid correction is reported and not used.

Lines highlighted in yellow are the ones the two plans do not share. The offered functions are folded under
the plans: open them to check a signature or an argument's type.
If suggestions are shown, they come from the automatic validators: they check format, types and dependencies,
not meaning.
"""


def a_is_chosen(pair_id: str, salt: str = "") -> bool:
    """Whether plan A shows the chosen plan for this pair (stable; about half of the pairs)."""
    return hashlib.sha256(f"{salt}\x00{pair_id}".encode()).digest()[0] % 2 == 0


def to_canonical(label: str, a_chosen: bool) -> str:
    """A reviewer's ``A``/``B``/``both``/``neither`` -> ``chosen``/``rejected``/``both``/``neither``."""
    if label == "A":
        return "chosen" if a_chosen else "rejected"
    if label == "B":
        return "rejected" if a_chosen else "chosen"
    if label in ("both", "neither"):
        return label
    raise ValueError(f"unknown answer {label!r} (expected A, B, both or neither)")


def from_canonical(verdict: str, a_chosen: bool) -> str:
    """The inverse of :func:`to_canonical`."""
    if verdict == "chosen":
        return "A" if a_chosen else "B"
    if verdict == "rejected":
        return "B" if a_chosen else "A"
    if verdict in ("both", "neither"):
        return verdict
    raise ValueError(f"unknown verdict {verdict!r}")


def error_kinds_for(codes: list[str], messages: list[str]) -> list[str]:
    kinds = []
    for code, message in zip(codes, messages, strict=True):
        kind = "missing_lookup" if code == "rule" and "look it up" in message else CODE_TO_KIND.get(code, "other")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


def suggestions_for(pair: Mapping[str, Any], a_chosen: bool) -> list[dict[str, Any]]:
    """The validators' view as suggestions, only where they can know: a plan that fails validation is wrong.

    When both plans pass, the validators cannot tell which one means what the request asks, so no answer is
    suggested (a guess with a made-up confidence would only anchor the annotator)."""
    chosen_ok = bool(pair["chosen_valid"])
    rejected_ok = bool(pair["rejected_valid"])
    out = []
    if not (chosen_ok and rejected_ok):
        verdict = {(True, False): "chosen", (False, True): "rejected"}.get((chosen_ok, rejected_ok), "neither")
        out.append({"question": CORRECT, "value": from_canonical(verdict, a_chosen), "score": 1.0, "agent": AGENT})
    errors = list(pair["rejected_errors"] or []) + (list(pair["chosen_errors"] or []) if not chosen_ok else [])
    kinds = error_kinds_for([e["code"] for e in errors], [e["message"] for e in errors])
    if kinds:
        out.append({"question": ERROR_KINDS_Q, "value": kinds, "score": None, "agent": AGENT})
    return out


#: Plan A beside plan B; each side a list of ``{"text", "changed"}`` lines. A long plan scrolls inside its box, so
#: both plans start and end within the first screen however many steps they have. Handlebars' ``{{ }}`` escapes HTML,
#: so nothing in a plan or a tool description is ever interpreted as markup.
PLANS_TEMPLATE = """\
<style>
.pf-plans { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.pf-plan h4 { margin: 0 0 6px; font-size: 14px; }
.pf-plan pre { margin: 0; padding: 8px; background: #f6f7f9; border-radius: 6px; font-size: 12.5px;
  white-space: pre-wrap; word-break: break-word; line-height: 1.45; max-height: 320px; overflow-y: auto; }
.pf-line { display: block; }
.pf-changed { background: #fff2c6; }
</style>
<div class="pf-plans">
  <div class="pf-plan" id="pf-plan-a"><h4>Plan A</h4><pre>{{#each record.fields.plans.a}}<span \
class="pf-line{{#if this.changed}} pf-changed{{/if}}">{{this.text}}</span>{{/each}}</pre></div>
  <div class="pf-plan" id="pf-plan-b"><h4>Plan B</h4><pre>{{#each record.fields.plans.b}}<span \
class="pf-line{{#if this.changed}} pf-changed{{/if}}">{{this.text}}</span>{{/each}}</pre></div>
</div>
"""
#: The function docs, collapsed: open them to check a signature.
FUNCTIONS_TEMPLATE = """\
<style>
.pf-functions summary { cursor: pointer; font-weight: 600; }
.pf-functions pre { white-space: pre-wrap; font-size: 12px; background: #f6f7f9; padding: 8px; border-radius: 6px; }
</style>
<details class="pf-functions" id="pf-functions"><summary>Offered functions ({{record.fields.functions.count}}): \
click to show</summary><pre>{{record.fields.functions.docs}}</pre></details>
"""


def plan_columns(a: str, b: str) -> dict[str, list[dict[str, Any]]]:
    """Both plans as lines, each marked when it is not in the other plan (difflib's line matching)."""
    left, right = a.splitlines() or [""], b.splitlines() or [""]
    same_left: set[int] = set()
    same_right: set[int] = set()
    for block in difflib.SequenceMatcher(a=left, b=right, autojunk=False).get_matching_blocks():
        same_left.update(range(block.a, block.a + block.size))
        same_right.update(range(block.b, block.b + block.size))
    return {
        "a": [{"text": line, "changed": i not in same_left} for i, line in enumerate(left)],
        "b": [{"text": line, "changed": i not in same_right} for i, line in enumerate(right)],
    }


def record_for_pair(
    pair: Mapping[str, Any], split: str, *, suggestions: bool = False, salt: str = ""
) -> dict[str, Any]:
    """One Argilla record (as plain data: ``id``, ``fields``, ``metadata``, ``suggestions``) for a pair row."""
    tools = row_tools(pair)
    chosen_text = pair["chosen"][-1]["content"] or ""
    rejected_text = pair["rejected"][-1]["content"] or ""
    a_chosen = a_is_chosen(pair["id"], salt)
    chosen_view = render_plan_text(chosen_text, tools)
    rejected_view = render_plan_text(rejected_text, tools)
    meta = pair.get("meta") or {}
    payload = {**dict(pair), "split": split}
    return {
        "id": pair["id"],
        "fields": {
            "request": render_request(pair["query"], meta.get("now") or None),
            "plans": plan_columns(
                chosen_view if a_chosen else rejected_view, rejected_view if a_chosen else chosen_view
            ),
            "functions": {"count": len(tools), "docs": render_functions(tools)},
        },
        "metadata": {
            "tool_count": len(tools),
            "rejection_kind": pair["rejection_kind"],
            "rejection_source": pair["rejection_source"],
            "split": split,
            A_IS: "chosen" if a_chosen else "rejected",
            PAIR_KEY: json.dumps(payload, ensure_ascii=False),
        },
        "suggestions": suggestions_for(pair, a_chosen) if suggestions else [],
    }


def build_settings(min_submitted: int = 1) -> Any:
    """The ``rg.Settings`` of a review dataset."""
    import argilla as rg

    return rg.Settings(
        guidelines=GUIDELINES,
        fields=[
            rg.TextField(name="request", title="Request"),
            rg.CustomField(
                name="plans", title="Plans A and B (lines that differ are highlighted)", template=PLANS_TEMPLATE
            ),
            rg.CustomField(name="functions", title="Offered functions", template=FUNCTIONS_TEMPLATE),
        ],
        questions=[
            rg.LabelQuestion(name=CORRECT, title="Which plan is correct?", labels=CORRECT_LABELS),
            rg.MultiLabelQuestion(
                name=ERROR_KINDS_Q,
                title="What is wrong with the wrong plan(s)?",
                labels=ERROR_KINDS,
                required=False,
            ),
            rg.TextQuestion(
                name=CORRECTED,
                title="Corrected plan (optional): one call per line, ending with N. join()",
                required=False,
            ),
        ],
        metadata=[
            rg.IntegerMetadataProperty(name="tool_count", title="Offered functions"),
            rg.TermsMetadataProperty(name="rejection_kind", title="Rejection kind", visible_for_annotators=False),
            rg.TermsMetadataProperty(name="rejection_source", title="Rejection source", visible_for_annotators=False),
            rg.TermsMetadataProperty(name="split", title="Split", visible_for_annotators=False),
            rg.TermsMetadataProperty(
                name=A_IS, title="Plan A is", options=["chosen", "rejected"], visible_for_annotators=False
            ),
        ],
        distribution=rg.TaskDistribution(min_submitted=min_submitted),
        allow_extra_metadata=True,
    )


def missing_parts(dataset_settings: Any) -> list[str]:
    """What an existing dataset lacks to be a planforge review dataset (empty when it is one)."""
    fields = {f.name for f in dataset_settings.fields}
    questions = {q.name for q in dataset_settings.questions}
    metadata = {m.name for m in dataset_settings.metadata}
    missing = [f"field {f}" for f in FIELDS if f not in fields]
    missing += [f"question {q}" for q in QUESTIONS if q not in questions]
    missing += [f"metadata {A_IS}"] if A_IS not in metadata else []
    return missing
