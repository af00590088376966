"""Argument checking against a function's JSON Schema, compiled once per function.

jsonschema is the reference: it decides every failing case and explains it (a value failing a schema of
nothing but ``type`` is worded directly, as jsonschema would). Its ``is_valid`` costs about 90 µs for a
7-parameter function, too slow to be the gate for tens of thousands of plans a second, so the common
subset of JSON Schema (type, properties, required, additionalProperties, items, string enums) is also
compiled to plain Python predicates that answer "valid?" in a few µs. A schema using anything else has
no fast path and goes to jsonschema directly. Property tests hold the two to the same answers and words.
jsonschema is imported only when a call needs it, and its ``uniqueItems`` is replaced by a linear one.

A value that is exactly ``$K`` stands for step K's output: its type is checked against the producer's
``returns`` schema (``reference_type``), so here it passes whatever the schema says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from planforge.plan import REFERENCE
from planforge.tools import ToolSet, ToolSpec

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Predicate = Callable[[Any], bool]

_ANNOTATIONS = frozenset(
    {
        "description",
        "title",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "format",
        "$schema",
    }
)
_FAST_KEYWORDS = frozenset({"type", "properties", "required", "additionalProperties", "items", "enum"})

_TYPE_PREDICATES: dict[str, Predicate] = {
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int or (type(v) is float and v.is_integer()),
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
    "array": lambda v: type(v) is list,
    "object": lambda v: type(v) is dict,
}


def annotations_removed(schema: Mapping[str, Any]) -> set[str]:
    """The keywords of ``schema`` that constrain a value (not description, title, default...)."""
    return set(schema) - _ANNOTATIONS


def is_whole_reference(value: Any) -> bool:
    return type(value) is str and value[:1] == "$" and REFERENCE.fullmatch(value) is not None


_PLAIN_TYPES = {"string": str, "boolean": bool, "array": list, "object": dict}


def _plain_type(schema: Any) -> type | None:
    """The Python type when ``schema`` is nothing but ``{"type": T}`` for a T with one Python type."""
    if isinstance(schema, Mapping) and set(schema) - _ANNOTATIONS == {"type"}:
        return _PLAIN_TYPES.get(schema["type"]) if isinstance(schema["type"], str) else None
    return None


def compile_fast(schema: Any) -> Predicate | None:
    """A predicate equal to ``Draft202012Validator(schema).is_valid`` (with ``$K`` values passing),
    or None when the schema uses keywords outside the fast subset."""
    if schema is True or schema == {}:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping):
        return None
    keywords = set(schema) - _ANNOTATIONS
    if keywords - _FAST_KEYWORDS:
        return None
    checks: list[Predicate] = []
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if any(n not in _TYPE_PREDICATES for n in names):
            return None
        preds = [_TYPE_PREDICATES[n] for n in names]
        checks.append(preds[0] if len(preds) == 1 else (lambda v, ps=tuple(preds): any(p(v) for p in ps)))
    if "enum" in schema:
        allowed = schema["enum"]
        if not isinstance(allowed, list) or not all(type(a) is str for a in allowed):
            return None  # JSON equality (1 == 1.0, True != 1) differs from Python's outside strings
        allowed_set = frozenset(allowed)
        checks.append(lambda v: type(v) is str and v in allowed_set)
    if "items" in schema:
        items = schema["items"]
        item_type = _plain_type(items)
        if item_type is not None:
            # The common case (arrays of strings, numbers...): one C-level pass, no per-item call.
            checks.append(
                lambda v: (
                    type(v) is not list
                    or all(type(x) is item_type for x in v)
                    or all(item_check(x) or is_whole_reference(x) for x in v)
                )
            )
        item_check = compile_fast(items)
        if item_check is None:
            return None
        if item_type is None:
            checks.append(lambda v: type(v) is not list or all(item_check(x) or is_whole_reference(x) for x in v))
    if keywords & {"properties", "required", "additionalProperties"}:
        object_check = _compile_object(schema)
        if object_check is None:
            return None
        checks.append(lambda v: type(v) is not dict or object_check(v))
    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


def _compile_object(schema: Mapping[str, Any]) -> Callable[[dict], bool] | None:
    properties: dict[str, Predicate] = {}
    for name, sub in schema.get("properties", {}).items():
        compiled = compile_fast(sub)
        if compiled is None:
            return None
        properties[name] = compiled
    required = tuple(schema.get("required", ()))
    additional = schema.get("additionalProperties", True)
    extra_check = compile_fast(additional)
    if extra_check is None:
        return None

    def check(value: dict) -> bool:
        for name in required:
            if name not in value:
                return False
        for key, item in value.items():
            predicate = properties.get(key, extra_check)
            if not predicate(item) and not is_whole_reference(item):
                return False
        return True

    return check


class Mismatch(NamedTuple):
    """One value that breaks its schema: what a message needs of a jsonschema ``ValidationError``."""

    path: tuple[Any, ...]  # from the argument's name inward
    validator: str  # the failing keyword
    schema: Any  # the (sub)schema holding it
    instance: Any  # the failing value
    message: str  # jsonschema's sentence; empty where the keyword and schema say it all (type)

    @classmethod
    def of(cls, error: ValidationError, prefix: tuple[Any, ...] = ()) -> Mismatch:
        return cls((*prefix, *error.absolute_path), error.validator, error.schema, error.instance, error.message)


def _type_only(schema: Any) -> bool:
    """A schema of nothing but ``type`` (annotations aside), whose only error is a wrong type."""
    return isinstance(schema, Mapping) and "type" in schema and len(schema.keys() - _ANNOTATIONS) == 1


_NO_PROBLEMS: tuple[Sequence[str], Sequence[str], Sequence[Any]] = ((), (), ())

#: Errors explained for one argument, and for one call checked by jsonschema alone: an array of 30,000
#: wrong items is one mistake, and explaining each would take seconds and fill the verdict.
MAX_EXPLAINED_PER_ARGUMENT = 10
MAX_EXPLAINED_PER_CALL = 100


class FunctionChecker:
    """The compiled argument check of one function.

    With a fast path, each parameter has its own predicate, so a failing call names its failing
    arguments at once and jsonschema only explains those; without one, jsonschema checks the whole call.
    """

    __slots__ = (
        "spec",
        "param_names",
        "required",
        "properties",
        "closed",
        "_predicates",
        "_extra",
        "_validator",
        "_property_validators",
    )

    def __init__(self, spec: ToolSpec):
        self.spec = spec
        self.param_names = spec.param_names
        self.required = spec.required
        self.properties: Mapping[str, Any] = spec.parameters.get("properties", {})
        additional = spec.parameters.get("additionalProperties", True)
        self.closed = additional is False
        self._extra = compile_fast(additional)
        predicates = {name: compile_fast(sub) for name, sub in self.properties.items()}
        fast_root = set(spec.parameters) - _ANNOTATIONS <= _FAST_KEYWORDS | {"type"}
        if fast_root and self._extra is not None and all(p is not None for p in predicates.values()):
            self._predicates: dict[str, Predicate] | None = predicates  # type: ignore[assignment]
        else:
            self._predicates = None
        self._validator: Draft202012Validator | None = None
        self._property_validators: dict[str, Draft202012Validator] = {}

    @property
    def predicates(self) -> Mapping[str, Predicate] | None:
        """Each parameter's compiled "valid?" predicate (``$K`` aside), or None without a fast path."""
        return self._predicates

    @property
    def validator(self) -> Draft202012Validator:
        if self._validator is None:
            self._validator = validator_class()(self.spec.parameters)
        return self._validator

    def instance(self, named: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments as jsonschema sees them: ``None`` for an optional parameter means omitted."""
        required = self.required
        return {k: v for k, v in named.items() if v is not None or k in required}

    def problems(self, named: Mapping[str, Any]) -> tuple[Sequence[str], Sequence[str], Sequence[Mismatch]]:
        """(missing names, unexpected names, type errors) of one call's named arguments."""
        predicates = self._predicates
        if predicates is None:
            return self._problems_from_jsonschema(self.instance(named))
        required = self.required
        unexpected: list[str] = []
        failing: list[str] = []
        for name, value in named.items():
            predicate = predicates.get(name)
            if predicate is not None:
                # None for an optional parameter means omitted; tested only when the value fails, as it rarely does
                if (
                    not predicate(value)
                    and not (value is None and name not in required)
                    and not is_whole_reference(value)
                ):
                    failing.append(name)
            elif value is None and name not in required:
                continue
            elif self.closed:
                unexpected.append(name)
            elif not self._extra(value) and not is_whole_reference(value):  # type: ignore[misc]
                failing.append(name)
        missing = [] if named.keys() >= required else [name for name in required if name not in named]
        if not (missing or unexpected or failing):
            return _NO_PROBLEMS
        type_errors = [error for name in failing for error in self._explain(name, named[name])]
        return sorted(missing, key=self._order), unexpected, type_errors

    def _order(self, name: str) -> int:
        return self.param_names.index(name) if name in self.param_names else len(self.param_names)

    def _explain(self, name: str, value: Any) -> list[Mismatch]:
        # Only functions with a fast path get here, and those have no $ref: a parameter's schema stands alone.
        schema = self.properties.get(name, self.spec.parameters.get("additionalProperties", {}))
        if _type_only(schema):  # jsonschema would say just this: one `type` error on the value itself
            return [Mismatch((name,), "type", schema, value, "")]
        validator = self._property_validators.get(name)
        if validator is None:
            validator = self._property_validators[name] = validator_class()(schema)
        errors = []
        for error in validator.iter_errors(value):  # lazy: stopping early saves the rest of the work
            if not is_whole_reference(error.instance):
                errors.append(Mismatch.of(error, prefix=(name,)))
                if len(errors) == MAX_EXPLAINED_PER_ARGUMENT:
                    break
        return errors

    def _problems_from_jsonschema(self, instance: dict[str, Any]) -> tuple[list[str], list[str], list[Mismatch]]:
        missing: list[str] = []
        unexpected: list[str] = []
        type_errors: list[Mismatch] = []
        for seen, error in enumerate(self.validator.iter_errors(instance)):
            if seen == MAX_EXPLAINED_PER_CALL:
                break
            if is_whole_reference(error.instance):
                continue
            if not error.path and error.validator == "required":
                missing.extend(n for n in self.required if n not in instance and n not in missing)
            elif not error.path and error.validator == "additionalProperties" and error.schema is self.spec.parameters:
                unexpected.extend(k for k in self._additional(instance) if k not in unexpected)
            else:
                type_errors.append(Mismatch.of(error))
        return sorted(missing, key=self._order), unexpected, type_errors

    def _additional(self, instance: Mapping[str, Any]) -> Iterator[str]:
        """The arguments neither ``properties`` nor ``patternProperties`` declare (as jsonschema decides)."""
        patterns = self.spec.parameters.get("patternProperties", {})
        for key in instance:
            if key not in self.properties and not any(re.search(p, key) for p in patterns):
                yield key


_VALIDATOR_CLASS: Any = None


def validator_class() -> type[Draft202012Validator]:
    """Draft 2020-12 as jsonschema implements it, except ``uniqueItems``: jsonschema compares unsortable
    items pairwise (quadratic: an array of 20,000 objects takes minutes); here each item is hashed once."""
    global _VALIDATOR_CLASS
    if _VALIDATOR_CLASS is None:
        from jsonschema import Draft202012Validator, validators

        _VALIDATOR_CLASS = validators.extend(Draft202012Validator, {"uniqueItems": _unique_items_keyword})
    return _VALIDATOR_CLASS


def _unique_items_keyword(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[Any]:
    if unique and validator.is_type(instance, "array") and not all_unique(instance):
        from jsonschema.exceptions import ValidationError

        yield ValidationError(f"{instance!r} has non-unique elements")


def all_unique(items: list[Any]) -> bool:
    """No two items are equal as JSON values (``1 == 1.0``, ``True != 1``, objects by content); linear."""
    seen = set()
    for item in items:
        key = _json_key(item)
        if key in seen:
            return False
        seen.add(key)
    return True


def _json_key(value: Any) -> Any:
    """A hashable stand-in for a JSON value, equal for equal values (values nest at most MAX_NESTING)."""
    kind = type(value)
    if kind is bool:
        return ("b", value)
    if kind is int or kind is float:
        return ("n", value)  # 1 and 1.0 are equal and hash alike
    if kind is list:
        return ("l", tuple(_json_key(v) for v in value))
    if kind is dict:
        return ("d", frozenset((k, _json_key(v)) for k, v in value.items()))
    return ("s", value) if kind is str else ("z", value)


def checker_for(tools: ToolSet, name: str) -> FunctionChecker:
    """The compiled checker of ``name`` in ``tools``, built on first use and kept with the function's spec, so
    every subset offering the function (a run draws a new one per request) shares it."""
    spec = tools[name]
    checker = spec.compiled.get(_CHECKER_KEY)
    if checker is None:
        checker = spec.compiled[_CHECKER_KEY] = FunctionChecker(spec)
    return checker


_CHECKER_KEY = "checker"
