"""Validate a JSONL file of plans (or stdin, or a plans dataset folder): the engine behind ``gen validate``.

Each line is ``{"id": ..., "plan": <text or JSON calls>, "tools": [...optional], "query"?, "now"?, "no_call"?}``;
with a recipe's rules, ``query`` and ``now`` are what the rules read (a date rule needs the example's "now").
``no_call`` (or ``meta.no_call``): the request is one no offered function serves, so the empty plan is its valid
answer and any call an ``unexpected_call``. A dataset folder's rows are checked the same way, each with its own
functions, request, "now" and ``meta.no_call``. The whole file is
read and checked for usability first, so an unusable input fails (:class:`InputError`, exit 2) before any
verdict is printed. A plan that cannot be read is a ``syntax`` verdict, not an unusable input. Anything else
that goes wrong is a bug and comes out as an :class:`InternalError` naming the line (exit 3)."""

from __future__ import annotations

import json
import json.scanner
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from planforge.errors import InputError, InternalError, ToolSpecError, UserError
from planforge.plan import MAX_INTEGER, MAX_NESTING, json_value_problem
from planforge.tools import MAX_DEFINITION_DEPTH, ToolSet, load_tools, tools_from_json
from planforge.validators import PlanError, validate

__all__ = ["MAX_LINE_CHARS", "InputError", "PlanRecord", "Summary", "validate_file", "validate_text"]

#: One input line: room for a JSON plan at its limit and a large list of functions beside it.
MAX_LINE_CHARS = 4 * 1024 * 1024


class PlanRecord(NamedTuple):
    line: int
    id: Any
    plan: Any
    tools: ToolSet
    context: dict[str, str] | None = None  # {"query", "now"}: what recipe rules read
    no_call: bool = False  # no offered function serves the request: the empty plan is its answer


@dataclass
class Summary:
    total: int = 0
    valid: int = 0
    by_code: Counter[str] = field(default_factory=Counter)

    @property
    def invalid(self) -> int:
        return self.total - self.valid

    def add(self, errors: list[PlanError]) -> None:
        self.total += 1
        if errors:
            self.by_code.update(e.code.value for e in errors)
        else:
            self.valid += 1


STDIN = "-"


def validate_file(
    path: Path,
    tools_path: Path | None = None,
    *,
    fmt: str = "auto",
    require_join: bool = False,
    out: TextIO,
    default_tools: ToolSet | None = None,
    rules: Sequence[Any] = (),
    stdin: TextIO | None = None,
) -> Summary:
    """Read ``path`` (``-``: ``stdin``; a folder: a saved plans dataset) and the functions in ``tools_path`` (or
    ``default_tools``, a recipe's) for lines without ``tools``, then write one verdict line per plan to ``out``.
    Raises a :class:`UserError` for unusable input and :class:`InternalError` for a bug."""
    try:
        if tools_path is not None:
            default_tools = load_tools(tools_path)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - load_tools promises ToolSpecError; anything else is a bug
        raise InternalError(str(tools_path), exc) from exc
    checks = {"fmt": fmt, "require_join": require_join, "rules": rules, "out": out}
    if str(path) == STDIN:
        return validate_text((stdin or sys.stdin).read(), "<stdin>", default_tools, **checks)
    if path.is_dir():
        return validate_records(dataset_records(path), str(path), **checks)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    return validate_text(text, str(path), default_tools, **checks)


def dataset_records(folder: Path) -> list[PlanRecord]:
    """The rows of a saved plans dataset (every split) as records: each with its functions, request and "now"."""
    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PLANS
    from planforge.dataset.rows import ToolCache

    dataset = load_dataset_of_kind(folder, kind=PLANS, columns=("id", "query", "tools", "plan_text", "meta"))
    cache = ToolCache(str(folder))
    records = []
    for split in dataset.values():
        for row in split:
            meta = row["meta"] or {}
            context = {"query": row["query"], "now": meta.get("now") or ""}
            plan = row["plan_text"]  # the plan as a model is trained to write it (LLMCompiler text, with join())
            no_call = bool(meta.get("no_call"))
            records.append(PlanRecord(len(records) + 1, row["id"], plan, cache.get(row["tools"]), context, no_call))
    return records


def validate_text(
    text: str,
    source: str,
    default_tools: ToolSet | None,
    *,
    fmt: str = "auto",
    require_join: bool = False,
    rules: Sequence[Any] = (),
    out: TextIO,
) -> Summary:
    """:func:`validate_file` on the file's text; ``source`` names it in messages."""
    records = read_records(text, source, default_tools)
    return validate_records(records, source, fmt=fmt, require_join=require_join, rules=rules, out=out)


def validate_records(
    records: Sequence[PlanRecord],
    source: str,
    *,
    fmt: str = "auto",
    require_join: bool = False,
    rules: Sequence[Any] = (),
    out: TextIO,
) -> Summary:
    """One verdict line per record, written in batches; a summary of the codes."""
    summary = Summary()
    pending: list[str] = []  # verdicts are written in batches: one write per line costs as much as a check
    try:
        for record in records:
            try:
                errors = validate(
                    record.plan,
                    record.tools,
                    fmt=fmt,
                    require_join=require_join,
                    rules=rules,
                    context=record.context,
                    no_call=record.no_call,
                )
            except Exception as exc:  # noqa: BLE001 - validate() promises verdicts; anything else is a bug
                raise InternalError(f"{source}:{record.line}", exc) from exc
            summary.add(errors)
            pending.append(verdict_line(record.id, errors))
            if len(pending) == _WRITE_EVERY:
                out.write("".join(pending))
                pending.clear()
    finally:
        out.write("".join(pending))  # the verdicts before a failure are written too
    return summary


_WRITE_EVERY = 256


def read_records(text: str, source: str, default_tools: ToolSet | None) -> list[PlanRecord]:
    """Every line of a JSONL text as a record. Lines end at ``\\n`` only: JSON text may hold U+2028 and
    the other characters ``str.splitlines`` also breaks at."""
    records = []
    tool_sets: dict[str, ToolSet] = {}  # identical tool lists share one compiled ToolSet
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line or line.isspace():
            continue
        try:
            records.append(_read_line(line, f"{source}:{line_no}", line_no, default_tools, tool_sets))
        except UserError:
            raise
        except Exception as exc:  # noqa: BLE001 - a bug while reading one line: name the line
            raise InternalError(f"{source}:{line_no}", exc) from exc
    return records


def _read_line(
    line: str, where: str, line_no: int, default_tools: ToolSet | None, tool_sets: dict[str, ToolSet]
) -> PlanRecord:
    if len(line) > MAX_LINE_CHARS:
        raise InputError(f"{where}: line of {len(line):,} characters, over the {MAX_LINE_CHARS:,} limit")
    try:
        row = _decode_line(line)
    except ValueError as exc:
        raise InputError(f"{where}: not a JSON object ({exc.args[0]})") from None
    except RecursionError:
        raise InputError(f"{where}: not a JSON object (nested too deeply)") from None
    if not isinstance(row, dict) or "plan" not in row:
        raise InputError(f"{where}: expected an object with a 'plan' key")
    record_id = row.get("id", line_no)
    if type(record_id) is not str and not (type(record_id) is int and -MAX_INTEGER <= record_id <= MAX_INTEGER):
        found = json_value_problem(record_id, max_depth=MAX_NESTING)
        if found is not None:
            raise InputError(f"{where}: 'id' cannot be echoed in a verdict ({found[1]})")
    tools = default_tools
    if row.get("tools") is not None:
        found = json_value_problem(row["tools"], max_depth=MAX_DEFINITION_DEPTH + 2)
        if found is not None:
            raise InputError(f"{where}: unreadable tools ({found[1]})")
        key = json.dumps(row["tools"], sort_keys=True)
        if key not in tool_sets:
            try:
                tool_sets[key] = tools_from_json(row["tools"])
            except ToolSpecError as exc:
                raise InputError(f"{where}: unreadable tools ({exc})") from None
        tools = tool_sets[key]
    if tools is None:
        raise InputError(f"{where}: no 'tools' on the line and no --tools file given")
    context = {"query": _text(row.get("query")), "now": _text(row.get("now"))}
    meta = row.get("meta")
    no_call = bool(row.get("no_call") or (isinstance(meta, dict) and meta.get("no_call")))
    return PlanRecord(line_no, record_id, row["plan"], tools, context, no_call)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


_SCAN_JSON = json.scanner.make_scanner(json.JSONDecoder())  # json.loads' own scanner, without its wrappers


def _decode_line(line: str) -> Any:
    """``json.loads(line)``, at C speed for the usual line (an object with nothing around it)."""
    try:
        value, end = _SCAN_JSON(line, 0)
    except (StopIteration, ValueError):
        end = -1
    return value if end == len(line) else json.loads(line)  # json.loads: whitespace, and the error message


def verdict_line(record_id: Any, errors: list[PlanError]) -> str:
    """``{"id", "valid", "errors"}`` as one JSON line: UTF-8 as written unless it holds a lone surrogate (an
    ``id`` of ``"\\ud800"``, a function name in a message), which only an escape can carry."""
    if not errors:  # most verdicts: no dict to build and encode
        shown = str(record_id) if type(record_id) is int else _json(record_id)
        return '{"id": ' + shown + ', "valid": true, "errors": []}\n'
    return _json({"id": record_id, "valid": False, "errors": [e.to_dict() for e in errors]}) + "\n"


def _json(value: Any) -> str:
    encoded = json.dumps(value, ensure_ascii=False)
    if not encoded.isascii():
        try:
            encoded.encode("utf-8")
        except UnicodeEncodeError:
            encoded = json.dumps(value)
    return encoded


def one_line(message: str) -> str:
    """A message as one printable line: newlines folded, lone surrogates (from odd file names) escaped."""
    return " ".join(message.splitlines()).encode("utf-8", "backslashreplace").decode("utf-8")
