"""The append-only checkpoint: one line per finished request, resumed after a torn line."""

import json

import pytest

from planforge.errors import CheckpointError
from planforge.generator.checkpoint import Checkpoint


def record(query: str) -> list:
    return [f"ex-{query}", query, "1. f()\n2. join()", '[{"name": "f", "arguments": {}}]', ["f"]]


def test_checkpoint_resume_drops_a_torn_line(tmp_path):
    header = {"config_hash": "abc", "rows": {}}
    checkpoint = Checkpoint(tmp_path / "checkpoint.jsonl")
    checkpoint.start(header)
    checkpoint.record_request(0, [record("a"), record("b")], {"requests": 1, "accepted": 2}, offered=["f"], now="n")
    checkpoint.record_request(1, [], {"requests": 1, "failed_requests": 1})
    checkpoint.record_batch({"id": "batch_1", "status": "submitted"})
    checkpoint.close()
    with checkpoint.path.open("a") as handle:  # request 2 died mid-line
        handle.write('{"kind": "request", "seq": 2, "coun')
    state = checkpoint.resume(header)
    assert (state.next_seq, state.rows, state.queries) == (2, 2, ["a", "b"])
    assert [b["id"] for b in state.batches] == ["batch_1"]
    checkpoint.record_request(2, [record("d")], {"requests": 1, "accepted": 1}, offered=["f"], now="n")
    checkpoint.close()
    requests = list(checkpoint.requests())
    assert [r.seq for r in requests] == [0, 1, 2]
    assert [e[1] for r in requests for e in r.examples] == ["a", "b", "d"]
    assert requests[0].offered == ["f"] and requests[1].offered == [] and requests[2].request_id == "r0000002"
    with pytest.raises(CheckpointError, match="made with other settings"):
        Checkpoint(checkpoint.path).resume({"config_hash": "other"})


def test_a_checkpoint_of_the_old_format_is_refused_in_one_line(tmp_path):
    path = tmp_path / "checkpoint.jsonl"
    path.write_text(json.dumps({"kind": "header", "config_hash": "abc"}) + "\n")
    with pytest.raises(CheckpointError, match="older planforge; run with --overwrite"):
        Checkpoint(path).resume({"config_hash": "abc"})
