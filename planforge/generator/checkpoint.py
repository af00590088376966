"""The append-only checkpoint of a run: accepted example rows and a marker per finished request.

Lines are JSON. A request's examples are written before its ``done`` marker and flushed with it, so
after Ctrl-C or kill -9 the file holds every finished request whole; on resume, a torn last line and
the examples of an unfinished request are dropped, and the run continues after the last marker."""

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
FSYNC_EVERY_SECONDS = 2.0


@dataclass
class ResumeState:
    next_seq: int = 0
    rows: int = 0
    queries: list[str] = field(default_factory=list)
    counters: list[dict[str, Any]] = field(default_factory=list)  # per finished request


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
        self._write({"kind": "header", **header})
        self._sync(force=True)

    def resume(self, header: dict[str, Any]) -> ResumeState:
        """Read what finished requests left and reopen for appending."""
        state = ResumeState()
        good_bytes = 0
        finished_bytes = 0
        pending_queries: list[str] = []
        pending_rows = 0
        with self.path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    break  # torn by a kill in the middle of a write
                try:
                    record = json.loads(raw)
                except ValueError:
                    break
                good_bytes += len(raw)
                kind = record.get("kind")
                if number == 1:
                    if kind != "header":
                        raise CheckpointError(f"{self.path}: not a planforge checkpoint")
                    if record.get("config_hash") != header.get("config_hash"):
                        raise CheckpointError(f"{self.path}: --resume refused: {differences(record, header)}")
                elif kind == "example":
                    pending_queries.append(record["row"]["query"])
                    pending_rows += 1
                elif kind == "done":
                    state.queries.extend(pending_queries)
                    state.rows += pending_rows
                    pending_queries, pending_rows = [], 0
                    state.counters.append(record["counters"])
                    state.next_seq = record["seq"] + 1
                    finished_bytes = good_bytes
        if good_bytes == 0:
            raise CheckpointError(f"{self.path}: empty or unreadable checkpoint")
        with self.path.open("r+b") as handle:  # drop the unfinished request and any torn line
            handle.truncate(finished_bytes or good_bytes)
        self._file = self.path.open("a", encoding="utf-8")
        return state

    def record_request(self, seq: int, rows: list[dict[str, Any]], counters: dict[str, Any]) -> None:
        for row in rows:
            self._write({"kind": "example", "seq": seq, "row": row})
        self._write({"kind": "done", "seq": seq, "counters": counters})
        self._sync()

    def close(self) -> None:
        if self._file is not None:
            self._sync(force=True)
            self._file.close()
            self._file = None

    def rows(self) -> Iterator[dict[str, Any]]:
        """Accepted rows of finished requests, in order."""
        pending: list[dict[str, Any]] = []
        with self.path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                record = json.loads(raw)
                if record["kind"] == "example":
                    pending.append(record["row"])
                elif record["kind"] == "done":
                    yield from pending
                    pending = []

    def row_offsets(self) -> list[int]:
        """Byte offsets of the accepted rows of finished requests, in order (for reading rows in any order)."""
        offsets: list[int] = []
        pending: list[int] = []
        position = 0
        with self.path.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break
                if raw.startswith(b'{"kind": "example"'):
                    pending.append(position)
                elif raw.startswith(b'{"kind": "done"'):
                    offsets.extend(pending)
                    pending = []
                position += len(raw)
        return offsets

    def _write(self, record: dict[str, Any]) -> None:
        assert self._file is not None
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")

    def _sync(self, force: bool = False) -> None:
        assert self._file is not None
        self._file.flush()  # in the kernel: survives kill -9
        now = time.monotonic()
        if force or now - self._last_sync > FSYNC_EVERY_SECONDS:
            os.fsync(self._file.fileno())  # on disk: survives a power cut, at most a few seconds lost
            self._last_sync = now
