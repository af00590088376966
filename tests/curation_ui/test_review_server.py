"""The review loop against a real Argilla server (scripts/argilla-local.sh): push pairs, two annotators answer
through the web UI's REST paths (agreement, a disagreement, corrected plans, a draft), status, pull, and the
exported dataset checked row by row. Errors are one line and leave nothing behind."""

from __future__ import annotations

import json
import uuid

import argilla as rg
import datasets
import pytest

from planforge.curation_ui.argilla_settings import A_IS, a_is_chosen, from_canonical
from planforge.dataset.features import REVIEWED_FEATURES

from .annotators import Annotator

pytestmark = pytest.mark.integration

PASSWORD = "annot-pass-123"
BAD_FIX = "1. launch_rockets()\n2. join()"


@pytest.fixture(scope="module")
def review(argilla_server, gen, plans_dir, tmp_path_factory):
    """Pairs pushed to a fresh workspace, two annotators in it; everything deleted afterwards."""
    tag = uuid.uuid4().hex[:8]
    env = {"ARGILLA_API_URL": argilla_server.api_url, "ARGILLA_API_KEY": argilla_server.api_key}
    pairs_dir = tmp_path_factory.mktemp("review") / "pairs"
    assert gen("pairs", plans_dir, "--out", pairs_dir, "--rejected", "corruptions").exit_code == 0
    client = rg.Argilla(api_url=argilla_server.api_url, api_key=argilla_server.api_key)
    state = {
        "tag": tag,
        "env": env,
        "pairs_dir": pairs_dir,
        "workspace": f"pf-review-{tag}",
        "dataset": f"pairs-{tag}",
        "client": client,
        "users": [],
    }
    try:
        yield state
    finally:  # best effort, also after a failure
        ws = client.workspaces(state["workspace"])
        if ws is not None:
            for ds in ws.datasets:
                ds.delete()
        for user in state["users"]:
            user.delete()
        if ws is not None:
            ws.delete()


def _pairs(review) -> list[tuple[str, dict]]:
    loaded = datasets.load_from_disk(str(review["pairs_dir"]))
    return sorted(((split, row) for split, rows in loaded.items() for row in rows), key=lambda sr: sr[1]["id"])


def test_push_creates_the_dataset_and_a_second_push_updates_without_duplicates(review, gen):
    args = ("review", "push", review["pairs_dir"], "--dataset", review["dataset"], "--workspace", review["workspace"])
    first = gen(*args, "--min-submitted", "2", "--suggestions", env=review["env"])
    assert first.exit_code == 0, first.output
    assert f"created {review['workspace']}/{review['dataset']}: 40 pairs pushed (40 new, 0 updated)" in first.stdout
    again = gen(*args, env=review["env"])
    assert again.exit_code == 0, again.output
    assert "40 pairs pushed (0 new, 40 updated), 40 records, min_submitted 2" in again.stdout

    dataset = review["client"].datasets(review["dataset"], workspace=review["workspace"])
    assert [f.name for f in dataset.settings.fields] == ["request", "plans", "functions"]
    assert [q.name for q in dataset.settings.questions] == ["correct", "error_kinds", "corrected_plan"]
    assert dataset.settings.distribution.min_submitted == 2
    hidden = {m.name: m.visible_for_annotators for m in dataset.settings.metadata}
    assert hidden == {
        "tool_count": True,
        "rejection_kind": False,
        "rejection_source": False,
        "split": False,
        A_IS: False,
    }
    records = {r.id: r for r in dataset.records(with_suggestions=True)}
    pairs = dict((row["id"], row) for _, row in _pairs(review))
    assert set(records) == set(pairs)  # one record per pair, no duplicates
    sides = {r.metadata[A_IS] for r in records.values()}
    assert sides == {"chosen", "rejected"}  # A is not always the chosen plan
    for pid, record in records.items():
        chosen_on_a = a_is_chosen(pid)
        assert record.metadata[A_IS] == ("chosen" if chosen_on_a else "rejected")
        first_line = pairs[pid]["chosen"][0]["content"].splitlines()[0].split("(")[0]
        assert record.fields["plans"]["a" if chosen_on_a else "b"][0]["text"].startswith(first_line)
        assert record.fields["functions"]["count"] == len(pairs[pid]["tools"])
        assert record.metadata["rejection_kind"] == pairs[pid]["rejection_kind"]
        assert json.loads(record.metadata["pair"])["id"] == pid
        suggested = {s.question_name: s.value for s in record.suggestions}
        if pairs[pid]["rejected_valid"]:  # both plans pass: the validators cannot know, so they say nothing
            assert "correct" not in suggested
        else:
            assert suggested["correct"] == from_canonical("chosen", chosen_on_a)


def _annotate(review, argilla_server) -> dict:
    """Two annotators answer (see the plan in the asserts of the test below); returns the chosen pair ids."""
    client = review["client"]
    ws = client.workspaces(review["workspace"])
    for name in ("ann", "bob"):
        user = rg.User(username=f"{name}-{review['tag']}", password=PASSWORD, role="annotator", client=client)
        user = user.create()
        user.add_to_workspace(ws)
        review["users"].append(user)
    ann, bob = (u.username for u in review["users"])
    pairs = _pairs(review)
    invalid = [row for _, row in pairs if not row["rejected_valid"]]
    valid = [row for _, row in pairs if row["rejected_valid"]]
    assert len(invalid) >= 24 and valid, "need both invalid and valid-but-different rejected plans"
    plan = {
        "agree": invalid[:20],
        "disputed": invalid[20],
        "corrected": invalid[21],
        "rejected_invalid": invalid[22],
        "swapped": valid[0],
        "single": invalid[23],
    }
    plan["draft"] = next(row for _, row in pairs if row["id"] not in {r["id"] for r in _flat(plan)})
    dataset = client.datasets(review["dataset"], workspace=review["workspace"])

    def letter(row, verdict):
        return from_canonical(verdict, a_is_chosen(row["id"]))

    with Annotator(argilla_server.api_url, ann, PASSWORD) as a, Annotator(argilla_server.api_url, bob, PASSWORD) as b:
        queue_a, queue_b = a.queue(dataset.id), b.queue(dataset.id)
        assert len(queue_a) == len(queue_b) == 40
        for row in plan["agree"]:
            kinds = [row["rejection_kind"]]
            a.answer(queue_a[row["id"]], correct=letter(row, "chosen"), error_kinds=kinds)
            b.answer(queue_b[row["id"]], correct=letter(row, "chosen"), error_kinds=kinds)
        row = plan["disputed"]
        a.answer(queue_a[row["id"]], correct=letter(row, "chosen"))
        b.answer(queue_b[row["id"]], correct="both")
        row = plan["corrected"]
        good_fix = row["chosen"][0]["content"].rsplit("\n", 1)[0]  # the right plan without its join() line
        a.answer(queue_a[row["id"]], correct="neither", error_kinds=["other"], corrected_plan=good_fix)
        b.answer(queue_b[row["id"]], correct="neither", corrected_plan=BAD_FIX)
        for key in ("rejected_invalid", "swapped"):
            row = plan[key]
            a.answer(queue_a[row["id"]], correct=letter(row, "rejected"))
            b.answer(queue_b[row["id"]], correct=letter(row, "rejected"))
        a.answer(queue_a[plan["single"]["id"]], correct=letter(plan["single"], "chosen"))
        b.answer(queue_b[plan["draft"]["id"]], status="draft", correct="A")
    return plan


def _flat(plan: dict) -> list[dict]:
    return [r for v in plan.values() for r in (v if isinstance(v, list) else [v])]


def test_annotate_status_and_pull(review, gen, argilla_server, tmp_path):
    plan = _annotate(review, argilla_server)
    ann, bob = (u.username for u in review["users"])
    env = review["env"]
    where = ("--dataset", review["dataset"], "--workspace", review["workspace"])

    status = gen("review", "status", *where, "--json", env=env)
    assert status.exit_code == 0, status.output
    progress = json.loads(status.stdout)
    assert progress["total"] == 40 and progress["min_submitted"] == 2
    assert progress["users"][ann] == {"submitted": 25, "draft": 0, "discarded": 0}
    assert progress["users"][bob] == {"submitted": 24, "draft": 1, "discarded": 0}
    assert progress["completed"] == 24  # records two annotators submitted
    table = gen("review", "status", *where, env=env)
    assert table.exit_code == 0 and ann in table.stdout and "24/40 records completed" in " ".join(table.stdout.split())

    # Pushing again after the reviews keeps them.
    repush = gen("review", "push", review["pairs_dir"], *where, env=env)
    assert repush.exit_code == 0 and "(0 new, 40 updated)" in repush.stdout

    out = tmp_path / "reviewed"
    pulled = gen("review", "pull", *where, "--out", out, env=env)
    assert pulled.exit_code == 0, pulled.output
    assert "wrote" in pulled.stdout and "23 reviewed pairs" in pulled.stdout
    exported = datasets.load_from_disk(str(out))
    assert all(split.features == REVIEWED_FEATURES for split in exported.values())
    splits = {row["id"]: split for split, row in _pairs(review)}
    rows = {row["id"]: (split, row) for split, part in exported.items() for row in part}
    expected = {r["id"] for r in plan["agree"]} | {plan[k]["id"] for k in ("corrected", "swapped", "single")}
    assert set(rows) == expected

    for pair in plan["agree"]:
        split, row = rows[pair["id"]]
        assert split == splits[pair["id"]]
        assert row["chosen"] == pair["chosen"] and row["rejected"] == pair["rejected"]  # A/B mapped back
        assert (row["verdict"], row["annotators"], row["agreed"], row["agreed_by"]) == ("chosen", 2, 2, [ann, bob])
        assert row["error_kinds"] == [pair["rejection_kind"]]
        assert not row["corrected"] and not row["swapped"]
        assert row["prompt"] == pair["prompt"] and row["tools"] == pair["tools"]

    pair = plan["corrected"]
    _, row = rows[pair["id"]]
    assert row["verdict"] == "neither" and row["corrected"] and row["corrected_by"] == ann
    assert row["chosen"][0]["content"] == pair["chosen"][0]["content"]  # the correction, join() added back
    assert row["rejected"] == pair["rejected"] and row["chosen_valid"]

    pair = plan["swapped"]
    _, row = rows[pair["id"]]
    assert row["verdict"] == "rejected" and row["swapped"] and not row["corrected"]
    assert row["chosen"][0]["content"] == pair["rejected"][0]["content"]
    assert row["rejected"] == pair["chosen"]

    _, row = rows[plan["single"]["id"]]
    assert (row["annotators"], row["agreed"], row["agreed_by"]) == (1, 1, [ann])

    report = json.loads((out / "review_report.json").read_text())
    assert report["records"] == 40 and report["reviewed"] == 25 and report["unreviewed"] == 15
    assert report["verdicts"] == {"chosen": 21, "rejected": 2, "both": 0, "neither": 1, "disputed": 1}
    assert report["total_exported"] == 23
    assert report["not_exported"] == {"disputed": 1, "rejected_plan_invalid": 1}
    assert report["corrections"] == {"submitted": 2, "valid": 1, "invalid": 1, "used": 1}
    (invalid,) = report["invalid_corrections"]
    assert invalid["user"] == bob and invalid["pair_id"] == plan["corrected"]["id"]
    assert "launch_rockets" in invalid["errors"][0]
    # Cohen's kappa by hand over the 24 records both answered: ann chosen 21 / neither 1 / rejected 2, bob
    # chosen 20 / both 1 / neither 1 / rejected 2; p_o = 23/24, p_e = (21*20 + 1 + 4)/576 -> 127/151.
    assert report["agreement"]["method"] == "cohen_kappa" and report["agreement"]["items"] == 24
    assert report["agreement"]["value"] == pytest.approx(127 / 151, abs=1e-4)
    assert report["annotators"] == {ann: 25, bob: 24}
    assert sum(report["error_kinds"].values()) == 41  # 20 x 2 agreeing + "other"
    markdown = (out / "review_report.md").read_text()
    assert "Cohen's kappa 0.841" in markdown and "invalid correction by " + bob in markdown

    from planforge.dataset.disk import load_dataset_of_kind
    from planforge.dataset.features import PAIRS, REVIEWED_PAIRS, kind_of
    from planforge.trainers.prompts import PAIR_COLUMNS

    assert kind_of(exported["train"].column_names) == REVIEWED_PAIRS
    assert load_dataset_of_kind(out, kind=PAIRS, columns=PAIR_COLUMNS)  # what `gen train dpo` accepts

    again = gen("review", "pull", *where, "--out", out, env=env)
    assert again.exit_code == 2 and "is not empty (pass --overwrite" in again.stderr

    # --min-annotators 2: the pair only ann answered waits for a later pull.
    two = gen("review", "pull", *where, "--out", out, "--overwrite", "--min-annotators", "2", env=env)
    assert two.exit_code == 0, two.output
    strict = json.loads((out / "review_report.json").read_text())
    assert strict["reviewed"] == 24 and strict["waiting_for_annotators"] == 1 and strict["total_exported"] == 22
    kept = {row["id"] for part in datasets.load_from_disk(str(out)).values() for row in part}
    assert kept == expected - {plan["single"]["id"]}
    assert "1 more pairs have answers from fewer than 2 annotators" in (out / "review_report.md").read_text()
    none_yet = gen("review", "pull", *where, "--out", tmp_path / "none", "--min-annotators", "3", env=env)
    assert none_yet.exit_code == 2 and "25 have fewer than 3 annotators so far" in " ".join(none_yet.stderr.split())


def test_errors_are_one_line_and_write_nothing(review, gen, argilla_server, tmp_path):
    env = review["env"]
    out = tmp_path / "out"

    def error(*args, env=env) -> str:
        result = gen(*args, env=env)
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith("error: ") and "Traceback" not in result.output
        assert len(result.stderr.strip().splitlines()) <= 2  # one line (wrapped at most once by the terminal)
        return " ".join(result.stderr.split())

    dead = {"ARGILLA_API_URL": "http://127.0.0.1:9", "ARGILLA_API_KEY": "x"}
    assert "cannot reach Argilla at http://127.0.0.1:9" in error("review", "pull", "-d", "x", "--out", out, env=dead)
    wrong_key = {**env, "ARGILLA_API_KEY": "not-the-key"}
    assert "rejected the API key (HTTP 401)" in error("review", "status", "-d", review["dataset"], env=wrong_key)
    assert "rejected the API key" in error("review", "push", review["pairs_dir"], "-d", "x", env=wrong_key)
    no_url = {"ARGILLA_API_URL": "", "ARGILLA_API_KEY": ""}
    assert "set ARGILLA_API_URL" in error("review", "status", "-d", "x", env=no_url)
    missing = f"missing-{review['tag']}"
    assert f"no dataset '{missing}' in any workspace" in error("review", "pull", "-d", missing, "--out", out)
    assert "no dataset" in error("review", "status", "-d", missing, "-w", review["workspace"])
    assert "no workspace 'nowhere" in error("review", "status", "-d", missing, "-w", f"nowhere-{review['tag']}")
    assert not out.exists() and not list(tmp_path.glob(".out.*"))

    # A dataset of the same name that is not a review dataset is never written to.
    client = review["client"]
    ws = client.workspaces(review["workspace"])
    settings = rg.Settings(fields=[rg.TextField(name="text")], questions=[rg.TextQuestion(name="note")])
    rg.Dataset(name=f"foreign-{review['tag']}", workspace=ws, settings=settings, client=client).create()
    foreign = error("review", "push", review["pairs_dir"], "-d", f"foreign-{review['tag']}", "-w", review["workspace"])
    assert "is not a planforge review dataset (no field request" in foreign

    assert "not a dataset saved with save_to_disk" in error("review", "push", tmp_path, "-d", "x")
    assert "no such pairs directory" in error("review", "push", tmp_path / "none", "-d", "x")
