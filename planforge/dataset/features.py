"""The row contract: the ``datasets.Features`` of every kind of dataset planforge writes, and how to tell them apart.

Every writer builds its Arrow files from these schemas and every reader checks a folder's kind with
:func:`kind_of`, so the stages agree on one contract (as ``datasets`` shares one ``Features`` object
between its readers and writers).

Kinds:

* :data:`PLANS` -- ``gen run``: one request and its validated plan per row (:data:`PLAN_FEATURES`);
* :data:`PAIRS` -- ``gen pairs``: chosen/rejected plans for preference training (:data:`PAIR_FEATURES`);
* :data:`REVIEWED_PAIRS` -- ``gen review pull``: pairs with people's verdicts (:data:`REVIEWED_FEATURES`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

PLANS = "plans"
PAIRS = "pairs"
REVIEWED_PAIRS = "reviewed_pairs"
KINDS = (PLANS, PAIRS, REVIEWED_PAIRS)

#: How a command names each kind in an error ("this is a preference-pairs dataset (from `gen pairs`)").
KIND_DESCRIPTIONS = {
    PLANS: "a plans dataset (from `gen run`)",
    PAIRS: "a preference-pairs dataset (from `gen pairs`)",
    REVIEWED_PAIRS: "a reviewed-pairs dataset (from `gen review pull`)",
}


@cache
def _features() -> dict[str, Any]:
    """The ``datasets.Features`` objects, built (and ``datasets`` imported) the first time one is asked for."""
    import datasets

    #: chat turns as every chat template reads them
    MESSAGES = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
    #: the offered functions, OpenAI entries (``{"type": "function", "function": {...}}``), decoded objects when read
    TOOLS = datasets.List(datasets.Json())
    ERRORS = datasets.List(
        {"code": datasets.Value("string"), "step": datasets.Value("int32"), "message": datasets.Value("string")}
    )

    PLAN_FEATURES = datasets.Features(
        {
            "id": datasets.Value("string"),
            "query": datasets.Value("string"),
            "tools": TOOLS,
            "prompt": MESSAGES,
            "completion": MESSAGES,
            "plan": datasets.Value("string"),
            "plan_text": datasets.Value("string"),
            "target_tools": datasets.List(datasets.Value("string")),
            "meta": {
                "now": datasets.Value("string"),
                "teacher": datasets.Value("string"),
                "model": datasets.Value("string"),
                "recipe": datasets.Value("string"),
                "request_id": datasets.Value("string"),
                "distractors": datasets.List(datasets.Value("string")),
                "structure": datasets.Value("string"),  # planforge.structures key: statistics group rows by it
                # the recipe's diversity seeds the teacher was given (null when the recipe has none)
                "persona": datasets.Value("string"),
                "scenario": datasets.Value("string"),
                "paraphrase_of": datasets.Value("string"),  # --mode paraphrase: the request this one rewrites
                "judge_verdict": datasets.Value("string"),  # --verify judge: yes | no | unknown
                "judge_reason": datasets.Value("string"),
                # no offered function serves the request: the plan is empty (join() alone) and that is right
                "no_call": datasets.Value("bool"),
            },
        }
    )

    PAIR_FEATURES = datasets.Features(
        {
            "id": datasets.Value("string"),
            "example_id": datasets.Value("string"),
            "query": datasets.Value("string"),
            "prompt": MESSAGES,
            "chosen": MESSAGES,
            "rejected": MESSAGES,
            "tools": TOOLS,
            "rejection_source": datasets.Value("string"),
            "rejection_kind": datasets.Value("string"),
            "rejection_detail": datasets.Value("string"),
            "chosen_valid": datasets.Value("bool"),
            "chosen_errors": ERRORS,
            "rejected_valid": datasets.Value("bool"),
            "rejected_errors": ERRORS,
            "rejected_equivalent": datasets.Value("bool"),
            "meta": {
                "now": datasets.Value("string"),
                "recipe": datasets.Value("string"),
                "student": datasets.Value("string"),
            },
        }
    )

    REVIEWED_FEATURES = datasets.Features(
        {
            **PAIR_FEATURES,
            "verdict": datasets.Value("string"),
            "annotators": datasets.Value("int32"),
            "agreed": datasets.Value("int32"),
            "agreed_by": datasets.List(datasets.Value("string")),
            "error_kinds": datasets.List(datasets.Value("string")),
            "corrected": datasets.Value("bool"),
            "corrected_by": datasets.Value("string"),
            "swapped": datasets.Value("bool"),
        }
    )

    return {
        "MESSAGES": MESSAGES,
        "TOOLS": TOOLS,
        "ERRORS": ERRORS,
        "PLAN_FEATURES": PLAN_FEATURES,
        "PAIR_FEATURES": PAIR_FEATURES,
        "REVIEWED_FEATURES": REVIEWED_FEATURES,
        "FEATURES_BY_KIND": {PLANS: PLAN_FEATURES, PAIRS: PAIR_FEATURES, REVIEWED_PAIRS: REVIEWED_FEATURES},
    }


def __getattr__(name: str) -> Any:
    """``PLAN_FEATURES`` and the other schemas load lazily: importing this module does not import ``datasets``
    (a second and a half of start-up that only commands writing or reading datasets need)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _features()[name]


_LAZY = frozenset(
    {"MESSAGES", "TOOLS", "ERRORS", "PLAN_FEATURES", "PAIR_FEATURES", "REVIEWED_FEATURES", "FEATURES_BY_KIND"}
)


_PAIR_COLUMNS = frozenset({"prompt", "chosen", "rejected"})
_REVIEW_COLUMNS = frozenset({"verdict", "agreement"})


def kind_of(columns: Iterable[str]) -> str | None:
    """The kind of a dataset from its columns (``None``: none of planforge's).

    Lenient on purpose: a plans dataset needs a request or messages and a plan (or its labels), so datasets
    written elsewhere with planforge's main columns are read too; each command then checks the columns it uses."""
    cols = set(columns)
    if cols >= _PAIR_COLUMNS:
        return REVIEWED_PAIRS if _REVIEW_COLUMNS & cols else PAIRS
    if ({"query", "tools", "messages"} & cols) and ({"plan", "plan_text", "target_tools"} & cols):
        return PLANS
    return None
