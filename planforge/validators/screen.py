"""A quick yes/no answer for the plans models usually write, before the full checks.

Most plans are LLMCompiler text whose every line is a step with simple literal arguments, and most are
valid. For those, the screen answers "valid" in one pass: the whole text split by one pattern
(:func:`~planforge.plan.plain_step_lines`), each call's arguments matched by a pattern compiled from its
function's schema (:mod:`~planforge.validators.argument_patterns`), references and ``join()`` checked as
the steps go. A call the pattern does not cover is decoded by the C JSON scanner and checked by the
compiled predicates. It builds no :class:`~planforge.plan.Step`, binds no argument to a name and writes no
message. "Not shown valid" is not a verdict: the full checks run then, and they find and word the errors.
So the screen must never pass a plan the full checks would refuse; a property test holds it to that, over
valid, broken and mutated plans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from planforge.errors import PlanSyntaxError
from planforge.plan import (
    JOIN,
    REFERENCE,
    STEP_NUMBERS,
    parse_arguments,
    plain_step_lines,
    references_in,
    references_in_text,
)
from planforge.tools import ToolSet
from planforge.validators.argument_patterns import arguments_pattern
from planforge.validators.references import SensitiveParameter, reference_sensitive_parameters, schema_can_fit
from planforge.validators.schema_check import FunctionChecker, checker_for, is_whole_reference


class _Call:
    """One function's argument check, by position: what the full check does for a call written with
    positional arguments only, without naming them."""

    __slots__ = ("checker", "predicates", "optional", "last_required", "sensitive", "count", "pattern")

    def __init__(self, checker: FunctionChecker, sensitive: tuple[SensitiveParameter, ...]):
        names = checker.param_names
        self.checker = checker
        self.count = len(names)
        predicates = checker.predicates
        self.predicates: tuple[Callable[[Any], bool], ...] | None = (
            tuple(predicates[n] for n in names) if predicates is not None else None
        )
        self.optional = tuple(n not in checker.required for n in names)
        self.last_required = max((i for i, n in enumerate(names) if n in checker.required), default=-1)
        by_name = {parameter.name: parameter for parameter in sensitive}
        # (position, parameter) of the parameters some `$K` of this tool set cannot fill
        self.sensitive = tuple((i, by_name[n]) for i, n in enumerate(names) if n in by_name)
        self.pattern = arguments_pattern(checker, by_name)  # None: this function's calls are always decoded

    def accepts(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        predicates = self.predicates
        if kwargs or predicates is None:
            return self._accepts_named(args, kwargs)
        if len(args) > self.count or len(args) <= self.last_required:
            return False  # too many, or a required argument missing
        for value, predicate, optional in zip(args, predicates, self.optional, strict=False):
            if not predicate(value) and not (value is None and optional) and not is_whole_reference(value):
                return False
        return True

    def _accepts_named(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        names = self.checker.param_names
        if len(args) > len(names) or not kwargs.keys().isdisjoint(names[: len(args)]):
            return False  # too many positional arguments, or one given twice
        named = dict(zip(names, args, strict=False))
        named.update(kwargs)
        missing, unexpected, type_errors = self.checker.problems(named)
        return not (missing or unexpected or type_errors)


class Screen:
    """The compiled screen of one tool set (see :func:`screen_for`)."""

    def __init__(self, tools: ToolSet):
        self.tools = tools
        sensitive = reference_sensitive_parameters(tools)
        self.calls = {name: _Call(checker_for(tools, name), sensitive.get(name, ())) for name in tools}

    def __call__(self, text: str, require_join: bool) -> bool:
        """True when ``text`` is surely a valid plan; False means "run the full checks"."""
        lines = plain_step_lines(text)
        if lines is None or len(lines) >= len(STEP_NUMBERS):
            return False
        count = len(lines)
        calls = self.calls
        names: list[str] = []
        for index, (number, name, src, end_marker) in enumerate(lines, start=1):
            if number != STEP_NUMBERS[index] or (end_marker and index != count):
                return False
            if name == JOIN:
                if index != count or src.strip():
                    return False  # join() takes no arguments and comes last
            else:
                call = calls.get(name)
                if call is None:
                    return False
                pattern = call.pattern
                if pattern is not None and pattern.fullmatch(src):
                    # Valid arguments, a whole "$K" only where any step's output fits, strings without
                    # escapes: the references in the text are those in the values, and must come before.
                    if "$" in src and not _references_before(src, index):
                        return False
                elif not self._decoded_call_ok(index, src, call, names):
                    return False
            names.append(name)
        return count > 1 if names[-1] == JOIN else not require_join

    def _decoded_call_ok(self, index: int, src: str, call: _Call, names: list[str]) -> bool:
        try:
            args, kwargs = parse_arguments(src, index)
        except PlanSyntaxError:
            return False
        if not call.accepts(args, kwargs):
            return False
        if "$" not in src and "\\" not in src:  # an escape (\u0024) can spell a $ the text does not show
            return True
        return self._references_ok(index, src, args, kwargs, call, names)

    def _references_ok(
        self, index: int, src: str, args: tuple[Any, ...], kwargs: dict[str, Any], call: _Call, names: list[str]
    ) -> bool:
        """Every ``$K`` names an earlier step (join() is never earlier in a plan that passes), and each whole
        ``$K`` in a parameter that cares gets a value its producer's return type can fill."""
        refs = references_in_text(src) if "\\" not in src else references_in([*args, *kwargs.values()])
        if not refs:
            return True
        if min(refs) < 1 or max(refs) >= index:
            return False
        for position, parameter in call.sensitive:
            if parameter.name in kwargs:
                value = kwargs[parameter.name]
            elif position < len(args):
                value = args[position]
            else:
                continue
            for k, target in parameter.references_to_check(value):
                if not self._fits(names[k - 1], target):
                    return False
        return True

    def _fits(self, producer: str, schema: dict[str, Any]) -> bool:
        returns = self.tools[producer].returns
        return returns is None or schema_can_fit(returns, schema)


def _references_before(src: str, index: int) -> bool:
    """Every ``$K`` in ``src`` names a step before ``index``."""
    try:
        return all(0 < int(a or b) < index for a, b in REFERENCE.findall(src))
    except ValueError:  # a K of over 4,300 digits, which names no step anyway
        return False


_SCREEN_KEY = "__screen__"


def screen_for(tools: ToolSet) -> Screen:
    """The screen of ``tools``, compiled on first use and kept with the tool set."""
    screen = tools.compiled.get(_SCREEN_KEY)
    if screen is None:
        screen = tools.compiled[_SCREEN_KEY] = Screen(tools)
    return screen
