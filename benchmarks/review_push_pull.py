"""Time to push and to pull N preference pairs against a real Argilla server (default: the local stack).

1. ``gen run`` (template teacher) -> N examples -> ``gen pairs`` (corruptions) -> N pairs;
2. push to a fresh dataset (create + N records), then push again (N upserts: the re-push path);
3. two annotators' responses for every record, logged in bulk by the owner (setup, timed apart: the web UI path
   is one POST per answer and is exercised by the tests);
4. pull: read every reviewed record, resolve, re-validate, write the DatasetDict and the report.

Both the library calls (in process) and the CLI (a fresh ``python`` process, imports included) are timed.
Everything it creates on the server is deleted at the end.

    eval "$(bash scripts/argilla-local.sh start)"
    python benchmarks/review_push_pull.py [--pairs 1000] [--repeat 1] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "from planforge.curation_ui.cli import review_app; review_app()"


def make_pairs(n: int, folder: Path) -> Path:
    from typer.testing import CliRunner

    from planforge.cli import app
    from planforge.dataset.disk import load_saved_dataset as load_plans
    from planforge.dataset.disk import save_dataset
    from planforge.pairs.builder import PairsConfig, build_pairs

    plans = folder / "plans"
    args = ["run", "recipe", "mac_assistant", "--out", str(plans), "-n", str(n), "--teacher", "template", "--no-cache"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    pairs, stats = build_pairs(load_plans(str(plans)), PairsConfig(rejected="corruptions"))
    assert stats.to_dict()["total_pairs"] == n, stats.to_dict()
    out = folder / "pairs"
    save_dataset(pairs, out)
    return out


def add_responses(client, dataset_name: str, workspace: str, users: list, seed: int = 0) -> int:
    """Every record answered by both users (the second disagrees on about 10%), logged in bulk."""
    import argilla as rg

    from planforge.curation_ui.argilla_settings import A_IS, from_canonical
    from planforge.curation_ui.push import quiet_sdk_bars

    rng = random.Random(seed)
    dataset = client.datasets(dataset_name, workspace=workspace)
    records = list(dataset.records(with_suggestions=False, with_responses=False))
    for record in records:
        a_chosen = record.metadata[A_IS] == "chosen"
        for i, user in enumerate(users):
            verdict = "both" if i == 1 and rng.random() < 0.1 else "chosen"
            record.responses.add(
                rg.Response("correct", from_canonical(verdict, a_chosen), user_id=user.id, status="submitted")
            )
            kind = record.metadata["rejection_kind"]
            record.responses.add(rg.Response("error_kinds", [kind], user_id=user.id, status="submitted"))
    with quiet_sdk_bars():
        dataset.records.log(records, batch_size=250)
    return len(records)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--api-url", default=os.environ.get("ARGILLA_API_URL", "http://127.0.0.1:6900"))
    parser.add_argument("--api-key", default=os.environ.get("ARGILLA_API_KEY", "argilla.apikey"))
    parser.add_argument("--out", type=Path, help="also write the results (JSON) here")
    args = parser.parse_args()

    import argilla as rg

    from planforge.curation_ui.connection import connect
    from planforge.curation_ui.pull import pull_reviews, report_markdown
    from planforge.curation_ui.push import load_pairs, push_pairs
    from planforge.dataset.disk import atomic_dir, save_dataset

    tag = uuid.uuid4().hex[:8]
    workspace, name = f"pf-bench-{tag}", f"bench-{tag}"
    env = {**os.environ, "ARGILLA_API_URL": args.api_url, "ARGILLA_API_KEY": args.api_key, "PYTHONPATH": str(ROOT)}
    results: dict = {
        "pairs": args.pairs,
        "api_url": args.api_url,
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
    }
    client = connect(args.api_url, args.api_key)
    users = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        pairs_dir = make_pairs(args.pairs, folder)
        results["make_pairs_s"] = round(time.perf_counter() - t, 2)
        pairs = load_pairs(str(pairs_dir))
        try:
            t = time.perf_counter()
            first = push_pairs(client, pairs, name, workspace=workspace, min_submitted=2)
            results["push_new_s"] = round(time.perf_counter() - t, 2)
            assert (first.created, first.new, first.total) == (True, args.pairs, args.pairs), first
            t = time.perf_counter()
            again = push_pairs(client, pairs, name, workspace=workspace)
            results["push_update_s"] = round(time.perf_counter() - t, 2)
            assert (again.new, again.updated, again.total) == (0, args.pairs, args.pairs), again

            ws = client.workspaces(workspace)
            for who in ("ann", "bob"):
                user = rg.User(username=f"{who}-{tag}", password="bench-pass-123", role="annotator", client=client)
                users.append(user.create())
                user.add_to_workspace(ws)
            t = time.perf_counter()
            answered = add_responses(client, name, workspace, users)
            results["responses_setup_s"] = round(time.perf_counter() - t, 2)
            assert answered == args.pairs

            t = time.perf_counter()
            pulled = pull_reviews(client, name, workspace=workspace)
            with atomic_dir(folder / "reviewed") as out:
                save_dataset(pulled.dataset, out)
                (out / "review_report.json").write_text(json.dumps(pulled.report))
                (out / "review_report.md").write_text(report_markdown(pulled.report))
            results["pull_s"] = round(time.perf_counter() - t, 2)
            report = pulled.report
            assert report["reviewed"] == args.pairs, report["reviewed"]
            results["pull_report"] = {k: report[k] for k in ("verdicts", "total_exported", "agreement")}

            # The CLI, as a user runs it: a fresh process, imports and connection check included.
            cli = [sys.executable, "-c", CLI]
            t = time.perf_counter()
            proc = subprocess.run(
                [*cli, "push", str(pairs_dir), "-d", name, "-w", workspace],
                env=env,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results["cli_push_update_s"] = round(time.perf_counter() - t, 2)
            assert proc.returncode == 0, proc.stderr
            t = time.perf_counter()
            proc = subprocess.run(
                [*cli, "pull", "-d", name, "-w", workspace, "--out", str(folder / "cli-reviewed")],
                env=env,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results["cli_pull_s"] = round(time.perf_counter() - t, 2)
            assert proc.returncode == 0, proc.stderr
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", "import planforge.curation_ui.cli, argilla, datasets"],
                env=env,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            results["cli_import_overhead_s"] = round(time.perf_counter() - t, 2)
        finally:
            ws = client.workspaces(workspace)
            if ws is not None:
                for dataset in ws.datasets:
                    dataset.delete()
            for user in users:
                user.delete()
            if ws is not None:
                ws.delete()
    results["load_average_at_end"] = os.getloadavg()
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
