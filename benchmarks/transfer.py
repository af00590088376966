"""Transfer to hand-written requests: the old and the new template teacher, same size, scored on their own test
split and on the held-out dev set (benchmarks/data/mac_dev.jsonl).

"Old" is the fixed-pattern template teacher before the compositional grammar merge (``aef3da1^1``), checked
out detached into a temporary git worktree and removed afterwards; "new" is this checkout (or ``--new PATH``).
Each builds its dataset with ``python -m planforge run recipe mac_assistant -n N --seed S --teacher template``
run with ``PYTHONPATH`` and the working directory set to its own tree. Everything after that (the ToolRAG
classifier, LoRA SFT of SmolLM2-135M-Instruct, both evaluations) is this checkout's code with the same settings
for both, so only the data differs. The dev set is evaluation data only: it is never trained on.

Per side: the ToolRAG classifier trained on its dataset (recall, share of requests with every needed function
selected, mean functions selected) on its own test split and on the dev set; then LoRA SFT on ``--sft-examples``
of its training split with ToolRAG prompts (the classifier's selection, as TinyAgent trained) and plan success
(DAG isomorphism with the reference) on both sets. Dev-set figures are also broken down by difficulty.

Targets: ToolRAG all-needed-selected >= 0.98 at <= 4 functions selected on the dev set; the SFT model's success
on the dev set within 10 points of its success on its own test split.

The SFT part runs on a GPU when torch sees one (one epoch over ``--sft-examples``, every test and dev request);
else on CPU with a short schedule (``--sft-steps`` 60, ``--eval-limit`` 40 unless given). ``figures.json``
under ``--out`` records the device, steps, examples, CPU seconds and load averages of each phase, and the source
of each side (commit, and for a dirty tree the list of changed files and a hash of ``git diff HEAD``, whose
text is saved beside it as ``source.diff``).

    python benchmarks/transfer.py [--old aef3da1^1] [--new PATH] [-n 3000] [--out /tmp/transfer/run]
        [--toolrag-epochs 3] [--sft-examples 2000] [--sft-steps N] [--eval-limit N] [--skip-sft] [--threads 2]

A dataset already under ``--out`` is reused when it was built by the same generator (the git tree of
``planforge/`` and its uncommitted changes), ``-n`` and ``--seed``, and so is a classifier trained on it with the
same ``--toolrag-epochs``; anything else there is an error (use a fresh ``--out``). Not run in CI.

Measured on the 2-core shared machine, CPU only, torch threads 1 (at a load of 9-17, two OpenMP threads
waiting on each other made ToolRAG steps about 5x and plan generation about 12x slower than one). Two runs, both
trained and evaluated by planforge/ tree 46b0245 (main at 618988f), generation seed 0, 3,000 examples per
dataset (2,700 / 150 / 150):

    A: python benchmarks/transfer.py -n 3000 --toolrag-epochs 3 --skip-sft --threads 1 --out /tmp/transfer/rag_main
    B: python benchmarks/transfer.py -n 3000 --toolrag-epochs 3 --new /work/wt/grammar2 --sft-examples 2000
           --sft-steps 30 --sft-batch-size 4 --sft-lr 5e-4 --eval-limit 40 --threads 1 --out /tmp/transfer/final

"old" is aef3da1^1 (1f0c7ae); "main" is run A's new side (this checkout, main's generator); "grammar2" is run
B's new side, branch grammar2 at d9e7105 with a clean tree. Run B reused run A's old dataset and classifier
(same generator tree and settings). ToolRAG: all-MiniLM-L6-v2 + linear head, 3 epochs, 507 steps at batch 16,
threshold 0.5; test = the dataset's own 150 test requests, dev = all 185 dev items.

| | old: test | old: dev | main: test | main: dev | grammar2: test | grammar2: dev |
|---|---:|---:|---:|---:|---:|---:|
| dev structures the dataset covers | | 44/89 | | 61/89 | | 87/89 |
| ToolRAG recall | 1.000 | 0.903 | 1.000 | 0.933 | 0.983 | 0.959 |
| ToolRAG all needed selected | 1.000 | 0.843 | 1.000 | 0.881 | 0.967 | 0.930 |
| ToolRAG mean selected (needed) | 2.62 (2.62) | 2.23 (2.35) | 2.41 (2.41) | 2.24 (2.35) | 2.71 (2.73) | 2.33 (2.35) |
| all needed: single / parallel / multi | | .964 / .872 / .747 | | 1.000 / .872 / .807 | | 1.000 / .936 / .880 |
| all needed at threshold 0.05 (mean selected) | | 0.924 (2.77) | | 0.962 (2.60) | | 0.984 (2.95) |
| dev items with a needed function left out | | 29 | | 22 | | 13 |
| SFT plan success (40 requests) | 7.5% | 20.0% | | | 15.0% | 15.0% |
| SFT strict success (isomorphic and valid) | 0.0% | 5.0% | | | 5.0% | 2.5% |
| SFT validity | 5.0% | 10.0% | | | 7.5% | 7.5% |
| SFT tool recall | 0.482 | 0.678 | | | 0.271 | 0.444 |
| SFT success: single / parallel / multi | | 8/9, 0/19, 0/12 | | | | 5/9, 0/19, 1/12 |

SFT (run B only): SmolLM2-135M-Instruct (GGUF de-quantized to fp32), LoRA r=16 on the last 15 of 30 layers,
no dropout, ToolRAG prompts from each side's own classifier, 30 steps at batch 4 and lr 5e-4 (120 of the 2,000
training examples seen; loss 1.12 -> 0.61 old, 1.11 -> 0.62 grammar2), then the first 40 requests of each set
(dev: 9 single, 19 parallel, 12 multi), 256 new tokens. Time: ToolRAG 699 / 954 / 1,002 s wall per side (356 /
457 / 517 CPU s); SFT part 1,345 s old (train 620 s, 17.4 s/step; each evaluation about 360 s) and 1,442 s
grammar2 (train 755 s, 22.3 s/step), 46 min for both. Run A 1,671 s wall, 825 CPU s, load 7.6 -> 9.7; run B
3,829 s wall, 2,368 CPU s, load 10.6 -> 3.9.

Targets: ToolRAG all-needed >= 0.98 at <= 4 functions on the dev set is not met at the classifier's threshold
(0.843 / 0.881 / 0.930); the sweep reaches 0.984 at 2.95 functions for grammar2 (a curve: nothing was chosen on
the dev set). What it leaves out is mostly the implied first step of sending a named document ("email ... the
contract"): open_and_get_file_path, in 10 of grammar2's 13 failed items (old: 29 items, spread over 13
functions). SFT "within 10 points": grammar2 0.0 points (met), old +12.5 (dev above its own test: not met).
30 CPU steps are far too short for this to mean much: 40 requests at 7-20% success carry about +-11 points of
sampling error, and no model solved a parallel request.

Later runs, at a load of 1-3 (this checkout as "new"; old reused where its key matched):

    C: python benchmarks/transfer.py -n 3000 --toolrag-epochs 3 --skip-sft --threads 1 --out /tmp/transfer/cal
    D: python benchmarks/transfer.py -n 3000 --toolrag-epochs 3 --sft-examples 2000 --sft-steps 30
           --sft-batch-size 4 --sft-lr 5e-4 --eval-limit 40 --threads 1 --out /tmp/transfer/g3

D ran at 1322a69 (the grammar with file>email|reply|forward combos, ToolRAG still at threshold 0.5 and
unweighted labels; old side's SFT reused from run B); C at 0199168, ToolRAG as trained since: positive labels
weighted 3x, the threshold calibrated on each dataset's validation split (old 0.5, validation all-needed 1.000;
new 0.2, 0.993). Both datasets rebuilt in C, both classifiers trained there.

| | old: test | old: dev | new (D): test | new (D): dev | new (C): test | new (C): dev |
|---|---:|---:|---:|---:|---:|---:|
| ToolRAG all needed selected | 1.000 (C: 1.000) | 0.843 (C: 0.822) | 0.933 | 0.935 | 0.987 | 0.984 |
| ToolRAG recall | 1.000 (C: 1.000) | 0.903 (C: 0.899) | 0.973 | 0.961 | 0.995 | 0.991 |
| mean selected (needed) | 2.62 (2.62) | 2.23 (C: 2.29) | 2.65 (2.67) | 2.33 (2.35) | 2.88 (2.67) | 2.63 (2.35) |
| all needed: single / parallel / multi | | C: .982 / .830 / .711 | | 1.000 / .915 / .904 | | 1.000 / .979 / .976 |
| SFT plan success (40 requests) | 7.5% | 20.0% | 25.0% | 17.5% | | |
| SFT strict success | 0.0% | 5.0% | 17.5% | 0.0% | | |
| SFT validity | 5.0% | 10.0% | 20.0% | 0.0% | | |
| SFT success: single / parallel / multi | | 8/9, 0/19, 0/12 | | 5/9, 0/19, 2/12 | | |

Time: C 896 s wall, 883 CPU s (ToolRAG 358 s old, 507 s new); D's new side ToolRAG 513 s, SFT 1,043 s (train
548 s at 16.7 s/step, each 40-request evaluation about 245 s). Targets: ToolRAG on the dev set met by C's new
classifier (0.984 at 2.63 functions; the 3 misses: a phone lookup for "let Grandma and Grandpa know", "make sure
Ines gets the review slides", "send the itinerary to dad"); SFT "within 10 points" met by D's new side (-7.5),
not by old (+12.5), with the same caveat as run B's.

    E: python benchmarks/transfer.py -n 3000 --toolrag-epochs 3 --new /tmp/wt_g3 --sft-examples 2000
           --sft-steps 80 --sft-batch-size 4 --sft-lr 5e-4 --eval-limit 40 --threads 1 --out /tmp/transfer/g4

E is D with 80 steps instead of 30 (320 of the 2,000 examples seen), on D's datasets and classifiers (copied
from D's --out; /tmp/wt_g3 is a worktree of 13235d7, whose planforge/ tree built D's new side, so both were
reused), trained and scored by 1edebbe. Loss 1.18 -> 0.24 old, 1.14 -> 0.32 new.

| | old: test | old: dev | new: test | new: dev |
|---|---:|---:|---:|---:|
| SFT plan success (40 requests) | 35.0% | 22.5% | 27.5% | 22.5% |
| SFT strict success | 15.0% | 7.5% | 22.5% | 7.5% |
| SFT validity | 27.5% | 25.0% | 22.5% | 12.5% |
| SFT tool recall | 0.764 | 0.889 | 0.623 | 0.744 |
| SFT success: single / parallel / multi | | 8/9, 0/19, 1/12 | | 5/9, 0/19, 4/12 |

Time: 3,035 s wall, 2,942 CPU s, load 0.4-1.9 (a CI run shared the cores for part of it); training 932 s old
(11.4 s/step), 1,183 s new (14.8 s/step); each 40-request evaluation 150-250 s. SFT "within 10 points": new -5.0
(met), old -12.5 (not); on dev the two are level, the new data ahead on multi-step requests and behind on single
calls, and neither solves a parallel request: still far short of one epoch.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from trainers_common import ROOT, ensure_dataset, print_figures, set_threads, smollm2

DEV = ROOT / "benchmarks" / "data" / "mac_dev.jsonl"
DEFAULT_OLD = "aef3da1^1"
DIFFICULTIES = ("single", "parallel", "multi")
SIDES = ("old", "new")
CPU_SFT_STEPS = 60
CPU_EVAL_LIMIT = 40


# --------------------------------------------------------------------------------------------------
# sources


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def describe_tree(tree: Path, spec: str) -> tuple[dict[str, Any], str]:
    """What a planforge tree is (commit, subject, dirty, changed files, diff hash; the git tree of its
    ``planforge/`` package and a hash of that package's changes, which identify the generator) and its diff text."""
    info: dict[str, Any] = {"spec": spec, "path": str(tree)}
    try:
        info["commit"] = git("rev-parse", "HEAD", cwd=tree)
    except (subprocess.CalledProcessError, FileNotFoundError):
        info["commit"] = None
        return info, ""
    info["subject"] = git("log", "-1", "--format=%s", cwd=tree)
    info["branch"] = git("rev-parse", "--abbrev-ref", "HEAD", cwd=tree)
    info["planforge_tree"] = git("rev-parse", "HEAD:planforge", cwd=tree)
    status = git("status", "--porcelain", "--untracked-files=all", cwd=tree)
    changed = [line for line in status.splitlines() if line.strip()]
    info["dirty"] = bool(changed)
    info["planforge_diff_sha256"] = None
    if not changed:
        return info, ""
    diff = git("diff", "HEAD", "--binary", cwd=tree)
    package = git("diff", "HEAD", "--binary", "--", "planforge", cwd=tree)
    for line in changed:
        if line.startswith("??"):
            name = line[3:]
            note = f"\n# untracked {name} sha256 {hashlib.sha256((tree / name).read_bytes()).hexdigest()}"
            diff += note
            package += note if name.startswith("planforge/") else ""
    info["changed_files"] = changed
    info["diff_sha256"] = hashlib.sha256(diff.encode()).hexdigest()
    info["planforge_diff_sha256"] = hashlib.sha256(package.encode()).hexdigest() if package else None
    return info, diff


@contextmanager
def source_tree(spec: str | None, scratch: Path) -> Iterator[tuple[Path, dict[str, Any], str]]:
    """A planforge tree: a folder as it is (default: this checkout), or a git ref of this repository checked
    out detached into a temporary worktree under ``scratch`` that is removed afterwards."""
    if spec is None or Path(spec).is_dir():
        tree = Path(spec).resolve() if spec else ROOT
        info, diff = describe_tree(tree, spec or "this checkout")
        yield tree, info, diff
        return
    scratch.mkdir(parents=True, exist_ok=True)
    tree = Path(tempfile.mkdtemp(prefix="old-", dir=scratch)) / "tree"
    git("worktree", "add", "--detach", str(tree), spec, cwd=ROOT)
    try:
        info, diff = describe_tree(tree, spec)
        info["path"] = f"git worktree of {spec} (removed)"
        yield tree, info, diff
    finally:
        git("worktree", "remove", "--force", str(tree), cwd=ROOT)
        tree.parent.rmdir()


def imported_from(tree: Path) -> str:
    """The planforge a ``python -m planforge`` run in ``tree`` imports (checked, so the wrong tree cannot slip in)."""
    code = "import planforge; print(planforge.__file__)"
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    found = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    if not Path(found).resolve().is_relative_to(tree.resolve()):
        sys.exit(f"{tree}: python imports planforge from {found}, not from the tree")
    return found


# --------------------------------------------------------------------------------------------------
# measurement


class Phase:
    """Wall and CPU seconds (this process and its finished children) and the load average around a phase."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = self._cpu()
        self.load = os.getloadavg()

    @staticmethod
    def _cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def done(self) -> dict[str, Any]:
        return {
            "wall_seconds": round(time.perf_counter() - self.wall, 1),
            "cpu_seconds": round(self._cpu() - self.cpu, 1),
            "load_average_start": [round(x, 2) for x in self.load],
            "load_average_end": [round(x, 2) for x in os.getloadavg()],
        }


# --------------------------------------------------------------------------------------------------
# the parts


def dataset_figures(data: Path, sft_examples: int) -> dict[str, Any]:
    """Split sizes, whether the stored prompts are what this checkout renders, and dev structure coverage."""
    from dev_coverage import coverage

    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PLANS
    from planforge.dataset.rows import row_now
    from planforge.prompting import prompt_messages

    ds = load_dataset_of_kind(data, kind=PLANS)
    train = ds["train"].select(range(min(sft_examples, len(ds["train"]))))
    same = sum(
        [{"role": m["role"], "content": m["content"]} for m in row["prompt"]]
        == prompt_messages(row["query"], now=row_now(row))
        for row in train
    )
    found = coverage(data, DEV)
    run = json.loads((data / "run.json").read_text()) if (data / "run.json").is_file() else {}
    return {
        "splits": {name: len(split) for name, split in ds.items()},
        "prompts_as_this_checkout_renders": f"{same}/{len(train)}",
        "dev_structures_covered": f"{found['structures']['covered']}/{found['structures']['total']}",
        "dev_items_covered": {k: f"{v['covered']}/{v['total']}" for k, v in found["items"].items()},
        "dataset_structures": found["dataset_structures"],
        "run_wall_seconds": run.get("wall_seconds"),
    }


RAG_KEYS = ("examples", "recall", "precision", "all_needed_selected_rate", "mean_selected", "mean_needed")
PLAN_KEYS = ("examples", "success_rate", "strict_success_rate", "validity_rate", "tool_recall", "errors_by_code")


def dev_rows() -> Any:
    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PLANS

    return load_dataset_of_kind(DEV, kind=PLANS)["test"]


def dev_misses(classifier: Path) -> dict[str, Any]:
    """Which needed functions the classifier leaves out on the dev set, and the tags of the items it fails
    (counts only, never the requests)."""
    from collections import Counter

    from planforge.trainers.toolrag import ToolRAGClassifier

    rows = dev_rows()
    tags = {item["id"]: item.get("tags", []) for item in map(json.loads, DEV.read_text(encoding="utf-8").splitlines())}
    picked = ToolRAGClassifier.load(classifier).select(list(rows["query"]))
    functions: Counter[str] = Counter()
    failed_tags: Counter[str] = Counter()
    failed = 0
    for chosen, needed, item_id in zip(picked, rows["target_tools"], rows["id"], strict=True):
        left_out = set(needed) - set(chosen)
        functions.update(left_out)
        if left_out:
            failed += 1
            failed_tags.update(tags.get(item_id, []))
    return {
        "items": failed,
        "functions_left_out": dict(functions.most_common()),
        "tags_of_those_items": dict(failed_tags.most_common()),
    }


def toolrag_part(data: Path, out: Path, args: argparse.Namespace) -> dict[str, Any]:
    from planforge.trainers.toolrag import ToolRAGClassifier, eval_toolrag, retrieval_metrics, train_toolrag
    from planforge.trainers.toolrag_config import EvalToolRAGConfig, ToolRAGConfig

    phase = Phase()
    cfg = ToolRAGConfig(
        data=str(data),
        out=str(out / "toolrag"),
        epochs=args.toolrag_epochs,
        batch_size=16,
        seed=args.seed,
        baseline=False,
        latency_requests=0,
    )
    metrics = train_toolrag(cfg)
    train_time = phase.done()
    dev = eval_toolrag(
        EvalToolRAGConfig(
            classifier=cfg.out, data=str(DEV), baseline=False, latency_requests=0, out=str(out / "toolrag_dev")
        )
    )
    rows = dev_rows()
    picked = ToolRAGClassifier.load(cfg.out).select(list(rows["query"]))
    by_difficulty = {}
    for level in DIFFICULTIES:
        at = [i for i, d in enumerate(rows["difficulty"]) if d == level]
        found = retrieval_metrics([picked[i] for i in at], [rows["target_tools"][i] for i in at])
        by_difficulty[level] = {k: found[k] for k in ("examples", "all_needed_selected_rate", "mean_selected")}
    dev_figures = {k: dev[k] for k in RAG_KEYS}
    dev_figures["by_difficulty"] = by_difficulty
    return {
        "classifier": cfg.out,
        "epochs": args.toolrag_epochs,
        "train_examples": metrics["train_examples"],
        "train_steps": metrics["train_steps"],
        "train_seconds": round(metrics["train_seconds"], 1),
        "test": {k: metrics["eval"][k] for k in RAG_KEYS},
        "dev": dev_figures,
        "time": {"train_and_test": train_time, "all": phase.done()},
    }


SWEEP = (0.5, 0.3, 0.2, 0.1, 0.05)


def threshold_sweep(classifier: Path) -> dict[str, Any]:
    """The classifier's dev-set figures at lower thresholds than its own: what recall costs in functions listed.
    A curve to read, not a choice: the dev set picks nothing."""
    from planforge.trainers.toolrag import ToolRAGClassifier, retrieval_metrics

    rows = dev_rows()
    loaded = ToolRAGClassifier.load(classifier)
    proba = loaded.predict_proba(list(rows["query"]))
    found = {}
    for threshold in SWEEP:
        got = retrieval_metrics(loaded.select_from_proba(proba, threshold), list(rows["target_tools"]))
        found[str(threshold)] = {k: got[k] for k in ("recall", "all_needed_selected_rate", "mean_selected")}
    return found


SFT_SETTINGS = (
    "toolrag_epochs",
    "sft_examples",
    "sft_steps",
    "sft_batch_size",
    "sft_grad_accum",
    "sft_lr",
    "lora_layers",
    "lora_dropout",
    "sft_prompts",
    "eval_limit",
    "eval_batch_size",
    "max_new_tokens",
    "model",
)


def once(out: Path, part: str, settings: dict[str, Any], run: Any) -> dict[str, Any]:
    """``run()``'s figures, or those of an earlier run of ``part`` on the same dataset (``out/source.json``) with
    the same ``settings`` and seed, whose files are still under ``out`` (marked ``reused``)."""
    key = {**json.loads((out / "source.json").read_text())["key"], **settings}
    record = out / f"{part}_figures.json"
    if record.is_file() and (out / part).is_dir():
        found = json.loads(record.read_text())
        if found.get("key") == key:
            return {**found["figures"], "reused": True}
    figures = run()
    made = describe_tree(ROOT, "this checkout")[0]
    figures["made_with"] = {k: made.get(k) for k in ("commit", "dirty", "planforge_tree", "planforge_diff_sha256")}
    record.write_text(json.dumps({"key": key, "figures": figures}, indent=2, default=str) + "\n")
    return figures


def sft_part(data: Path, out: Path, args: argparse.Namespace, model: str) -> dict[str, Any]:
    from planforge.trainers.evaluate import EvalPlansConfig, eval_plans
    from planforge.trainers.sft import SFTRunConfig, run_sft

    phase = Phase()
    adapter = out / "sft"
    train = run_sft(
        SFTRunConfig(
            data=str(data),
            model=model,
            out=str(adapter),
            toolrag=str(out / "toolrag") if args.sft_prompts == "toolrag" else None,
            epochs=1.0,
            max_steps=args.sft_steps,
            batch_size=args.sft_batch_size,
            grad_accum=args.sft_grad_accum,
            lr=args.sft_lr,
            lora_layers=args.lora_layers,
            lora_dropout=args.lora_dropout,
            group_by_length=True,
            seed=args.seed,
            max_examples=args.sft_examples,
            max_eval_examples=0,
        )
    )
    figures: dict[str, Any] = {
        "train_examples": train["train_examples"],
        "train_steps": train["train_steps"],
        "train_loss_first_log": train.get("train_loss_first_log"),
        "train_loss_last_log": train.get("train_loss_last_log"),
        "train_seconds": round(train["train_seconds"], 1),
        "seconds_per_step": round(train["train_seconds"] / max(train["train_steps"], 1), 1),
        "time": {"train": phase.done()},
    }
    for name, where in (("test", data), ("dev", DEV)):
        evaluated = Phase()
        result = eval_plans(
            EvalPlansConfig(
                data=str(where),
                model=model,
                adapter=str(adapter),
                max_examples=args.eval_limit,
                batch_size=args.eval_batch_size,
                max_new_tokens=args.max_new_tokens,
                seed=args.seed,
                out=str(out / f"plans_{name}"),
            )
        )
        figures[name] = {k: result[k] for k in PLAN_KEYS}
        figures[name]["toolrag_mean_selected"] = result.get("toolrag_mean_selected")
        figures["time"][f"eval_{name}"] = evaluated.done()
    figures["dev"]["by_difficulty"] = plans_by_difficulty(out / "plans_dev" / "predictions.jsonl")
    figures["dev_minus_test_points"] = round(
        100 * (figures["dev"]["success_rate"] - figures["test"]["success_rate"]), 1
    )
    figures["time"]["all"] = phase.done()
    return figures


def plans_by_difficulty(predictions: Path) -> dict[str, Any]:
    rows = dev_rows()
    level = dict(zip(rows["id"], rows["difficulty"], strict=True))
    scored = [json.loads(line) for line in predictions.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = {}
    for name in DIFFICULTIES:
        mine = [s for s in scored if level.get(s["id"]) == name]
        found[name] = {
            "examples": len(mine),
            "success_rate": sum(s["success"] for s in mine) / len(mine) if mine else None,
        }
    return found


# --------------------------------------------------------------------------------------------------
# report


def _fmt(value: Any, points: bool = False) -> str:
    if value is None:
        return "-"
    if points:
        return f"{100 * value:.1f}%"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def table(figures: dict[str, Any]) -> str:
    """old vs new, own test split vs dev set, as Markdown."""
    columns = [(side, part) for side in SIDES for part in ("test", "dev")]
    header = "| | " + " | ".join(f"{side}: {'own test' if part == 'test' else 'dev set'}" for side, part in columns)
    lines = [header + " |", "|---|" + "---:|" * len(columns)]

    def row(label: str, get: Any, points: bool = False) -> None:
        cells = []
        for side, part in columns:
            try:
                cells.append(_fmt(get(figures[side], part), points))
            except (KeyError, TypeError):
                cells.append("-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row(
        "dataset: dev structures it covers", lambda s, p: s["dataset"]["dev_structures_covered"] if p == "dev" else None
    )
    row("ToolRAG requests", lambda s, p: s["toolrag"][p]["examples"])
    row("ToolRAG recall", lambda s, p: s["toolrag"][p]["recall"])
    row("ToolRAG all needed selected", lambda s, p: s["toolrag"][p]["all_needed_selected_rate"])
    row("ToolRAG mean selected (needed)", lambda s, p: _sel(s["toolrag"][p]))
    for level in DIFFICULTIES:
        row(
            f"ToolRAG all needed, {level}",
            lambda s, p, lv=level: s["toolrag"][p]["by_difficulty"][lv]["all_needed_selected_rate"],
        )
    row(
        f"ToolRAG all needed at threshold {SWEEP[-1]} (mean selected)",
        lambda s, p: _swept(s["toolrag"][p]["threshold_sweep"][str(SWEEP[-1])]),
    )
    row("SFT requests", lambda s, p: s["sft"][p]["examples"])
    row("SFT plan success", lambda s, p: s["sft"][p]["success_rate"], points=True)
    row("SFT strict success (and valid)", lambda s, p: s["sft"][p]["strict_success_rate"], points=True)
    row("SFT validity", lambda s, p: s["sft"][p]["validity_rate"], points=True)
    row("SFT tool recall", lambda s, p: s["sft"][p]["tool_recall"])
    for level in DIFFICULTIES:
        row(
            f"SFT success, {level}",
            lambda s, p, lv=level: _n(s["sft"][p]["by_difficulty"][lv]),
        )
    return "\n".join(lines)


def _sel(found: dict[str, Any]) -> str:
    return f"{found['mean_selected']:.2f} ({found['mean_needed']:.2f})"


def _swept(found: dict[str, Any]) -> str:
    return f"{found['all_needed_selected_rate']:.3f} ({found['mean_selected']:.2f})"


def _n(found: dict[str, Any]) -> str:
    if not found["examples"]:
        return "-"
    return f"{100 * found['success_rate']:.1f}% of {found['examples']}"


def targets(figures: dict[str, Any]) -> dict[str, Any]:
    met: dict[str, Any] = {}
    for side in SIDES:
        if side not in figures:
            continue
        rag = figures[side].get("toolrag", {}).get("dev")
        if rag:
            met[f"{side}_toolrag_dev"] = rag["all_needed_selected_rate"] >= 0.98 and rag["mean_selected"] <= 4.0
        sft = figures[side].get("sft")
        if sft:
            met[f"{side}_sft_dev_within_10_points"] = abs(sft["dev_minus_test_points"]) <= 10.0
    return met


# --------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=DEFAULT_OLD, help="git ref of this repository or a planforge folder")
    parser.add_argument("--new", default=None, help="planforge folder (default: this checkout)")
    parser.add_argument("-n", type=int, default=3000, help="examples per dataset")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (both sides)")
    parser.add_argument("--out", default="/tmp/transfer/run")
    parser.add_argument("--toolrag-epochs", type=float, default=3.0)
    parser.add_argument("--skip-sft", action="store_true", help="ToolRAG only")
    parser.add_argument("--sft-examples", type=int, default=2000, help="training examples for SFT")
    parser.add_argument("--sft-steps", type=int, default=None, help=f"default: 1 epoch on GPU, {CPU_SFT_STEPS} on CPU")
    parser.add_argument("--sft-batch-size", type=int, default=8)
    parser.add_argument("--sft-grad-accum", type=int, default=1)
    parser.add_argument("--sft-lr", type=float, default=2e-4)
    parser.add_argument("--lora-layers", type=int, default=15, help="adapt the last N of SmolLM2's 30 layers")
    parser.add_argument("--lora-dropout", type=float, default=0.0)
    parser.add_argument("--sft-prompts", choices=("toolrag", "offered"), default="toolrag")
    parser.add_argument("--eval-limit", type=int, default=None, help=f"default: all on GPU, {CPU_EVAL_LIMIT} on CPU")
    parser.add_argument("--eval-batch-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--model", default=None, help="SFT base model (default: SmolLM2-135M-Instruct GGUF)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    # a killed run (SIGTERM) still removes its temporary worktree and stops its generator
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    set_threads(args.threads)
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.sft_steps is None:
        args.sft_steps = -1 if device == "cuda" else CPU_SFT_STEPS
    if args.eval_limit is None and device == "cpu":
        args.eval_limit = CPU_EVAL_LIMIT
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = Phase()
    figures: dict[str, Any] = {
        "command": " ".join(["python", "benchmarks/transfer.py", *sys.argv[1:]]),
        "trained_and_evaluated_with": describe_tree(ROOT, "this checkout")[0],
        "device": device if device == "cpu" else f"cuda ({torch.cuda.get_device_name()})",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "settings": {k: v for k, v in vars(args).items() if k not in ("old", "new", "out")},
        "dev_set": str(DEV.relative_to(ROOT)),
    }

    def save() -> None:
        figures["targets_met"] = targets(figures)
        (out / "figures.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")

    model = None if args.skip_sft else (args.model or smollm2())
    figures["sft_model"] = model
    # one side after the other, so the new side's dataset is built as late as the run allows
    for side, spec in (("old", args.old), ("new", args.new)):
        side_out = out / side
        with source_tree(spec, out / "scratch") as (tree, info, diff):
            info["planforge_imported_from"] = imported_from(tree)
            side_out.mkdir(exist_ok=True)
            data = build(side_out, tree, info, diff, args)
            figures[side] = {"source": info}
        figures[side]["dataset"] = dataset_figures(data, args.sft_examples)
        figures[side]["dataset"]["time"] = info.pop("generate_time", None)
        save()
        settings = {"epochs": args.toolrag_epochs, "seed": args.seed}
        figures[side]["toolrag"] = once(side_out, "toolrag", settings, partial(toolrag_part, data, side_out, args))
        figures[side]["toolrag"]["dev"]["threshold_sweep"] = threshold_sweep(side_out / "toolrag")
        figures[side]["toolrag"]["dev"]["missed"] = dev_misses(side_out / "toolrag")
        save()
        if model:
            settings = {k: getattr(args, k) for k in SFT_SETTINGS} | {
                "seed": args.seed,
                "device": device,
                "model": model,
            }
            figures[side]["sft"] = once(side_out, "sft", settings, partial(sft_part, data, side_out, args, model))
            save()
    figures["time"] = started.done()
    save()
    rendered = table(figures)
    (out / "table.md").write_text(rendered + "\n")
    print_figures("Transfer: old vs new template teacher", figures)
    print(rendered)
    print(f"\ntargets met: {figures['targets_met']}\nfigures: {out / 'figures.json'}")


def build(side_out: Path, tree: Path, info: dict[str, Any], diff: str, args: argparse.Namespace) -> Path:
    """The side's dataset, built from ``tree`` (or reused when built from the same source and settings)."""
    data = side_out / "data"
    key = {k: info.get(k) for k in ("planforge_tree", "planforge_diff_sha256")} | {"n": args.n, "seed": args.seed}
    record = side_out / "source.json"
    if (data / "dataset_dict.json").is_file():
        if not record.is_file() or json.loads(record.read_text()).get("key") != key:
            sys.exit(f"{data} was built from another source or with other settings: use a fresh --out")
        info["reused_dataset"] = True
        return data
    if diff:
        (side_out / "source.diff").write_text(diff)
    phase = Phase()
    ensure_dataset(data, args.n, teacher="template", seed=args.seed, source=tree)
    info["generate_time"] = phase.done()
    record.write_text(json.dumps({"key": key, "source": info}, indent=2, default=str) + "\n")
    return data


if __name__ == "__main__":
    main()
