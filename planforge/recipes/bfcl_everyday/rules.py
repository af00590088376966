"""The bfcl_everyday planner rules: what BFCL's function docs say in words, checked.

Referenced from ``recipe.yaml`` as ``planforge.recipes.bfcl_everyday.rules:NAME``; each docstring's first paragraph
is what the teacher prompt says about the rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from planforge.plan import Plan, references_in
from planforge.recipes.rules import rule_error
from planforge.tools import ToolSet
from planforge.validators import PlanError

#: (function, parameter) pairs that hold a calendar date.
DATE_FIELDS = {
    "book_flight": ("date",),
    "book_hotel": ("start_date",),
    "get_stock_price": ("date",),
}
COUNT_FIELDS = {
    "weather_forecast": ("days",),
    "event_search": ("days",),
    "get_news": ("quantity",),
    "find_restaurants": ("number",),
    "book_hotel": ("nights",),
}
CURRENCY_FIELDS = {
    "convert_currency": ("base_currency", "target_currency"),
    "get_exchange_rate": ("base_currency", "target_currency"),
}


def iso_dates(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Dates are 'YYYY-MM-DD'; a booking is never in the past."""
    today = _date((context.get("now") or "")[:10])
    errors = []
    for step in plan.steps:
        for parameter in DATE_FIELDS.get(step.name, ()):
            value = step.kwargs.get(parameter)
            if not isinstance(value, str) or references_in(value):
                continue
            when = _date(value)
            if when is None:
                errors.append(rule_error(step, f"{parameter} {value!r} is not a date as YYYY-MM-DD"))
            elif today is not None and step.name != "get_stock_price" and when < today:
                errors.append(rule_error(step, f"{parameter} {value!r} is before now ({context['now']})"))
    return errors


def positive_counts(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Counts of days, nights, articles and results are at least 1."""
    errors = []
    for step in plan.steps:
        for parameter in COUNT_FIELDS.get(step.name, ()):
            value = step.kwargs.get(parameter)
            if isinstance(value, int) and not isinstance(value, bool) and value < 1:
                errors.append(rule_error(step, f"{parameter} must be at least 1, not {value}"))
    return errors


def currency_codes(plan: Plan, tools: ToolSet, context: Mapping[str, Any]) -> list[PlanError]:
    """Currencies are three-letter ISO codes ('EUR', 'USD', 'JPY'), not names."""
    errors = []
    for step in plan.steps:
        for parameter in CURRENCY_FIELDS.get(step.name, ()):
            value = step.kwargs.get(parameter)
            if isinstance(value, str) and not references_in(value) and not (len(value) == 3 and value.isupper()):
                errors.append(rule_error(step, f"{parameter} {value!r} is not a three-letter currency code"))
    return errors


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None
