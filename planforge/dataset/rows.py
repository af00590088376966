"""Rows in and out: the one place that turns an example into a dataset row and reads a row back.

A plans row (:data:`~planforge.dataset.features.PLAN_FEATURES`) has ``id``, ``query``, ``tools`` (the offered
functions, OpenAI entries), ``prompt`` and ``completion`` (the conversation as TRL reads it, rendered by
:mod:`planforge.prompting`), ``plan`` (JSON list of calls with named arguments), ``plan_text`` (LLMCompiler text
ending in ``join()``, the completion's text), ``target_tools`` (the functions the plan uses: the tool-retrieval
labels) and ``meta`` (the example's fixed "now", teacher, model, recipe, request id, distractors, the plan's
structure key, and ``no_call``: no offered function serves the request, so its plan is the empty plan, ``join()``
alone). Rows written by planforge 0.1 (a ``messages`` column, ``tools`` as a JSON string) are read too.
Everything here is pure."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planforge.errors import DatasetError, PlanSyntaxError, ToolSpecError
from planforge.plan import Plan, parse_calls, parse_plan, to_calls
from planforge.prompting import (
    PLANNER_INSTRUCTIONS,
    plan_text,
    prompt_messages,
    role_and_content,
    tools_column,
)
from planforge.structures import structure_key
from planforge.tools import ToolSet, tools_from_json


@dataclass(frozen=True)
class Example:
    """A validated request/plan pair with the functions it was offered: one plans row."""

    query: str
    plan: Plan  # bound: arguments by name
    tools: ToolSet  # offered: targets + distractors, in the order shown to the teacher
    now: str
    teacher: str = ""
    model: str = ""
    recipe: str = ""
    request_id: str = ""
    instructions: str = PLANNER_INSTRUCTIONS
    no_call: bool = False  # no offered function serves the request: the empty plan is its answer
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def target_tools(self) -> list[str]:
        return list(dict.fromkeys(self.plan.function_names()))

    @property
    def example_id(self) -> str:
        return example_id(self.recipe, self.query, plan_text(self.plan, self.tools))

    @property
    def context(self) -> dict[str, Any]:
        """What recipe rules read besides the plan: the request and the example's "now"."""
        return {"query": self.query, "now": self.now}

    def record(self) -> ExampleRecord:
        """What a checkpoint keeps of the example (the rest of its row is rebuilt from the run's settings)."""
        return example_record(self.query, self.plan, self.tools, self.recipe, {"no_call": self.no_call})

    def to_row(self) -> dict[str, Any]:
        builder = RowBuilder(
            self.tools, teacher=self.teacher, model=self.model, recipe=self.recipe, instructions=self.instructions
        )
        return builder.row(self.record(), list(self.tools), self.now, self.request_id)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], tools: ToolSet | None = None) -> Example:
        """A plans row back as an example (raises ``PlanSyntaxError``/``ToolSpecError``/``KeyError`` when the row
        is unreadable). ``tools``: the row's parsed functions, when the caller has them (a :class:`ToolCache`)."""
        tools = tools if tools is not None else row_tools(row)
        meta = row.get("meta") or {}
        return cls(
            query=row["query"],
            plan=row_plan(row).bind(tools.param_order),
            tools=tools,
            now=meta.get("now") or "",
            teacher=meta.get("teacher") or "",
            model=meta.get("model") or "",
            recipe=meta.get("recipe") or "",
            request_id=meta.get("request_id") or "",
            instructions=row_instructions(row),
            no_call=bool(meta.get("no_call")),
        )


# --------------------------------------------------------------------------------------------------
# compact records: what a checkpoint keeps of an example, and the rows rebuilt from them

#: (id, query, plan_text, plan as JSON calls, target_tools, structure key[, own]): an example without the parts its
#: run shares; ``own`` (optional) holds the example's own ``meta`` fields (persona, scenario, paraphrase_of,
#: judge_verdict, judge_reason, no_call) and ``offered``, where it was offered functions of its own rather than its
#: request's
ExampleRecord = tuple[Any, ...]
#: the ``meta`` fields a record may carry, each null in a row whose record does not (``no_call``: false), and kept
#: in the record only when set (``no_call`` only when true)
RECORD_META = ("persona", "scenario", "paraphrase_of", "judge_verdict", "judge_reason", "no_call")


def example_id(recipe: str, query: str, text: str) -> str:
    """The stable id of an example: a hash of its recipe, request and plan text."""
    return "ex-" + hashlib.sha1(f"{recipe}\x00{query}\x00{text}".encode()).hexdigest()[:16]


def example_record(
    query: str,
    plan: Plan,
    tools: ToolSet,
    recipe: str,
    meta: Mapping[str, Any] | None = None,
    *,
    own_tools: bool = False,
) -> ExampleRecord:
    """A validated, bound plan's compact record: its text is rendered once and serves the id and the completion.
    ``meta``: the example's own ``meta`` fields (:data:`RECORD_META`), kept only when some is set; ``own_tools``:
    ``tools`` are the example's own offer, not its request's, and are kept too."""
    text = plan_text(plan, tools)
    calls = json.dumps([c for c in to_calls(plan) if c["name"] != "join"], ensure_ascii=False)
    targets = list(dict.fromkeys(plan.function_names()))
    record = example_id(recipe, query, text), query, text, calls, targets, structure_key(plan)
    own: dict[str, Any] = {k: meta[k] for k in RECORD_META if meta and meta.get(k) not in (None, False)}
    if own_tools:
        own["offered"] = list(tools)
    return (*record, own) if own else record


class RowBuilder:
    """Plans rows from compact records. What examples share is built once: each function's ``tools`` entry
    (and its JSON, for the Arrow writer) and the system turn of each "now"."""

    def __init__(
        self,
        tools: ToolSet,
        *,
        teacher: str = "",
        model: str = "",
        recipe: str = "",
        instructions: str = PLANNER_INSTRUCTIONS,
    ):
        self.tools = tools
        self.teacher, self.model, self.recipe, self.instructions = teacher, model, recipe, instructions
        self._entries = {spec.name: entry for spec, entry in zip(tools.specs, tools_column(tools), strict=True)}
        self._encoded: dict[str, str] = {}
        self._systems: dict[str, str] = {}

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any]) -> RowBuilder:
        """The builder of a run's rows from what they share, as its checkpoint header stores it (``rows``)."""
        return cls(
            tools_from_json(meta["tools"]),
            teacher=meta["teacher"],
            model=meta["model"],
            recipe=meta["recipe"],
            instructions=meta["instructions"],
        )

    def _system(self, now: str) -> str:
        found = self._systems.get(now)
        if found is None:
            found = self._systems[now] = prompt_messages("", now=now, instructions=self.instructions)[0]["content"]
        return found

    def row(self, record: ExampleRecord, offered: list[str], now: str, request_id: str, *, encoded: bool = False):
        """The row of ``record`` (``offered``: its request's functions, unless the record has its own);
        ``encoded``: ``tools`` entries as the JSON strings ``datasets.Json`` stores."""
        identifier, query, text, calls, targets, *rest = record  # checkpoints of planforge 0.2 have no structure
        own = rest[1] if len(rest) > 1 and isinstance(rest[1], Mapping) else {}
        offered = own.get("offered") or offered
        if encoded:
            tools = [self._encoded.get(n) or self._encode(n) for n in offered]
        else:
            tools = [copy.deepcopy(self._entries[n]) for n in offered]
        return {
            "id": identifier,
            "query": query,
            "tools": tools,
            "prompt": [{"role": "system", "content": self._system(now)}, {"role": "user", "content": query}],
            "completion": [{"role": "assistant", "content": text}],
            "plan": calls,
            "plan_text": text,
            "target_tools": list(targets),
            "meta": {
                "now": now,
                "teacher": self.teacher,
                "model": self.model,
                "recipe": self.recipe,
                "request_id": request_id,
                "distractors": [name for name in offered if name not in targets],
                "structure": rest[0] if rest else None,
                **{key: own.get(key) for key in RECORD_META},
                "no_call": bool(own.get("no_call")),
            },
        }

    def _encode(self, name: str) -> str:
        from datasets.utils.json import ujson_dumps  # the encoder datasets.Json uses: the same bytes on disk

        found = self._encoded[name] = ujson_dumps(self._entries[name])
        return found


# --------------------------------------------------------------------------------------------------
# reading rows


def row_tools(row: Mapping[str, Any]) -> ToolSet:
    """The offered functions of a row (``tools``: a JSON string, or already decoded)."""
    raw = row["tools"]
    return tools_from_json(json.loads(raw) if isinstance(raw, str) else raw)


def row_plan(row: Mapping[str, Any]) -> Plan:
    """The reference plan of a plans row (arguments by name)."""
    return parse_calls(json.loads(row["plan"]))


def parse_row_plan(text_or_json: str, tools: ToolSet) -> Plan:
    """A plan as a model wrote it, bound to the row's tools (raises PlanSyntaxError)."""
    return parse_plan(text_or_json, param_order=tools.param_order).bind(tools.param_order)


def row_now(row: Mapping[str, Any]) -> str | None:
    meta = row.get("meta") or {}
    return meta.get("now") or None


def row_instructions(row: Mapping[str, Any]) -> str:
    """The planner instructions the row was written with (a recipe may override the default): the system turn
    without its "now" sentence. Rows of planforge 0.1 keep their functions in the system turn: the default then."""
    prompt = row.get("prompt") or []
    if prompt and prompt[0].get("role") == "system":
        content = prompt[0].get("content") or ""
        now = row_now(row)
        suffix = f"\n\nThe current date and time is {now}."
        return content[: -len(suffix)] if now and content.endswith(suffix) else content
    return PLANNER_INSTRUCTIONS


def row_prompt(row: Mapping[str, Any]) -> list[dict[str, str]]:
    """System + user turns of a row (role and content only): what a planner model is asked. The functions are not
    in them: they go with the row's ``tools`` (or a ToolRAG selection), through :func:`planforge.prompting.render`."""
    prompt = row.get("prompt")
    if prompt:
        return role_and_content(prompt)
    return prompt_messages(row["query"], now=row_now(row))  # a planforge 0.1 row: its prompt rendered anew


def message_plan(messages: Any, tools: ToolSet | None) -> Plan | None:
    """The plan in an assistant turn (``[{"role": "assistant", "content": ..., "tool_calls": ...}]``): its
    LLMCompiler/JSON content, else its ``tool_calls``; ``None`` when neither reads."""
    if isinstance(messages, Mapping):
        messages = [messages]
    if not isinstance(messages, list) or not messages:
        return None
    message = messages[-1]
    if not isinstance(message, Mapping):
        return None
    order = tools.param_order if tools is not None else None
    content = message.get("content")
    if isinstance(content, str) and content.strip():
        try:
            plan = parse_plan(content, param_order=order)
            return plan.bind(order) if order else plan
        except PlanSyntaxError:
            pass
    calls = message.get("tool_calls")
    if isinstance(calls, list) and calls:
        try:
            return parse_calls(calls)
        except PlanSyntaxError:
            return None
    return None


class ToolCache:
    """Rows often share one ``tools`` JSON string: each distinct string is parsed once.

    :meth:`get` is for commands that need every row (an unreadable ``tools`` is a :class:`DatasetError`);
    :meth:`find` is for summaries that skip what they cannot read (``None``)."""

    def __init__(self, where: str = "dataset") -> None:
        self.where = where
        self._by_json: dict[str, ToolSet | ToolSpecError | ValueError] = {}

    def _parse(self, raw: Any) -> ToolSet | ToolSpecError | ValueError:
        key = raw if isinstance(raw, str) else json.dumps(raw, sort_keys=True)
        found = self._by_json.get(key)
        if found is None:
            try:
                found = tools_from_json(json.loads(raw) if isinstance(raw, str) else raw)
            except (ValueError, ToolSpecError, RecursionError) as exc:
                found = exc if isinstance(exc, ValueError) else ValueError(str(exc))
            self._by_json[key] = found
        return found

    def get(self, raw: Any) -> ToolSet:
        found = self._parse(raw)
        if isinstance(found, ToolSet):
            return found
        raise DatasetError(f"{self.where}: unreadable tools column ({found})")

    def find(self, raw: Any) -> ToolSet | None:
        if raw is None:
            return None
        found = self._parse(raw)
        return found if isinstance(found, ToolSet) else None

    def __call__(self, raw: Any) -> ToolSet:
        return self.get(raw)


def iter_rows(rows: Iterable[Mapping[str, Any]], columns: Iterable[str] = ()) -> Iterable[Mapping[str, Any]]:
    """Rows as dicts; a ``datasets.Dataset`` is read 1,000 rows at a time, only ``columns`` (when given)."""
    column_names = getattr(rows, "column_names", None)
    if column_names is None or not hasattr(rows, "iter"):
        yield from rows
        return
    wanted = [c for c in columns if c in column_names] or list(column_names)
    for batch in rows.select_columns(wanted).iter(batch_size=1000):  # type: ignore[attr-defined]
        n = len(next(iter(batch.values())))
        for i in range(n):
            yield {c: batch[c][i] for c in wanted}
