"""The mac_assistant planner rules (see this folder's README for the conventions they enforce).

Referenced from ``recipe.yaml`` as ``planforge.recipes.mac_assistant.rules:NAME``, as any recipe's own rules
are; each docstring's first paragraph is what the teacher prompt says about the rule."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from planforge.plan import Plan, references_in, whole_reference
from planforge.recipes.rules import as_items, producer, rule_error
from planforge.tools import ToolSet
from planforge.validators import PlanError

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
# (function, parameter) lists of people or files: never an empty string (an empty list means nobody/nothing).
LIST_FIELDS = {
    "compose_new_email": ("recipients", "cc", "attachments"),
    "forward_email": ("recipients", "cc", "attachments"),
    "reply_to_email": ("cc", "attachments"),
    "create_calendar_event": ("invitees",),
    "get_zoom_meeting_link": ("meeting_invitees",),
    "send_sms": ("recipients",),
}
LOOKUP_FUNCTIONS = ("get_email_address", "get_phone_number")
DATETIME_FIELDS = {
    "create_calendar_event": ("start_date", "end_date"),
    "get_zoom_meeting_link": ("start_time",),
}


def _contact_problems(
    plan: Plan, query: str, fields: Mapping[str, tuple[str, ...]], lookup: str, pattern: re.Pattern[str], kind: str
) -> Iterator[PlanError]:
    folded_query = query.casefold()
    for step in plan.steps:
        for parameter in fields.get(step.name, ()):
            for item in as_items(step.kwargs.get(parameter, [])):
                if not isinstance(item, str) or item == "":
                    continue
                if whole_reference(item) is not None:
                    source = producer(plan, item)
                    if source is not None and source != lookup:
                        yield rule_error(step, f"{parameter} takes {item} from {source}(), which gives no {kind}")
                    continue
                if not pattern.match(item):
                    article = "an" if kind[0] in "aeiou" else "a"
                    yield rule_error(
                        step, f"{parameter} {item!r} is not {article} {kind}: look it up with {lookup}() first"
                    )
                elif query and item.casefold() not in folded_query:
                    yield rule_error(step, f"{parameter} {item!r} is not in the request: look it up with {lookup}()")


def lookup_before_contact(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Before emailing or texting a person named in the request, look up their address or number with
    get_email_address / get_phone_number, unless the request gives it literally."""
    query = context.get("query") or ""
    return [
        *_contact_problems(plan, query, EMAIL_FIELDS, "get_email_address", EMAIL, "email address"),
        *_contact_problems(plan, query, PHONE_FIELDS, "get_phone_number", PHONE, "phone number"),
    ]


def no_empty_entries(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Recipients, cc, invitees and attachments are never empty strings: a list with nobody or nothing in it
    is empty ([])."""
    errors = []
    for step in plan.steps:
        for parameter in LIST_FIELDS.get(step.name, ()):
            if any(item == "" for item in as_items(step.kwargs.get(parameter, []))):
                errors.append(rule_error(step, f'{parameter} holds an empty string: leave "" out ([] for none)'))
    return errors


def lookups_used(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Every get_email_address / get_phone_number result is used by a later step: look up only the people the
    request emails, invites or texts.

    Opening a file or a map place is an action in itself (it shows the file or the place); a lookup is not."""
    errors = []
    for step in plan.steps:
        if step.name not in LOOKUP_FUNCTIONS:
            continue
        if not any(step.index in later.references for later in plan.steps[step.index :]):
            errors.append(rule_error(step, "looks up a contact that no later step uses"))
    return errors


def pdf_path_from_open(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """summarize_pdf's path is the output of open_and_get_file_path ($K), never invented."""
    errors = []
    for step in plan.steps:
        if step.name == "summarize_pdf":
            path = step.kwargs.get("pdf_path")
            if producer(plan, path) != "open_and_get_file_path":
                errors.append(rule_error(step, "pdf_path must be the output ($K) of open_and_get_file_path()"))
    return errors


def zoom_link_delivered(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """A zoom link must reach people through create_calendar_event or compose_new_email.

    A link nobody receives is useless."""
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
            errors.append(rule_error(step, "makes a link that no create_calendar_event() or compose_new_email() uses"))
    return errors


@lru_cache(maxsize=16_384)
def _parse(value: str, fmt: str) -> datetime | None:
    """``value`` read as ``fmt``, or None. Cached: a run's requests share their "now" and many of their dates
    (``strptime`` is the costliest check of a valid plan otherwise)."""
    try:
        return datetime.strptime(value, fmt)
    except ValueError:
        return None


def iso_dates(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Dates are 'YYYY-MM-DD HH:MM:SS' ('YYYY-MM-DD' for all-day reminders), never in the past."""
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
                errors.append(rule_error(step, f"{parameter} {value!r} is not a date as {shape}"))
            elif now is not None and when.date() < now.date():
                errors.append(rule_error(step, f"{parameter} {value!r} is before now ({context['now']})"))
            else:
                parsed[parameter] = when
        if "start_date" in parsed and "end_date" in parsed and parsed["end_date"] < parsed["start_date"]:
            errors.append(rule_error(step, "end_date is before start_date"))
    return errors
