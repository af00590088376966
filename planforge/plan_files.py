"""Validate a JSONL file of plans: the engine behind ``gen validate``.

Each line is ``{"id": ..., "plan": <text or JSON calls>, "tools": [...optional], "no_call": false}`` (``no_call``:
the request is one no offered function serves, so the empty plan is its valid answer). The whole file is
read and checked for usability first, so an unusable input fails before any verdict is printed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import InputError, ToolSpecError
from planforge.tools import ToolSet, tools_from_json
from planforge.validators import PlanError, validate


@dataclass
class PlanRecord:
    line: int
    id: Any
    plan: Any
    tools: ToolSet
    no_call: bool = False


@dataclass
class Summary:
    total: int = 0
    valid: int = 0
    by_code: Counter[str] = field(default_factory=Counter)

    @property
    def invalid(self) -> int:
        return self.total - self.valid


def read_plan_records(path: Path, default_tools: ToolSet | None) -> list[PlanRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    records = []
    tool_sets: dict[str, ToolSet] = {}  # identical tool lists share one compiled ToolSet
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{path}:{line_no}: not a JSON object ({exc.args[0]})") from None
        if not isinstance(row, dict) or "plan" not in row:
            raise InputError(f"{path}:{line_no}: expected an object with a 'plan' key")
        tools = default_tools
        if row.get("tools") is not None:
            key = json.dumps(row["tools"], sort_keys=True)
            if key not in tool_sets:
                try:
                    tool_sets[key] = tools_from_json(row["tools"])
                except ToolSpecError as exc:
                    raise InputError(f"{path}:{line_no}: unreadable tools ({exc})") from None
            tools = tool_sets[key]
        if tools is None:
            raise InputError(f"{path}:{line_no}: no 'tools' on the line and no --tools file given")
        meta = row.get("meta") if isinstance(row.get("meta"), dict) else {}
        no_call = bool(row.get("no_call") or meta.get("no_call"))
        records.append(PlanRecord(line_no, row.get("id", line_no), row["plan"], tools, no_call))
    return records


def validate_records(
    records: list[PlanRecord], *, fmt: str = "auto", require_join: bool = False, summary: Summary
) -> Iterator[dict[str, Any]]:
    """One verdict per record, in order; ``summary`` is updated as they go."""
    for record in records:
        errors: list[PlanError] = validate(
            record.plan, record.tools, fmt=fmt, require_join=require_join, no_call=record.no_call
        )
        summary.total += 1
        if not errors:
            summary.valid += 1
        summary.by_code.update(e.code.value for e in errors)
        yield {"id": record.id, "valid": not errors, "errors": [e.to_dict() for e in errors]}
