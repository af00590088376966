"""The append-only checkpoint of a run: one line per finished request, in request order.

Lines are JSON. The header holds what every row of the run shares (the recipe's functions, the teacher, the
model, the planner instructions), once; a request's line holds its counters and, when it accepted examples,
the offered function names, its "now" and each example's compact record
(:data:`~planforge.dataset.rows.ExampleRecord`), so a row is rebuilt at write time and a line is about a
kilobyte per example. A line is written whole and flushed: after Ctrl-C or kill -9 the file holds every
finished request, and on resume a torn last line is dropped and the run continues after the last request.
Batch lines (``kind: batch``) record the provider batches a run submitted (each by its tag before the provider
creates it, then by its id), so a resumed run polls them instead of paying again."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from planforge.errors import CheckpointError

CHECKPOINT_NAME = "checkpoint.jsonl"
FORMAT = 2
FSYNC_EVERY_SECONDS = 2.0


@dataclass
class ResumeState:
    next_seq: int = 0
    rows: int = 0
    queries: list[str] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)  # per finished request
    batches: list[dict[str, Any]] = field(default_factory=list)  # batch lines, in order


@dataclass(frozen=True)
class RequestRecord:
    """One finished request as the checkpoint holds it."""

    seq: int
    counters: dict[str, Any]
    offered: list[str]
    now: str
    examples: list[list[Any]]  # ExampleRecord lists

    @property
    def request_id(self) -> str:
        return f"r{self.seq:07d}"


def differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    """What changed between the checkpoint's run and this one, in words."""
    was, now = old.get("fingerprint") or {}, new.get("fingerprint") or {}
    changed = [
        f"{key.replace('_', ' ')} {_short(was.get(key))}, now {_short(now.get(key))}"
        for key in sorted(set(was) | set(now))
        if was.get(key) != now.get(key)
    ]
    detail = "; ".join(changed) if was and changed else "which ones is not recorded in the checkpoint"
    return f"the checkpoint was made with other settings ({detail}). Run with --overwrite to start over"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:39] + "…"


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(bytes so far, record) for each whole, readable line; stops at a torn or unreadable one."""
    position = 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                return  # torn by a kill in the middle of a write
            try:
                record = json.loads(raw)
            except ValueError:
                return
            position += len(raw)
            yield position, record


class Checkpoint:
    def __init__(self, path: Path):
        self.path = path
        self._file = None
        self._last_sync = 0.0

    @classmethod
    def in_dir(cls, out: Path) -> Checkpoint:
        return cls(out / CHECKPOINT_NAME)

    def exists(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def start(self, header: dict[str, Any]) -> None:
        """Begin a new checkpoint (replacing any old one)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
        self._write({"kind": "header", "format": FORMAT, **header})
        self._sync(force=True)

    def header(self) -> dict[str, Any]:
        for _, record in _lines(self.path):
            if record.get("kind") != "header":
                break
            if record.get("format") != FORMAT:
                raise CheckpointError(
                    f"{self.path}: a checkpoint of an older planforge; run with --overwrite to start over"
                )
            return record
        raise CheckpointError(f"{self.path}: not a planforge checkpoint")

    def resume(self, header: dict[str, Any]) -> ResumeState:
        """Read what finished requests left and reopen for appending."""
        found = self.header()
        if found.get("config_hash") != header.get("config_hash"):
            raise CheckpointError(f"{self.path}: --resume refused: {differences(found, header)}")
        state = ResumeState()
        good_bytes = 0
        for position, record in _lines(self.path):
            good_bytes = position
            kind = record.get("kind")
            if kind == "request":
                state.counters.append(record["counters"])
                state.next_seq = record["seq"] + 1
                for example in record.get("examples", ()):
                    state.queries.append(example[1])
                state.rows += len(record.get("examples", ()))
            elif kind == "batch":
                state.batches.append(record)
        with self.path.open("r+b") as handle:  # drop a torn last line
            handle.truncate(good_bytes)
        self._file = self.path.open("a", encoding="utf-8")
        return state

    def record_request(
        self,
        seq: int,
        examples: list[Any],
        counters: dict[str, Any],
        *,
        offered: list[str] | None = None,
        now: str | None = None,
    ) -> None:
        record: dict[str, Any] = {"kind": "request", "seq": seq, "counters": counters}
        if examples:
            record.update(offered=offered or [], now=now or "", examples=[list(e) for e in examples])
        self._write(record)
        self._sync()

    def record_batch(self, entry: dict[str, Any]) -> None:
        """A provider batch's state (creating, submitted, finished), synced at once: a ``creating`` line is on
        disk before the provider is asked to create the batch. Read back on resume."""
        self._write({"kind": "batch", **entry})
        self._sync(force=True)

    def close(self) -> None:
        if self._file is not None:
            self._sync(force=True)
            self._file.close()
            self._file = None

    def requests(self) -> Iterator[RequestRecord]:
        """Finished requests, in order."""
        for _, record in _lines(self.path):
            if record.get("kind") == "request":
                yield RequestRecord(
                    record["seq"],
                    record["counters"],
                    record.get("offered", []),
                    record.get("now", ""),
                    record.get("examples", []),
                )

    def rows_meta(self) -> dict[str, Any]:
        """What the run's rows share (functions, teacher, model, recipe, instructions), from the header."""
        return self.header()["rows"]

    def _write(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def _sync(self, force: bool = False) -> None:
        assert self._file is not None
        self._file.flush()  # in the kernel: survives kill -9
        now = time.monotonic()
        if force or now - self._last_sync > FSYNC_EVERY_SECONDS:
            os.fsync(self._file.fileno())  # on disk: survives a power cut, at most a few seconds lost
            self._last_sync = now


class BatchLog:
    """The checkpoint as the journal of a run's provider batches (:class:`planforge.llms.batch.BatchJournal`)."""

    def __init__(self, checkpoint: Checkpoint, entries: list[dict[str, Any]]):
        self.checkpoint = checkpoint
        self._entries = [{k: v for k, v in e.items() if k != "kind"} for e in entries]

    def record(self, entry: dict[str, Any]) -> None:
        self.checkpoint.record_batch(entry)
        self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        return list(self._entries)
