"""The Berkeley Function Calling Leaderboard (BFCL v4) single-turn categories: their data, planforge's prompt for
them, and an AST checker that gives BFCL's own verdicts, so a planforge model gets a score comparable to the
leaderboard's.

**Data.** The ``bfcl-eval`` package ships it (``pip install --no-deps bfcl-eval==2026.3.23``; its pinned
dependencies are not needed for the data): ``bfcl_eval/data/BFCL_v4_<category>.json`` holds one item a line (``id``,
``question``: chat turns, ``function``: BFCL function docs) and ``possible_answer/BFCL_v4_<category>.json`` the ground
truth, aligned with the items by position as BFCL aligns them: per expected call, each parameter -> the list of
allowed values, ``""`` among them meaning the parameter may be left out. The files are found through the package's
install metadata, so nothing of ``bfcl_eval`` is imported; ``data_dir`` points at another folder of that layout.

**Categories.** ``simple_python``, ``multiple``, ``parallel``, ``parallel_multiple`` and ``irrelevance`` (non-live),
``live_simple``, ``live_multiple``, ``live_parallel``, ``live_parallel_multiple``, ``live_irrelevance`` and
``live_relevance``: every category BFCL checks by reading the calls rather than running them or holding a
multi-turn conversation.

**Checker** (BFCL's ``ast_checker`` for Python, rule for rule, quirks included, so verdicts agree;
``benchmarks/bfcl_agreement.py`` measures it):

* a category named ``*parallel*`` needs as many calls as expected calls, matched in any order: each expected call,
  in ground-truth order, takes the first not yet matched call that passes against it (BFCL's greedy matching);
  ``*multiple*`` needs the one expected call, checked against the expected function (the right one among several);
  the others need exactly one call, checked against the first offered function;
* one call: the function name must match; every parameter the doc lists as required must be given; a parameter not
  in the doc or not in the ground truth is unexpected; a ground-truth parameter left out fails unless ``""`` is
  among its allowed values;
* types: BFCL's names map to Python types (``string``/``any`` str, ``integer`` int, ``float`` float, ``boolean``
  bool, ``array``/``tuple`` list, ``dict`` dict), compared exactly (a bool is no int); an int is accepted for a
  float, and a tuple where the doc says ``tuple`` (planforge's plan parser reads every tuple as a list anyway); an
  array's items are type-checked one level down; a value of the ground truth's own type passes when that type
  differs from the doc's (BFCL's "variable" answers) and is then compared as is;
* values: strings compare after BFCL's normalization (spaces and ``,./-_*^`` removed, lower case, ``'`` -> ``"``),
  lists element by element with their top-level strings normalized, dicts key by key (each value against its
  allowed list, a key left out only where ``""`` is allowed), lists of dicts dict by dict in order; anything else
  by Python equality (so 1 == 1.0);
* ``irrelevance`` categories pass when no call is made (an unreadable output counts as none, as in BFCL),
  ``live_relevance`` when at least one is; elsewhere an unreadable prediction fails.

One addition for planforge plans, which fill every positional slot: an argument of ``None`` counts as omitted where
the ground truth allows omission (``""`` allowed); elsewhere ``None`` is checked as a value, as BFCL does.

**Scores.** Per category, accuracy = correct / items. The summary follows BFCL's leaderboard
(``eval_runner_helper.generate_leaderboard_csv``), restricted to these categories:

* ``non_live_ast`` = unweighted mean of simple_python, multiple, parallel, parallel_multiple (BFCL's "simple" is the
  mean of simple_python, simple_java and simple_javascript; without Java and JavaScript it is simple_python);
* ``live_ast`` = item-weighted mean of live_simple, live_multiple, live_parallel, live_parallel_multiple
  (their correct items over their items);
* ``irrelevance`` = unweighted mean of irrelevance and live_irrelevance (BFCL's hallucination measure);
* ``relevance`` = live_relevance (reported; BFCL leaves it out of its overall score);
* ``overall`` = (10·non_live_ast + 10·live_ast + 10·irrelevance) / 30, BFCL's overall weights (10, 10, 10 for these
  three, 30 multi-turn and 40 agentic left out), i.e. the plain mean of the three.

A summary covers the categories scored: where some are left out it is the mean over those present (BFCL would count
a missing category as 0), so only a run over every category gives the leaderboard's figure.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

from planforge.errors import DatasetError, InputError, PlanSyntaxError, ToolSpecError
from planforge.interchange.bfcl import NESTED_TYPES, find_function, gold_calls, request_text
from planforge.plan import parse_plan
from planforge.prompting import prompt_messages
from planforge.tools import ToolSet, tools_from_json

BFCL_EVAL_VERSION = "2026.3.23"
INSTALL_HINT = f'pip install --no-deps "bfcl-eval=={BFCL_EVAL_VERSION}"'
VERSION_PREFIX = "BFCL_v4"

NON_LIVE_AST = ("simple_python", "multiple", "parallel", "parallel_multiple")
LIVE_AST = ("live_simple", "live_multiple", "live_parallel", "live_parallel_multiple")
IRRELEVANCE = ("irrelevance", "live_irrelevance")
RELEVANCE = ("live_relevance",)
CATEGORIES = (*NON_LIVE_AST, IRRELEVANCE[0], *LIVE_AST, IRRELEVANCE[1], *RELEVANCE)

# BFCL's names of parameter types -> the Python type a value must have (its ``PYTHON_TYPE_MAPPING``).
PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_STANDARDIZE = re.compile(r"[ ,./\-_*^]")

GroundTruth = tuple[dict[str, dict[str, list[Any]]], ...]


# --------------------------------------------------------------------------------------------------
# data


@dataclass(frozen=True)
class BFCLItem:
    """One BFCL question: its chat messages, the functions offered (BFCL docs and as a planforge ToolSet) and, for
    the categories that have one, the ground truth (per expected call ``{name: {parameter: allowed values}}``)."""

    id: str
    category: str
    messages: tuple[dict[str, str], ...]
    functions: tuple[dict[str, Any], ...]
    tools: ToolSet = field(repr=False)
    ground_truth: GroundTruth | None = field(default=None, repr=False)

    @property
    def request(self) -> str:
        """The last user message: what the model must act on."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return message.get("content") or ""
        return ""

    @property
    def context(self) -> tuple[dict[str, str], ...]:
        """The messages before the request (a system prompt, earlier turns); usually none."""
        for index in range(len(self.messages) - 1, -1, -1):
            if self.messages[index].get("role") == "user":
                return self.messages[:index]
        return self.messages


def bfcl_data_dir(data_dir: Path | None = None) -> Path:
    """The folder holding ``BFCL_v4_*.json`` and ``possible_answer/``: ``data_dir``, or the installed bfcl-eval's."""
    if data_dir is not None:
        folder = Path(data_dir)
        if not any(folder.glob(f"{VERSION_PREFIX}_*.json")):
            raise DatasetError(f"{folder}: no {VERSION_PREFIX}_*.json files (expected bfcl_eval/data's layout)")
        return folder
    for folder in _installed_data_dirs():
        if any(folder.glob(f"{VERSION_PREFIX}_*.json")):
            return folder
    raise DatasetError(f"BFCL data not found: install it with {INSTALL_HINT}, or pass a data folder")


def _installed_data_dirs() -> Iterable[Path]:
    """Where an installed bfcl-eval keeps its data, found without importing it (its modules pull in heavy
    dependencies the data does not need)."""
    with contextlib.suppress(metadata.PackageNotFoundError):
        yield Path(str(metadata.distribution("bfcl-eval").locate_file("bfcl_eval/data")))
    spec = util.find_spec("bfcl_eval")  # a top-level lookup: finds the folder, runs nothing
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "data"


def load_bfcl(
    categories: Sequence[str] | None = None, *, limit: int | None = None, data_dir: Path | None = None
) -> list[BFCLItem]:
    """The items of ``categories`` (default: all of :data:`CATEGORIES`), the first ``limit`` of each, in file order."""
    chosen = tuple(categories) if categories else CATEGORIES
    unknown = [c for c in chosen if c not in CATEGORIES]
    if unknown:
        raise InputError(f"unknown BFCL categories {unknown}; known: {', '.join(CATEGORIES)}")
    folder = bfcl_data_dir(data_dir)
    items: list[BFCLItem] = []
    for category in dict.fromkeys(chosen):
        items += _load_category(folder, category, limit)
    return items


def _load_category(folder: Path, category: str, limit: int | None) -> list[BFCLItem]:
    rows = _read_jsonl(folder / f"{VERSION_PREFIX}_{category}.json", limit)
    answers: list[dict[str, Any]] | None = None
    if category not in IRRELEVANCE + RELEVANCE:
        answers = _read_jsonl(folder / "possible_answer" / f"{VERSION_PREFIX}_{category}.json", limit)
        if len(answers) != len(rows):
            raise DatasetError(f"{folder}: {category} has {len(rows)} items but {len(answers)} ground-truth rows")
    items = []
    for index, row in enumerate(rows):
        item_id = str(row.get("id", f"{category}_{index}"))
        try:
            functions = tuple(row["function"])
            tools = tools_from_json(list(functions))
            messages = tuple(message for turn in row["question"] for message in turn)
        except (KeyError, TypeError, ToolSpecError) as exc:
            raise DatasetError(f"{folder}: {category} item {item_id}: {exc}") from None
        truth = tuple(answers[index]["ground_truth"]) if answers is not None else None
        items.append(BFCLItem(item_id, category, messages, functions, tools, truth))
    return items


def _read_jsonl(path: Path, limit: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    try:
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                if limit is not None and len(rows) >= limit:
                    break
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise DatasetError(f"{path}:{line_no}: not valid JSON ({exc})") from None
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    return rows


# --------------------------------------------------------------------------------------------------
# prompt and predictions


def bfcl_query(item: BFCLItem) -> str:
    """The request as one user turn (:func:`planforge.interchange.bfcl.request_text`): earlier messages, where an
    item has them, come first under "Conversation so far:"; an item without them is its request alone, the
    single-turn form planforge models are trained on."""
    return request_text(item.messages)


def bfcl_prompt(item: BFCLItem) -> list[dict[str, Any]]:
    """The chat turns a planforge model is evaluated on: planforge's own prompt; the functions offered are
    ``item.tools``, given to the model the way its chat template wants them (:func:`planforge.prompting.render`)."""
    return prompt_messages(bfcl_query(item))


@dataclass(frozen=True)
class Call:
    """One predicted function call. ``unbound``: positional arguments that do not fit the function's parameters
    (too many, or also given by name); a call with any fails."""

    name: str
    arguments: Mapping[str, Any]
    unbound: tuple[Any, ...] = ()


def parse_prediction(prediction: Any, tools: ToolSet) -> list[Call]:
    """A plan (LLMCompiler text, a JSON list of calls, or that list decoded) -> its calls; ``join()`` is none, so
    ``[]`` or a plan of only ``join()`` is no call. Raises :class:`PlanSyntaxError` for anything unreadable."""
    plan = parse_plan(prediction, param_order=tools.param_order).bind(tools.param_order)
    return [Call(step.name, dict(step.kwargs), tuple(step.args)) for step in plan.calls]


def gold_predictions(items: Iterable[BFCLItem]) -> dict[str, str]:
    """A passing prediction per item, as a JSON list of calls (:func:`planforge.interchange.bfcl.gold_calls`: the
    first allowed value of each parameter, ``""`` meaning it is left out). Irrelevance items get ``[]``.
    ``live_relevance`` has no ground truth (BFCL only asks for a call), so its items get one call of the first
    offered function."""
    gold: dict[str, str] = {}
    for item in items:
        if item.category in IRRELEVANCE:
            calls: list[dict[str, Any]] = []
        elif item.ground_truth is None:
            calls = [{"name": item.functions[0]["name"], "arguments": {}}] if item.functions else []
        else:
            calls = gold_calls(item.functions, item.ground_truth)
        gold[item.id] = json.dumps(calls, ensure_ascii=False)
    return gold


# --------------------------------------------------------------------------------------------------
# checker (pure)


def standardize_string(text: str) -> str:
    """BFCL's string normalization: "April 1, 2024" and "april 1 2024" compare equal."""
    return _STANDARDIZE.sub("", text).lower().replace("'", '"')


def _standardized(value: Any) -> Any:
    return standardize_string(value) if type(value) is str else value


def check(item: BFCLItem, calls: Sequence[Call]) -> tuple[bool, str]:
    """BFCL's verdict on ``calls`` for ``item``: ``(passed, reason)``, the reason empty when it passed."""
    category = item.category
    if "irrelevance" in category:
        return (True, "") if not calls else (False, f"made {len(calls)} call(s) where none was wanted")
    if category in RELEVANCE:
        return (True, "") if calls else (False, "made no call where one was wanted")
    expected = [(name, answer) for entry in item.ground_truth or () for name, answer in entry.items()]
    if len(calls) != len(expected):
        return False, f"made {len(calls)} call(s), expected {len(expected)}"
    if "parallel" in category:
        reason = _check_parallel(item.functions, calls, expected)
    elif "multiple" in category:
        name, answer = expected[0]
        reason = check_call(find_function(item.functions, name), calls[0], answer)
    else:
        reason = check_call(item.functions[0] if item.functions else None, calls[0], expected[0][1])
    return (reason is None), reason or ""


def _check_parallel(
    functions: Sequence[Mapping[str, Any]], calls: Sequence[Call], expected: Sequence[tuple[str, Mapping[str, Any]]]
) -> str | None:
    """Each expected call takes the first unmatched call that passes against it, in ground-truth order."""
    free = list(range(len(calls)))
    for position, (name, answer) in enumerate(expected, start=1):
        doc = find_function(functions, name)
        reasons = [(index, check_call(doc, calls[index], answer)) for index in free]
        match = next((index for index, reason in reasons if reason is None), None)
        if match is None:
            first = reasons[0][1] if reasons else "no call left"
            return f"no call matches expected call {position} ({name}): {first}"
        free.remove(match)
    return None


def check_call(doc: Mapping[str, Any] | None, call: Call, answer: Mapping[str, Sequence[Any]]) -> str | None:
    """One call against one expected call (``doc``: its BFCL function doc): ``None`` when it passes, else why not."""
    if doc is None:
        return "the expected function is not among those offered"
    name = doc["name"]
    if call.name != name:
        return f"called {call.name!r}, expected {name!r}"
    if call.unbound:
        return f"{name}: {len(call.unbound)} positional argument(s) do not fit its parameters"
    # None stands for an omitted argument in planforge plans: it passes wherever omission does.
    arguments = {k: v for k, v in call.arguments.items() if not (v is None and "" in answer.get(k, ()))}
    params = doc.get("parameters", {})
    props = params.get("properties", {})
    for param in params.get("required", ()):
        if param not in arguments:
            return f"{name}: missing required parameter {param!r}"
    for param, value in arguments.items():
        if param not in props or param not in answer:
            return f"{name}: unexpected parameter {param!r}"
        reason = _check_argument(value, answer[param], props[param])
        if reason is not None:
            return f"{name}: parameter {param!r}: {reason}"
    for param, allowed in answer.items():
        if param not in arguments and "" not in allowed:
            return f"{name}: parameter {param!r} left out, but it has no optional answer"
    return None


def _check_argument(value: Any, allowed: Sequence[Any], schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    expected = PYTHON_TYPES.get(kind) if isinstance(kind, str) else None
    if expected is None:
        return f"unknown BFCL type {kind!r}"
    nested = None
    if kind in NESTED_TYPES:
        items = schema.get("items")
        items_kind = items.get("type") if isinstance(items, Mapping) else None
        nested = PYTHON_TYPES.get(items_kind) if isinstance(items_kind, str) else None
    if kind == "tuple" and type(value) is tuple:
        value = list(value)
    if kind == "float" and type(value) is int:
        value = float(value)
    type_ok, variable = _type_check(value, allowed, expected, nested)
    if not type_ok:
        return f"{type(value).__name__} {value!r} is not of type {kind}"
    if not variable:
        if expected is dict:
            return _check_dict(value, allowed)
        if expected is list and nested is dict:
            return _check_list_of_dicts(value, allowed)
        if expected is str:
            wanted = [standardize_string(a) for a in allowed if type(a) is str]
            return None if standardize_string(value) in wanted else f"{value!r} is not one of {list(allowed)}"
        if expected is list:
            wanted = [_standardized_list(a) for a in allowed if type(a) in (list, str)]
            return None if _standardized_list(value) in wanted else f"{value!r} is not one of {list(allowed)}"
    return None if value in allowed else f"{value!r} is not one of {list(allowed)}"


def _answer_type(allowed: Sequence[Any]) -> type | None:
    """The type of the first allowed value that is not the "may be omitted" marker."""
    return next((type(a) for a in allowed if a != ""), None)


def _type_check(value: Any, allowed: Sequence[Any], expected: type, nested: type | None) -> tuple[bool, bool]:
    """``(type is right, value is a "variable")``: BFCL's type check. A value of the doc's type passes (an array's
    items too, against one allowed list at least, or trivially when some allowed value is not a list); so does a
    value of the ground truth's own type where that differs from the doc's, and it is then compared as is."""
    answer_type = _answer_type(allowed)
    if type(value) is not expected:
        return answer_type is not None and type(value) is answer_type, True
    variable = answer_type is not None and answer_type is not expected
    if nested is None:
        return True, variable
    for option in allowed:
        if type(option) is not list or all(_type_check(item, option, nested, None)[0] for item in value):
            return True, variable
    return False, False


def _standardized_list(values: Any) -> list[Any]:
    """A list with its top-level strings normalized (an allowed ``""`` reads as the empty list, as in BFCL)."""
    return [_standardized(v) for v in values]


def _check_dict(value: Mapping[str, Any], allowed: Sequence[Any]) -> str | None:
    """A dict against its allowed dicts (each ``{key: allowed values}``): passes if it fits one of them."""
    reason = f"{value!r} matches no allowed dict"
    for option in allowed:
        if type(option) is dict:
            reason = _dict_mismatch(value, option)
            if reason is None:
                return None
    return reason


def _dict_mismatch(value: Mapping[str, Any], option: Mapping[str, Sequence[Any]]) -> str | None:
    for key, item in value.items():
        if key not in option:
            return f"unexpected key {key!r}"
        if _standardized(item) not in [_standardized(a) for a in option[key]]:
            return f"key {key!r}: {item!r} is not one of {list(option[key])}"
    for key, wanted in option.items():
        if key not in value and "" not in wanted:
            return f"missing key {key!r}"
    return None


def _check_list_of_dicts(value: Sequence[Any], allowed: Sequence[Any]) -> str | None:
    """A list of dicts against allowed lists of dicts, in order, dict by dict."""
    for option in allowed:
        if type(option) not in (list, str) or len(option) != len(value):
            continue
        pairs = zip(value, option, strict=True)
        if all(type(v) is dict and type(o) is dict and _dict_mismatch(v, o) is None for v, o in pairs):
            return None
    return f"{value!r} matches no allowed list of dicts"


# --------------------------------------------------------------------------------------------------
# scoring (pure)


@dataclass(frozen=True)
class ItemResult:
    """The verdict on one item's prediction."""

    id: str
    category: str
    ok: bool
    reason: str
    calls: int | None  # calls read from the prediction; None when it could not be read

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "category": self.category, "ok": self.ok, "reason": self.reason, "calls": self.calls}


def score_item(item: BFCLItem, prediction: Any) -> ItemResult:
    """Read and check one prediction (``None``: there was none, a failure)."""
    if prediction is None:
        return ItemResult(item.id, item.category, False, "no prediction", None)
    try:
        calls = parse_prediction(prediction, item.tools)
    except PlanSyntaxError as exc:
        if "irrelevance" in item.category:  # BFCL: output that does not decode is no function call
            return ItemResult(item.id, item.category, True, "", None)
        return ItemResult(item.id, item.category, False, f"unreadable plan: {exc}", None)
    ok, reason = check(item, calls)
    return ItemResult(item.id, item.category, ok, reason, len(calls))


def score_bfcl(items: Sequence[BFCLItem], predictions: Mapping[str, Any]) -> dict[str, Any]:
    """Score predictions (item id -> plan): per-category accuracy, BFCL's summary groups and overall (see the module
    doc), and the verdict on each item. An item without a prediction fails."""
    results = [score_item(item, predictions.get(item.id)) for item in items]
    counts: dict[str, list[int]] = {}
    for result in results:
        tally = counts.setdefault(result.category, [0, 0])
        tally[0] += result.ok
        tally[1] += 1
    categories = {
        c: {"accuracy": counts[c][0] / counts[c][1], "correct": counts[c][0], "n": counts[c][1]}
        for c in CATEGORIES
        if c in counts
    }
    summary = bfcl_summary({c: (v["correct"], v["n"]) for c, v in categories.items()})
    return {
        "categories": categories,
        "summary": {k: v for k, v in summary.items() if k != "overall"},
        "overall": summary["overall"],
        "items": [r.to_dict() for r in results],
    }


def bfcl_summary(counts: Mapping[str, tuple[int, int]]) -> dict[str, float | None]:
    """BFCL's summary groups and overall from per-category ``(correct, n)``; a group with no category scored is
    ``None`` and left out of the overall."""

    def mean(values: list[float]) -> float | None:
        return sum(values) / len(values) if values else None

    def accuracy(category: str) -> float:
        correct, n = counts[category]
        return correct / n if n else 0.0

    present = [c for c in CATEGORIES if c in counts]
    live = [counts[c] for c in LIVE_AST if c in counts]
    live_n = sum(n for _, n in live)
    groups: dict[str, float | None] = {
        "non_live_ast": mean([accuracy(c) for c in NON_LIVE_AST if c in present]),
        "live_ast": sum(correct for correct, _ in live) / live_n if live_n else None,
        "irrelevance": mean([accuracy(c) for c in IRRELEVANCE if c in present]),
        "relevance": accuracy(RELEVANCE[0]) if RELEVANCE[0] in present else None,
    }
    overall = mean([v for k, v in groups.items() if k != "relevance" and v is not None])
    return {**groups, "overall": overall}
