"""How varied a dataset's requests are and which plan structures it covers.

    python benchmarks/data_quality.py DIR [--samples 20] [--seed 0]

Phrasing, over samples of 120 random requests (seeded; the mean and the worst of ``--samples`` samples):

- distinct-3: distinct word trigrams / all word trigrams of the 120 requests (words: lowercased runs of letters,
  digits and apostrophes; trigrams do not cross requests). Natural requests score about 0.92.
- distinct openings: distinct first-three-word sequences / 120 (a request shorter than three words opens with
  all of its words).
- top opening: the most common first three words over the whole dataset, and their share of it.

Structures (planforge.structures): distinct structures, the most common ones, single-call share, parallel share
(two or more people looked up), plans with a step taking 3+ inputs, function and function-pair coverage (a pair is
feasible when some shape of the recipe's request grammar uses both), plan lengths, and how often texts look their
recipients up (plans whose texted people all come from get_phone_number against send_sms minus texts to written
numbers only). No-call examples (the empty plan, relevance detection) are counted apart: the structure figures are
of the plans that call something."""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from itertools import combinations
from pathlib import Path
from typing import Any

# Run from a checkout, use that checkout's planforge (not whichever one is pip-installed in editable mode).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planforge.dataset.disk import load_saved_dataset  # noqa: E402
from planforge.dataset.rows import row_plan  # noqa: E402
from planforge.plan import Plan  # noqa: E402
from planforge.structures import describe, is_parallel, max_fan_in, step_count, structure_key  # noqa: E402

SAMPLE_SIZE = 120
_WORD = re.compile(r"[\w']+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def distinct_ngram_ratio(texts: Sequence[str], n: int = 3) -> float:
    grams = [tuple(w[i : i + n]) for w in map(words, texts) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def opening(text: str, n: int = 3) -> tuple[str, ...]:
    return tuple(words(text)[:n])


def distinct_openings(texts: Sequence[str], n: int = 3) -> float:
    return len({opening(t, n) for t in texts}) / len(texts) if texts else 0.0


def phrasing(queries: Sequence[str], samples: int = 20, seed: int = 0) -> dict[str, Any]:
    rng = random.Random(seed)
    drawn = [rng.sample(list(queries), min(SAMPLE_SIZE, len(queries))) for _ in range(samples)]
    ratios = [distinct_ngram_ratio(d) for d in drawn]
    opens = [distinct_openings(d) for d in drawn]
    top, count = Counter(opening(q) for q in queries).most_common(1)[0]
    return {
        "distinct3_mean": sum(ratios) / len(ratios),
        "distinct3_min": min(ratios),
        "openings_mean": sum(opens) / len(opens),
        "openings_min": min(opens),
        "top_opening": " ".join(top),
        "top_opening_share": count / len(queries),
    }


def _sends_to_numbers_only(plan: Plan) -> bool:
    """A plan whose texts all go to numbers written in the request (nothing to look up)."""
    texts = [s for s in plan.calls if s.name == "send_sms"]
    return bool(texts) and all(
        all(not str(r).startswith("$") for r in (s.kwargs.get("recipients") or [])) for s in texts
    )


def _texts_look_recipients_up(plan: Plan) -> bool:
    """A plan that texts someone named and takes every such recipient from get_phone_number (a phone lookup may
    also be sent on as a message: "text Sid Maya's number")."""
    names = {s.index: s.name for s in plan.calls}
    refs = [
        str(r)
        for s in plan.calls
        if s.name == "send_sms"
        for r in (s.kwargs.get("recipients") or [])
        if str(r).startswith("$")
    ]
    return bool(refs) and all(names.get(int(r[1:])) == "get_phone_number" for r in refs if r[1:].isdigit())


#: Words that ask for a file to be found or opened: a request without them leaves the lookup implied
FINDING = re.compile(r"\b(find|locate|dig up|open|pull up|bring up|look(ing)? for|grab|track down|where)\b", re.I)
SENDERS = ("compose_new_email", "reply_to_email", "forward_email")


def attaches_only(plan: Plan) -> bool:
    """The plan opens files only to attach them to mail (no summary, nothing else uses the file)."""
    opened = {s.index for s in plan.calls if s.name == "open_and_get_file_path"}
    if not opened or any(s.name == "summarize_pdf" for s in plan.calls):
        return False
    users = {s.name for s in plan.calls if opened & set(s.references or ())}
    return bool(users) and users <= set(SENDERS)


def structures(plans: Sequence[Plan], feasible_pairs: set[frozenset[str]] | None = None) -> dict[str, Any]:
    keys = Counter(structure_key(p) for p in plans)
    lengths = Counter(step_count(p) for p in plans)
    functions = Counter(f for p in plans for f in set(p.function_names()))
    pairs = Counter(frozenset(pair) for p in plans for pair in combinations(sorted(set(p.function_names())), 2))
    total = len(plans)
    report: dict[str, Any] = {
        "examples": total,
        "structures": len(keys),
        "top_structures": [(describe(k), c) for k, c in keys.most_common(8)],
        "single_call": lengths[1] / total,
        "parallel": sum(is_parallel(p) for p in plans) / total,
        "fan_in_3": sum(max_fan_in(p) >= 3 for p in plans) / total,
        "lengths": dict(sorted(lengths.items())),
        "functions": dict(sorted(functions.items())),
        "pairs_seen": len(pairs),
        "get_phone_number": functions["get_phone_number"],
        "send_sms": functions["send_sms"],
        "sms_to_written_numbers_only": sum(_sends_to_numbers_only(p) for p in plans),
        "sms_looked_up": sum(_texts_look_recipients_up(p) for p in plans),
    }
    if feasible_pairs is not None:
        report["pairs_feasible"] = len(feasible_pairs)
        report["pairs_missing"] = sorted(" + ".join(sorted(p)) for p in feasible_pairs - set(pairs))
    return report


def grammar_pairs() -> set[frozenset[str]]:
    """Function pairs some shape of the mac_assistant request grammar uses (what a dataset can cover)."""
    from planforge.generator.teachers.grammar.book import load_book
    from planforge.generator.teachers.grammar.shapes import enumerate_shapes, shape_functions
    from planforge.recipes.loader import load_recipe

    recipe = load_recipe("mac_assistant")
    found: set[frozenset[str]] = set()
    for spec in enumerate_shapes(load_book(recipe.templates_path).max_functions):
        found.update(frozenset(p) for p in combinations(sorted(shape_functions(spec)), 2))
    return found


def quality(folder: str | Path, samples: int = 20, seed: int = 0) -> dict[str, Any]:
    data = load_saved_dataset(folder)
    rows = [row for split in data.values() for row in split]
    report = phrasing([r["query"] for r in rows], samples, seed)
    plans = [row_plan(r) for r in rows]
    # no-call examples (relevance detection: their plan is empty) apart; the structure figures are of the plans
    report.update(structures([p for p in plans if p.calls], grammar_pairs()))
    no_call = sum(not p.calls for p in plans)
    report.update(examples=len(rows), no_call=no_call, no_call_share=no_call / len(rows) if rows else 0.0)
    attaching = [r["query"] for r, p in zip(rows, plans, strict=True) if attaches_only(p)]
    implied = sum(not FINDING.search(q) for q in attaching)
    report.update(attaching=len(attaching), attachment_implied=implied / len(attaching) if attaching else 0.0)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--samples", type=int, default=20, help="samples of 120 requests for the phrasing figures")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    r = quality(args.folder, args.samples, args.seed)
    print(f"examples: {r['examples']:,}, of which no-call (empty plan): {r['no_call']:,} ({r['no_call_share']:.1%})")
    print(f"distinct-3 of {SAMPLE_SIZE} requests: mean {r['distinct3_mean']:.3f}, worst {r['distinct3_min']:.3f}")
    print(f"distinct 3-word openings of {SAMPLE_SIZE}: mean {r['openings_mean']:.1%}, worst {r['openings_min']:.1%}")
    print(f"top opening: {r['top_opening']!r} ({r['top_opening_share']:.2%} of the dataset)")
    print(f"structures: {r['structures']:,} distinct; most common:")
    for text, count in r["top_structures"]:
        print(f"  {count:5d}  {text}")
    print(
        f"single call: {r['single_call']:.1%}; parallel lookups (2+ people): {r['parallel']:.1%}; "
        f"a step with 3+ inputs: {r['fan_in_3']:.1%}"
    )
    print("plan lengths: " + ", ".join(f"{k}: {v}" for k, v in r["lengths"].items()))
    print(f"functions ({len(r['functions'])}): " + ", ".join(f"{k} {v}" for k, v in r["functions"].items()))
    print(f"function pairs: {r['pairs_seen']} seen of {r['pairs_feasible']} feasible")
    if r["pairs_missing"]:
        print("  missing: " + "; ".join(r["pairs_missing"]))
    print(f"mail that attaches files: {r['attaching']:,}, the file lookup implied (no 'find', 'open', ...) in "
          f"{r['attachment_implied']:.1%}")  # fmt: skip
    lookups = r["send_sms"] - r["sms_to_written_numbers_only"]
    print(f"get_phone_number {r['get_phone_number']} / send_sms {r['send_sms']} "
          f"({r['sms_to_written_numbers_only']} text written numbers only: {lookups} should look up, "
          f"{r['sms_looked_up']} do)")  # fmt: skip


if __name__ == "__main__":
    main()
