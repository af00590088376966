"""Recipe rules: planner conventions a schema cannot express, as ``rule`` validators.

A recipe lists rules by name (the built-ins below) or as ``package.module:function`` for its own.
Each rule is ``(plan, tools, context) -> list[PlanError]``; ``context`` holds the request text
(``query``) and the example's fixed ``now``."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from planforge.plan import Plan, Step, references_in, whole_reference
from planforge.tools import ToolSet
from planforge.validators import ErrorCode, PlanError, Rule

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[\d\s().-]{5,}$")
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"

# (function, parameter) pairs that take email addresses / phone numbers.
EMAIL_FIELDS = {
    "compose_new_email": ("recipients", "cc"),
    "forward_email": ("recipients", "cc"),
    "reply_to_email": ("cc",),
    "create_calendar_event": ("invitees",),
    "get_zoom_meeting_link": ("meeting_invitees",),
}
PHONE_FIELDS = {"send_sms": ("recipients",)}
DATETIME_FIELDS = {
    "create_calendar_event": ("start_date", "end_date"),
    "get_zoom_meeting_link": ("start_time",),
}


@dataclass(frozen=True)
class RuleSpec:
    name: str
    function: Rule


def _error(step: Step, message: str) -> PlanError:
    return PlanError(ErrorCode.RULE, step.index, f"step {step.index}: {step.name}() {message}")


def _items(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _producer(plan: Plan, value: Any) -> str | None:
    k = whole_reference(value)
    if k is None or not 1 <= k <= len(plan.steps):
        return None
    return plan.steps[k - 1].name


def _contact_problems(
    plan: Plan, query: str, fields: Mapping[str, tuple[str, ...]], lookup: str, pattern: re.Pattern[str], kind: str
) -> Iterator[PlanError]:
    folded_query = query.casefold()
    for step in plan.steps:
        for parameter in fields.get(step.name, ()):
            for item in _items(step.kwargs.get(parameter, [])):
                if not isinstance(item, str) or item == "":
                    continue
                if whole_reference(item) is not None:
                    producer = _producer(plan, item)
                    if producer is not None and producer != lookup:
                        yield _error(step, f"{parameter} takes {item} from {producer}(), which gives no {kind}")
                    continue
                if not pattern.match(item):
                    article = "an" if kind[0] in "aeiou" else "a"
                    yield _error(
                        step, f"{parameter} {item!r} is not {article} {kind}: look it up with {lookup}() first"
                    )
                elif query and item.casefold() not in folded_query:
                    yield _error(step, f"{parameter} {item!r} is not in the request: look it up with {lookup}()")


def lookup_before_contact(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Email addresses and phone numbers come from a lookup unless the request gives them literally."""
    query = context.get("query") or ""
    return [
        *_contact_problems(plan, query, EMAIL_FIELDS, "get_email_address", EMAIL, "email address"),
        *_contact_problems(plan, query, PHONE_FIELDS, "get_phone_number", PHONE, "phone number"),
    ]


def pdf_path_from_open(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """summarize_pdf's path is the output of open_and_get_file_path, never an invented path."""
    errors = []
    for step in plan.steps:
        if step.name == "summarize_pdf":
            path = step.kwargs.get("pdf_path")
            if _producer(plan, path) != "open_and_get_file_path":
                errors.append(_error(step, "pdf_path must be the output ($K) of open_and_get_file_path()"))
    return errors


def zoom_link_delivered(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """A zoom link is useless unless it reaches people through a calendar event or an email."""
    errors = []
    for step in plan.steps:
        if step.name != "get_zoom_meeting_link":
            continue
        delivered = any(
            consumer.name in ("create_calendar_event", "compose_new_email")
            and any(step.index in references_in(v) for v in consumer.kwargs.values())
            for consumer in plan.steps
        )
        if not delivered:
            errors.append(_error(step, "makes a link that no create_calendar_event() or compose_new_email() uses"))
    return errors


def _parse(value: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def iso_dates(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Dates as ``YYYY-MM-DD HH:MM:SS`` (``YYYY-MM-DD`` for all-day reminders), not before "now"."""
    now = _parse(context.get("now") or "", DATETIME_FORMAT)
    errors = []
    for step in plan.steps:
        checks = [(p, DATETIME_FORMAT, "YYYY-MM-DD HH:MM:SS") for p in DATETIME_FIELDS.get(step.name, ())]
        if step.name == "create_reminder":
            all_day = step.kwargs.get("all_day") is True
            checks.append(
                (
                    "due_date",
                    DATE_FORMAT if all_day else DATETIME_FORMAT,
                    "YYYY-MM-DD" if all_day else "YYYY-MM-DD HH:MM:SS",
                )
            )
        parsed: dict[str, datetime] = {}
        for parameter, fmt, shape in checks:
            value = step.kwargs.get(parameter)
            if not isinstance(value, str) or value == "" or references_in(value):
                continue
            when = _parse(value, fmt)
            if when is None:
                errors.append(_error(step, f"{parameter} {value!r} is not a date as {shape}"))
            elif now is not None and when.date() < now.date():
                errors.append(_error(step, f"{parameter} {value!r} is before now ({context['now']})"))
            else:
                parsed[parameter] = when
        if "start_date" in parsed and "end_date" in parsed and parsed["end_date"] < parsed["start_date"]:
            errors.append(_error(step, "end_date is before start_date"))
    return errors


BUILTIN_RULES: dict[str, Callable[..., list[PlanError]]] = {
    "lookup_before_contact": lookup_before_contact,
    "pdf_path_from_open": pdf_path_from_open,
    "zoom_link_delivered": zoom_link_delivered,
    "iso_dates": iso_dates,
}


def resolve_rules(names: list[str]) -> list[RuleSpec]:
    """Rule names (built-in, or ``module:function``) -> callables. Raises KeyError naming the unknown one."""
    specs = []
    for name in names:
        if name in BUILTIN_RULES:
            specs.append(RuleSpec(name, BUILTIN_RULES[name]))
            continue
        module_name, _, attribute = name.partition(":")
        if not attribute:
            known = ", ".join(BUILTIN_RULES)
            raise KeyError(f"unknown rule {name!r} (built-in: {known}; or 'package.module:function')")
        try:
            function = getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise KeyError(f"rule {name!r} cannot be imported ({exc})") from None
        specs.append(RuleSpec(name, function))
    return specs
