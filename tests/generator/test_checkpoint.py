"""The append-only checkpoint: resume after a torn line or an unfinished request."""

import json

import pytest

from planforge.errors import CheckpointError
from planforge.generator.checkpoint import Checkpoint


def test_checkpoint_resume_drops_torn_lines_and_unfinished_requests(tmp_path):
    header = {"config_hash": "abc"}
    checkpoint = Checkpoint(tmp_path / "checkpoint.jsonl")
    checkpoint.start(header)
    checkpoint.record_request(0, [{"query": "a"}, {"query": "b"}], {"requests": 1, "accepted": 2})
    checkpoint.record_request(1, [], {"requests": 1, "failed_requests": 1})
    checkpoint.close()
    with checkpoint.path.open("a") as handle:  # request 2 died after one example, mid-line
        handle.write(json.dumps({"kind": "example", "seq": 2, "row": {"query": "c"}}) + "\n")
        handle.write('{"kind": "exa')
    state = checkpoint.resume(header)
    assert (state.next_seq, state.rows, state.queries) == (2, 2, ["a", "b"])
    checkpoint.record_request(2, [{"query": "d"}], {"requests": 1, "accepted": 1})
    checkpoint.close()
    assert [r["query"] for r in checkpoint.rows()] == ["a", "b", "d"]
    with pytest.raises(CheckpointError, match="made with other settings"):
        Checkpoint(checkpoint.path).resume({"config_hash": "other"})
