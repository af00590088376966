"""Agreement with BFCL itself: planforge's BFCL checker against bfcl-eval's own, verdict by verdict.

Both judge the same predictions: the gold answers of every item (:func:`planforge.trainers.bfcl.gold_predictions`,
as JSON and as positional LLMCompiler text) and mutations of them: wrong values, dropped and extra parameters, a wrong
function, extra and missing calls, parallel calls in another order, type changes, ints for floats, string case and
punctuation changes (inside lists and dicts too). planforge reads each prediction as text
(:func:`~planforge.trainers.bfcl.score_item`); BFCL gets the decoded calls, as its runner hands them to
``ast_checker`` (after its format check) or to its relevance rule.

bfcl-eval is installed without its dependencies, so its checker module is loaded from its file, with a stand-in for
the one name it imports from the model registry (``MODEL_CONFIG_MAPPING``, which imports every provider SDK; the
stand-in keeps function names as written), and its relevance helpers are taken from ``utils.py`` by source (importing
that module creates folders inside site-packages).

Two families are reported apart because planforge reads plans differently on purpose: ``none_for_param`` (``None``
means omitted in planforge plans) and ``tuple_for_list`` (planforge's plan parser reads a tuple as a list). Prints
the agreement (share of identical verdicts) per category and per family, and the disagreements.

    python benchmarks/bfcl_agreement.py [--categories simple_python live_multiple] [--limit N] [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import sys
import time
import types
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from planforge.plan import format_value, parse_plan
from planforge.prompting import plan_text
from planforge.trainers.bfcl import (
    CATEGORIES,
    IRRELEVANCE,
    RELEVANCE,
    BFCLItem,
    gold_predictions,
    load_bfcl,
    score_item,
)

CONVENTION_FAMILIES = ("none_for_param", "tuple_for_list")


# --------------------------------------------------------------------------------------------------
# bfcl-eval's own checker


def bfcl_package_dir() -> Path:
    spec = importlib.util.find_spec("bfcl_eval")
    if spec is None or not spec.submodule_search_locations:
        sys.exit('bfcl-eval is not installed: pip install --no-deps "bfcl-eval==2026.3.23"')
    return Path(list(spec.submodule_search_locations)[0])


def load_bfcl_checker(package: Path) -> types.ModuleType:
    """bfcl_eval's ``ast_checker`` module with a stand-in model registry (every model keeps dotted names)."""
    registry = types.ModuleType("bfcl_eval.constants.model_config")
    registry.MODEL_CONFIG_MAPPING = defaultdict(lambda: types.SimpleNamespace(underscore_to_dot=False))
    sys.modules["bfcl_eval.constants.model_config"] = registry
    name = "bfcl_eval.eval_checker.ast_eval.ast_checker"
    spec = importlib.util.spec_from_file_location(name, package / "eval_checker" / "ast_eval" / "ast_checker.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_functions(path: Path, names: set[str]) -> dict[str, Callable[..., Any]]:
    """Top-level functions of a file, compiled from its source without importing the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    body = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name in names]
    namespace: dict[str, Any] = {}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)
    return {name: namespace[name] for name in names}


class BFCLJudge:
    """BFCL's verdict on decoded calls, following its runner (``_evaluate_single_ast_entry`` and
    ``_evaluate_single_relevance_entry``)."""

    def __init__(self, package: Path):
        self.checker = load_bfcl_checker(package)
        helpers = load_functions(package / "utils.py", {"is_function_calling_format_output", "is_empty_output"})
        self.is_format = helpers["is_function_calling_format_output"]
        self.is_empty = helpers["is_empty_output"]
        from bfcl_eval.constants.enums import Language

        self.python = Language.PYTHON

    def verdict(self, item: BFCLItem, decoded: list[dict[str, Any]]) -> tuple[bool, str]:
        if item.category in IRRELEVANCE + RELEVANCE:
            made_call = not self.is_empty(decoded)
            return (not made_call if "irrelevance" in item.category else made_call), ""
        if not self.is_format(decoded):
            return False, "ast_decoder:decoder_wrong_output_format"
        result = self.checker.ast_checker(
            list(item.functions), decoded, list(item.ground_truth or ()), self.python, item.category, "planforge"
        )
        return result["valid"], result.get("error_type", "")


# --------------------------------------------------------------------------------------------------
# predictions: gold and mutations


def other_value(value: Any) -> Any:
    """A value of the same type that no normalization makes equal to ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + " zq"
    if isinstance(value, list):
        return [*value, value[0]] if value else ["zq"]
    if isinstance(value, dict):
        if not value:
            return {"zq": 1}
        key = next(iter(value))
        return {**value, key: other_value(value[key])}
    return "zq"


def other_type(value: Any) -> Any:
    """The same content as another type: 5 -> "5", "a" -> ["a"], [1] -> 1, {..} -> its JSON text, True -> 1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value[0] if value else ""
    if isinstance(value, dict):
        return json.dumps(value)
    return 0


def restyled(value: Any) -> list[tuple[str, Any]]:
    """Case and punctuation variants of a string (inside lists and dicts too): BFCL's normalization ignores
    these ones; ``string_cut`` (a character fewer) it does not."""
    if isinstance(value, str) and value:
        return [
            ("string_case", value.swapcase()),
            ("string_punctuation", value.replace(" ", "_") + "."),
            ("string_cut", value[1:]),
        ]
    if isinstance(value, list) and any(isinstance(v, str) and v for v in value):
        return [("list_string_case", [v.upper() if isinstance(v, str) else v for v in value])]
    if isinstance(value, dict) and any(isinstance(v, str) and v for v in value.values()):
        return [("dict_string_case", {k: v.upper() if isinstance(v, str) else v for k, v in value.items()})]
    return []


def reshaped(value: Any) -> list[tuple[str, Any]]:
    """Changes inside a value: an empty one, a bool for an int, ints in a list of floats, a dict (or a list's first
    dict) with a key dropped, added or changed."""
    out: list[tuple[str, Any]] = [("empty_value", type(value)())] if isinstance(value, (str, list, dict)) else []
    if isinstance(value, int) and not isinstance(value, bool):
        out.append(("bool_for_int", bool(value)))
    if isinstance(value, list) and any(isinstance(v, float) and v.is_integer() for v in value):
        out.append(("list_int_for_float", [int(v) if isinstance(v, float) and v.is_integer() else v for v in value]))
    if isinstance(value, dict) and value:
        first = next(iter(value))
        out += [
            ("dict_key_dropped", {k: v for k, v in value.items() if k != first}),
            ("dict_key_extra", {**value, "zq_key": 1}),
        ]
    if isinstance(value, list) and value and isinstance(value[0], dict) and value[0]:
        first = next(iter(value[0]))
        out += [
            ("list_dict_key_dropped", [{k: v for k, v in value[0].items() if k != first}, *value[1:]]),
            ("list_dict_wrong_value", [{**value[0], first: other_value(value[0][first])}, *value[1:]]),
        ]
    return out


def mutations(item: BFCLItem, gold: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(family, calls) pairs derived from the gold calls."""
    if not gold:
        first = item.functions[0]["name"] if item.functions else "f"
        yield "extra_call", [{"name": first, "arguments": {}}]
        return
    if len(gold) > 1:
        yield "swapped_order", gold[::-1]
    yield "missing_call", gold[:-1]
    yield "extra_call", [*gold, gold[-1]]
    names = [f["name"] for f in item.functions]
    for index, call in enumerate(gold):
        others = [n for n in names if n != call["name"]]
        yield "wrong_function", with_call(gold, index, {**call, "name": others[0] if others else call["name"] + "_v2"})
        yield "extra_param", with_call(gold, index, with_argument(call, "zq_extra", 1))
        doc = next((f for f in item.functions if f["name"] == call["name"]), {})
        props = doc.get("parameters", {}).get("properties", {})
        for param, value in call["arguments"].items():
            dropped = {**call, "arguments": {k: v for k, v in call["arguments"].items() if k != param}}
            variants = [
                ("dropped_param", dropped),
                ("wrong_value", with_argument(call, param, other_value(value))),
                ("type_change", with_argument(call, param, other_type(value))),
                ("none_for_param", with_argument(call, param, None)),
            ]
            if props.get(param, {}).get("type") == "float" and isinstance(value, float):
                variants.append(("int_for_float", with_argument(call, param, int(value))))
            if isinstance(value, list):
                variants.append(("tuple_for_list", with_argument(call, param, tuple(value))))
            variants += [(family, with_argument(call, param, v)) for family, v in restyled(value) + reshaped(value)]
            for family, new_call in variants:
                yield family, with_call(gold, index, new_call)
        left_out = next((p for p in props if p not in call["arguments"]), None)
        if left_out is not None:
            yield "added_optional", with_call(gold, index, with_argument(call, left_out, _sample(props[left_out])))


def with_call(calls: list[dict[str, Any]], index: int, call: dict[str, Any]) -> list[dict[str, Any]]:
    return [call if i == index else c for i, c in enumerate(calls)]


def with_argument(call: dict[str, Any], param: str, value: Any) -> dict[str, Any]:
    return {**call, "arguments": {**call["arguments"], param: value}}


def _sample(schema: dict[str, Any]) -> Any:
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    return {"string": "zq", "integer": 1, "float": 1.5, "boolean": True, "array": [], "tuple": [], "dict": {}}.get(
        schema.get("type"), "zq"
    )


def as_text(calls: list[dict[str, Any]]) -> str:
    """LLMCompiler text with keyword arguments; tuples stay tuples (JSON has none)."""

    def literal(value: Any) -> str:
        if isinstance(value, tuple):
            return "(" + "".join(literal(v) + ", " for v in value) + ")"
        return format_value(value)

    lines = [
        f"{i}. {c['name']}({', '.join(f'{k}={literal(v)}' for k, v in c['arguments'].items())})"
        for i, c in enumerate(calls, start=1)
    ]
    return "\n".join([*lines, f"{len(calls) + 1}. join()"])


def cases(item: BFCLItem, gold_json: str) -> Iterator[tuple[str, list[dict[str, Any]], str]]:
    """(family, calls BFCL sees, text planforge reads) for one item."""
    gold = json.loads(gold_json)
    yield "gold", gold, gold_json
    yield "gold_text", gold, plan_text(parse_plan(gold_json), item.tools)
    for family, calls in mutations(item, gold):
        has_tuple = any(isinstance(v, tuple) for c in calls for v in c["arguments"].values())
        yield family, calls, as_text(calls) if has_tuple else json.dumps(calls, ensure_ascii=False)


def decoded(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """BFCL's decoded form: ``[{name: {parameter: value}}]``."""
    return [{c["name"]: dict(c["arguments"])} for c in calls]


# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--categories", nargs="*", default=None, help=f"default: all of {', '.join(CATEGORIES)}")
    parser.add_argument("--limit", type=int, default=None, help="items per category (default: all)")
    parser.add_argument("--data-dir", type=Path, default=None, help="a folder laid out like bfcl_eval/data")
    parser.add_argument("--show", type=int, default=30, help="disagreements to print")
    args = parser.parse_args()

    judge = BFCLJudge(bfcl_package_dir())
    items = load_bfcl(args.categories, limit=args.limit, data_dir=args.data_dir)
    gold = gold_predictions(items)
    started = time.perf_counter()
    same: Counter[tuple[str, str]] = Counter()
    passed: Counter[str] = Counter()  # BFCL's passes per family: a family that always fails or passes tests little
    total: Counter[tuple[str, str]] = Counter()
    gold_pass: Counter[str] = Counter()
    disagreements = []
    crashes = 0
    for item in items:
        for family, calls, text in cases(item, gold[item.id]):
            try:
                theirs, their_reason = judge.verdict(item, decoded(calls))
            except Exception as exc:  # noqa: BLE001 - BFCL's checker assumes well-formed input
                crashes += 1
                disagreements.append((item.id, family, None, None, f"bfcl-eval raised {type(exc).__name__}: {exc}"))
                continue
            ours = score_item(item, text)
            key = (item.category, family)
            total[key] += 1
            same[key] += ours.ok == theirs
            passed[family] += theirs
            if family == "gold":
                gold_pass[item.category] += ours.ok
            if ours.ok != theirs:
                disagreements.append((item.id, family, ours.ok, theirs, f"{ours.reason} | bfcl: {their_reason}"))
    elapsed = time.perf_counter() - started

    def share(keys: list[tuple[str, str]]) -> tuple[int, int]:
        return sum(same[k] for k in keys), sum(total[k] for k in keys)

    print(f"{len(items)} items, {sum(total.values())} verdicts each side, {elapsed:.1f}s")
    print(f"\n{'category':24} {'items':>6} {'gold ok':>8} {'verdicts':>9} {'agreement':>10}  (BFCL-rule families)")
    categories = [c for c in CATEGORIES if any(k[0] == c for k in total)]
    for category in categories:
        keys = [k for k in total if k[0] == category and k[1] not in CONVENTION_FAMILIES]
        agree, n = share(keys)
        count = sum(1 for item in items if item.category == category)
        print(f"{category:24} {count:6} {gold_pass[category]:8} {n:9} {agree / n:10.2%}")
    keys = [k for k in total if k[1] not in CONVENTION_FAMILIES]
    agree, n = share(keys)
    print(f"{'all':24} {len(items):6} {sum(gold_pass.values()):8} {n:9} {agree / n:10.2%}")

    print(f"\n{'family':24} {'verdicts':>9} {'BFCL passes':>12} {'agreement':>10}")
    for family in sorted({k[1] for k in total}, key=lambda f: (f in CONVENTION_FAMILIES, f)):
        agree, n = share([k for k in total if k[1] == family])
        note = "  (planforge convention, not in the figures above)" if family in CONVENTION_FAMILIES else ""
        print(f"{family:24} {n:9} {passed[family] / n:12.1%} {agree / n:10.2%}{note}")
    if crashes:
        print(f"\nbfcl-eval's checker raised on {crashes} prediction(s) (not counted)")

    rule_disagreements = [d for d in disagreements if d[1] not in CONVENTION_FAMILIES]
    print(f"\n{len(rule_disagreements)} disagreement(s) on BFCL-rule families")
    for item_id, family, ours, theirs, reason in rule_disagreements[: args.show]:
        print(f"  {item_id} [{family}] planforge={ours} bfcl={theirs}: {reason}")
    by_family = Counter(d[1] for d in disagreements if d[1] in CONVENTION_FAMILIES)
    for family, count in sorted(by_family.items()):
        example = next(d for d in disagreements if d[1] == family)
        print(f"{count} on {family}, e.g. {example[0]}: planforge={example[2]} bfcl={example[3]}: {example[4]}")


if __name__ == "__main__":
    main()
