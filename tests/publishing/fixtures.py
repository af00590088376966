"""Small, realistic datasets as ``gen run``, ``gen pairs`` and ``gen review pull`` leave them on disk.

Rows come from the real column contract (:class:`planforge.dataset.rows.Example`); ``run.json``
carries every key the generator writes, including a ``base_url`` with credentials and planted secrets,
so tests can check that nothing secret is ever written or uploaded.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import datasets

from planforge.dataset.features import PLAN_FEATURES, TOOLS
from planforge.dataset.rows import Example
from planforge.plan import parse_text
from planforge.tools import ToolSet, load_tools

# Planted secrets: none of these may appear in anything written or uploaded.
OPENAI_KEY = "sk-proj-PLANTEDsecretKEY0123456789abcdefABCDEF"
HF_KEY = "hf_PLANTEDhubTOKENabcdefghijklmnopqrstuv"
ENV_SECRET = "planted-env-secret-value-7f3a9c"
URL_PASSWORD = "s3cr3t-URL-pass-word"
BASE_URL = f"https://alice:{URL_PASSWORD}@llm.example.com/v1?api_key=QUERYkey-planted-42"
PLANTED = (OPENAI_KEY, HF_KEY, ENV_SECRET, URL_PASSWORD, "QUERYkey-planted-42")

_PLANS = [
    (
        "Set up a Zoom call with {name} tomorrow at 3pm about the budget and put it on my calendar.",
        """1. get_email_address("{name}")
2. get_zoom_meeting_link("Budget", "2026-03-02 15:00:00", 60, ["$1"])
3. create_calendar_event("Budget", "2026-03-02 15:00:00", "2026-03-02 16:00:00", "$2", ["$1"], "", None)
4. join()""",
    ),
    (
        "Summarize the {name} report PDF and email the summary to the team with the file attached.",
        """1. open_and_get_file_path("{name} report")
2. summarize_pdf("$1")
3. compose_new_email(["team@example.com"], [], "{name} report", "$2", ["$1"])
4. join()""",
    ),
    (
        "Text {name} that I'm running ten minutes late.",
        """1. get_phone_number("{name}")
2. send_sms(["$1"], "Running ten minutes late")
3. join()""",
    ),
    (
        "Show me driving directions to {name}'s place.",
        """1. maps_show_directions("", "{name}'s place", "d")
2. join()""",
    ),
    (
        "Write a note called {name} with 'milk, eggs' and remind me to shop on Friday.",
        """1. create_note("{name}", "milk, eggs", "")
2. create_reminder("Shop", "2026-03-06 09:00:00", "", "", 0, False)
3. join()""",
    ),
    (
        "Email {name} and Bo together about Friday's offsite.",
        """1. get_email_address("{name}")
2. get_email_address("Bo")
3. compose_new_email(["$1", "$2"], [], "Offsite", "Friday's offsite", [])
4. join()""",
    ),
]
_NAMES = ["Sid", "Ana", "Lee", "Kim", "Raj", "Noa", "Eli", "Mia"]


def mac_tools() -> ToolSet:
    return load_tools(resources.files("planforge.recipes") / "mac_assistant" / "tools.json")


def sft_rows(n: int = 30, *, plant_secret_in: int | None = None) -> list[dict[str, Any]]:
    """``n`` distinct rows; with ``plant_secret_in`` the query of that row carries an OpenAI key."""
    tools = mac_tools()
    rows = []
    names = list(tools)
    for i in range(n):
        query_t, plan_t = _PLANS[i % len(_PLANS)]
        name = _NAMES[(i // len(_PLANS)) % len(_NAMES)] + ("" if i < 48 else str(i))
        plan = parse_text(plan_t.format(name=name), param_order=tools.param_order).bind(tools.param_order)
        targets = list(dict.fromkeys(plan.function_names()))
        distractors = [f for f in names if f not in targets][i % 5 : i % 5 + 2]
        offered = tools.subset(targets + distractors)
        query = query_t.format(name=name)
        if plant_secret_in == i:
            query += f" (my key is {OPENAI_KEY})"
        example = Example(
            query=query,
            plan=plan,
            tools=offered,
            now="2026-03-01 09:00:00",
            teacher="openai",
            model="gpt-4o-mini",
            recipe="mac_assistant",
            request_id=f"req-{i:04d}",
        )
        rows.append(example.to_row())
    return rows


def sft_dataset(n: int = 30, **kwargs: Any) -> datasets.DatasetDict:
    rows = sft_rows(n, **kwargs)
    n_val = max(1, n // 6)
    n_test = max(1, n // 6)
    n_train = n - n_val - n_test
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(rows[:n_train], features=PLAN_FEATURES),
            "validation": datasets.Dataset.from_list(rows[n_train : n_train + n_val], features=PLAN_FEATURES),
            "test": datasets.Dataset.from_list(rows[n_train + n_val :], features=PLAN_FEATURES),
        }
    )


def run_json(ds: datasets.DatasetDict, recipe_path: str = "recipe", recipe_hash: str = "0" * 64) -> dict[str, Any]:
    """Keys as planforge/generator/job.py writes them, plus planted secrets."""
    accepted = sum(len(s) for s in ds.values())
    stats = {
        "requests": 14,
        "failed_requests": 1,
        "responses": 13,
        "cached_responses": 0,
        "rejected_responses": 0,
        "proposed": 60,
        "parsed": 52,
        "valid": 44,
        "accepted": accepted,
        "duplicates_exact": 8,
        "duplicates_near": 6,
        "surplus": 0,
        "prompt_tokens": 183_000,
        "completion_tokens": 41_500,
        "cost_usd": 0.0524,
        "rejected": {"unknown_function": 3, "missing_argument": 2, "bad_reference": 2, "type_mismatch": 1},
    }
    return {
        "planforge_version": "0.1.0",
        "requested": accepted,
        "responses": 13,
        "parsed": 52,
        "valid": 44,
        "accepted": accepted,
        "rejected": dict(stats["rejected"]),
        "duplicates": {"exact": 8, "near": 6},
        "tokens": {"prompt": 183_000, "completion": 41_500},
        "cost_usd": 0.0524,
        "wall_seconds": 73.4,
        "teacher": "openai",
        "model": "gpt-4o-mini",
        "base_url": BASE_URL,
        "api_key": OPENAI_KEY,
        "recipe": {"name": "mac_assistant", "version": "1.2.0", "hash": recipe_hash, "path": recipe_path},
        "seed": 7,
        "splits": {name: len(split) for name, split in ds.items()},
        "stop_reason": "target reached",
        "stats": stats,
        "argv": [
            "/usr/local/bin/gen",
            "run",
            "recipe",
            "mac_assistant",
            "--out",
            "out/mac",
            "-n",
            str(accepted),
            "--api-key",
            OPENAI_KEY,
        ],
    }


RECIPE_YAML = (
    "name: mac_assistant\nversion: 1.2.0\n"
    "description: >-\n  A local assistant on a Mac that turns a request into a plan of calls.\n"
    "license: apache-2.0\nlanguage: en\ntools: tools.json\n"
    f"teacher:\n  base_url: {BASE_URL}\n  api_key: {OPENAI_KEY}\n"
    "sampling:\n  min_targets: 1\n  max_targets: 3\n  min_distractors: 2\n  max_distractors: 2\n"
    "  examples_per_request: 5\n  co_use:\n    send_sms: {get_phone_number: 0.85}\n"
    "  now: {start: '2026-01-05', end: '2026-12-18'}\n"
    "rules: [lookup_before_contact, iso_dates]\nrequire_join: true\n"
)


def recipe_meta() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(RECIPE_YAML)


def write_recipe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "recipe.yaml").write_text(RECIPE_YAML, encoding="utf-8")
    (folder / "tools.json").write_text(json.dumps([s.to_dict() for s in mac_tools().specs], indent=1))
    (folder / "prompt.md").write_text(f"Write requests. Use token {HF_KEY} never.\n", encoding="utf-8")
    (folder / "__pycache__").mkdir(exist_ok=True)
    (folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\x00\x01binary")
    return folder


def write_run(out: Path, n: int = 30, **kwargs: Any) -> Path:
    """A complete ``gen run`` output folder: the DatasetDict, ``run.json`` and the recipe folder."""
    from planforge.publishing.source import recipe_folder_hash

    ds = sft_dataset(n, **kwargs)
    ds.save_to_disk(str(out))
    recipe = write_recipe(out / "recipe")
    run = run_json(ds, recipe_hash=recipe_folder_hash(recipe))
    (out / "run.json").write_text(json.dumps(run, indent=2), encoding="utf-8")
    return out


# --------------------------------------------------------------------------------------------------
# pairs


def pair_rows(n: int = 12, *, reviewed: bool = False, agreement_column: bool = False) -> list[dict[str, Any]]:
    """Rows shaped like `gen pairs` (planforge/curation_ui/pairs.py PAIR_FEATURES) and, with ``reviewed``,
    like `gen review pull` (verdict, annotators, agreed, ...). ``agreement_column``: a plain ``agreement``
    share instead of annotators/agreed (the shape the issue describes)."""
    rows = sft_rows(n)
    kinds = ["wrong_function", "missing_step", "bad_reference", "wrong_argument"]
    sources = ["corruption", "corruption", "student"]
    out = []
    for i, row in enumerate(rows):
        chosen = row["completion"]
        plan_lines = chosen[0]["content"].splitlines()
        rejected_text = "\n".join(plan_lines[:1] + plan_lines[2:]) if len(plan_lines) > 2 else plan_lines[0]
        errors = [{"code": "bad_reference", "step": 2, "message": "step 2 uses $1 ..."}] if i % 2 else []
        pair = {
            "id": f"pair-{i:04d}",
            "example_id": row["id"],
            "query": row["query"],
            "prompt": row["prompt"],
            "chosen": chosen,
            "rejected": [{"role": "assistant", "content": rejected_text}],
            "tools": row["tools"],
            "rejection_source": sources[i % len(sources)],
            "rejection_kind": kinds[i % len(kinds)],
            "rejection_detail": "a step was dropped",
            "chosen_valid": True,
            "chosen_errors": [],
            "rejected_valid": not errors,
            "rejected_errors": errors,
            "rejected_equivalent": False,
            "meta": {
                "now": "2026-03-01 09:00:00",
                "recipe": "mac_assistant",
                "student": "tiny-1b" if i % 3 == 2 else "",
            },
        }
        if reviewed:
            pair["verdict"] = ["chosen", "chosen", "rejected", None][i % 4]
            if agreement_column:
                pair["agreement"] = [1.0, 0.67, 1.0, 0.5][i % 4]
            else:
                pair.update(
                    annotators=[3, 3, 2, 2][i % 4],
                    agreed=[3, 2, 2, 0][i % 4],
                    agreed_by=[["ana", "bo", "cy"], ["ana", "bo"], ["ana", "cy"], []][i % 4],
                    error_kinds=[["missing_step"], [], ["wrong_argument", "missing_step"], []][i % 4],
                    corrected=i % 4 == 2,
                    corrected_by="cy" if i % 4 == 2 else "",
                    swapped=i % 4 == 2,
                )
        out.append(pair)
    return out


PAIRS_REPORT = {
    "examples": 12,
    "pairs": {"train": 9, "test": 3},
    "total_pairs": 12,
    "by_source": {"corruption": 8, "student": 4},
    "by_kind": {"wrong_function": 3, "missing_step": 3, "bad_reference": 3, "wrong_argument": 3},
    "skipped": {"no_rejection": 2},
    "notes": [f"student endpoint {BASE_URL}"],
}
REVIEW_REPORT = {
    "dataset": "mac-pairs",
    "workspace": "planforge",
    "records": 14,
    "reviewed": 12,
    "unreviewed": 2,
    "verdicts": {"chosen": 6, "rejected": 3, "both": 0, "neither": 0, "disputed": 3},
    "total_exported": 9,
    "agreement": {"method": "krippendorff_alpha", "value": 0.6123, "percent_agreement": 0.7778, "items": 12, "annotators": 3},
    "annotators": {"ana": 12, "bo": 8, "cy": 10},
}


def write_pairs(out: Path, n: int = 12, *, reviewed: bool = False, agreement_column: bool = False) -> Path:
    rows = pair_rows(n, reviewed=reviewed, agreement_column=agreement_column)
    if reviewed and not agreement_column:  # `gen review pull` leaves disputed pairs out
        rows = [r for r in rows if r["verdict"] is not None]
    cut = len(rows) - max(1, len(rows) // 4)
    features = datasets.Dataset.from_list(rows).features
    features["tools"] = TOOLS  # OpenAI entries, as `gen pairs` stores them (inference would make a struct of them)
    ds = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(rows[:cut], features=features),
            "test": datasets.Dataset.from_list(rows[cut:], features=features),
        }
    )
    ds.save_to_disk(str(out))
    report, name = (REVIEW_REPORT, "review_report.json") if reviewed else (PAIRS_REPORT, "pairs.json")
    (out / name).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return out
