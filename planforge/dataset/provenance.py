"""Provenance: what made a dataset or a model, written beside it.

* :class:`RunRecord` -- ``run.json`` of a generation run. The generator writes it with :meth:`RunRecord.write`
  and publishing reads it with :meth:`RunRecord.read` / :meth:`RunRecord.from_dict`, one schema for both
  (a test holds them together). The reader is defensive: any key may be missing or malformed (files written
  by older versions or by hand), and what is not known stays ``None``/empty.
* :func:`write_training_record` -- ``run_config.json`` (command, config, library versions),
  ``metrics.json`` and ``dataset_fingerprint.json`` beside trained weights or an evaluation.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import datasets

RUN_JSON = "run.json"
FUNNEL_STAGES = ("proposed", "parsed", "valid", "accepted")


# --------------------------------------------------------------------------------------------------
# JSON files


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths, tuples and NaN as JSON can hold them."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def write_json(path: Path, data: Any) -> Path:
    """Write JSON atomically (a temporary file renamed into place): a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def read_json_object(path: str | Path) -> dict[str, Any] | None:
    """A JSON object from ``path``; ``None`` when the file is missing or holds something else."""
    file = Path(path)
    if not file.is_file():
        return None
    try:
        value = json.loads(file.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------------------------------
# run.json


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def _int(value: Any) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _count_map(value: Any) -> dict[str, int]:
    if isinstance(value, Mapping):
        return {str(k): int(v) for k, v in value.items() if _number(v) is not None}
    if isinstance(value, list):  # [{"code": ..., "count": ...}]
        out = {}
        for item in value:
            if isinstance(item, Mapping) and "code" in item and _number(item.get("count")) is not None:
                out[str(item["code"])] = int(item["count"])
        return out
    return {}


@dataclass
class RunRecord:
    """``run.json``: counts of every stage, cost, the teacher, the recipe and the settings of one run."""

    requested: int | None = None  # examples asked for (the run's target)
    proposed: int | None = None  # examples the teacher proposed
    parsed: int | None = None
    valid: int | None = None
    accepted: int | None = None
    responses: int | None = None  # teacher responses (each may propose several examples)
    teacher_requests: int | None = None
    failed_requests: int | None = None
    surplus: int | None = None  # valid, distinct examples beyond the target
    rejected: dict[str, int] = field(default_factory=dict)  # validator code -> count, most frequent first
    duplicates: dict[str, int] = field(default_factory=dict)  # exact / near
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    wall_seconds: float | None = None
    teacher: str | None = None
    model: str | None = None
    base_url: str | None = None  # credentials scrubbed
    recipe: dict[str, Any] = field(default_factory=dict)  # name, version, hash, path
    seed: Any = None
    splits: dict[str, int] = field(default_factory=dict)  # split -> rows
    split_settings: dict[str, float] = field(default_factory=dict)
    sampling: Any = None  # the recipe's sampling settings as used
    validators: Any = None  # validator families and recipe rules that gated the rows
    near_duplicate_threshold: float | None = None
    price_per_mtok: list[float] | None = None
    stop_reason: str | None = None
    resumed: bool | None = None
    teacher_calls: int | None = None  # requests that reached the endpoint (not answered from the cache)
    stats: dict[str, Any] = field(default_factory=dict)  # the run's raw counters
    #: --verify: method, model, base_url and counts (checked, agreed, replan_mismatch, replan_failed | yes, no,
    #: unknown; kept; tokens); empty when the run had no meaning check
    verify: dict[str, Any] = field(default_factory=dict)
    argv: list[str] | None = None  # the command line, secrets scrubbed
    planforge_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys of newer versions, kept as they are

    # -- reading ---------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, run: Mapping[str, Any]) -> RunRecord:
        """Read ``run.json`` defensively: missing or malformed keys stay unknown."""
        nested = run.get("stats") if isinstance(run.get("stats"), Mapping) else {}

        def count(key: str, *aliases: str) -> int | None:
            for name in (key, *aliases):
                value = _int(run.get(name))
                value = _int(nested.get(name)) if value is None else value
                if value is not None:
                    return value
            return None

        rejected = dict(sorted(_count_map(run.get("rejected")).items(), key=lambda kv: (-kv[1], kv[0])))
        duplicates = _count_map(run.get("duplicates"))
        if not duplicates and _number(run.get("duplicates")) is not None:
            duplicates = {"total": int(run["duplicates"])}
        tokens = run.get("tokens") if isinstance(run.get("tokens"), Mapping) else {}
        recipe = run.get("recipe")
        if isinstance(recipe, str):
            recipe = {"name": recipe}
        argv = run.get("argv", run.get("command"))
        if isinstance(argv, str):
            argv = argv.split()
        price = run.get("price_per_mtok")
        known = {f for f in cls.__dataclass_fields__ if f != "extra"} | {"tokens", "command", "function_sampling"}
        return cls(
            requested=count("requested"),
            proposed=count("proposed"),
            parsed=count("parsed"),
            valid=count("valid"),
            accepted=count("accepted"),
            responses=count("responses"),
            teacher_requests=count("teacher_requests", "requests"),
            failed_requests=count("failed_requests"),
            surplus=count("surplus"),
            rejected=rejected,
            duplicates=duplicates,
            prompt_tokens=_int(tokens.get("prompt", tokens.get("prompt_tokens"))),
            completion_tokens=_int(tokens.get("completion", tokens.get("completion_tokens"))),
            cost_usd=_number(run.get("cost_usd")),
            wall_seconds=_number(run.get("wall_seconds")),
            teacher=_text(run.get("teacher")),
            model=_text(run.get("model")),
            base_url=_text(run.get("base_url")),
            recipe=dict(recipe) if isinstance(recipe, Mapping) else {},
            seed=run.get("seed"),
            splits=_count_map(run.get("splits")),
            split_settings={k: v for k, v in (run.get("split_settings") or {}).items() if _number(v) is not None}
            if isinstance(run.get("split_settings"), Mapping)
            else {},
            sampling=run.get("sampling", run.get("function_sampling")),
            validators=run.get("validators"),
            near_duplicate_threshold=_number(run.get("near_duplicate_threshold")),
            price_per_mtok=[float(p) for p in price] if isinstance(price, list) and all(map(_number, price)) else None,
            stop_reason=_text(run.get("stop_reason")),
            resumed=run.get("resumed") if isinstance(run.get("resumed"), bool) else None,
            teacher_calls=_int(run.get("teacher_calls")),
            stats=dict(nested),
            verify=dict(run["verify"]) if isinstance(run.get("verify"), Mapping) else {},
            argv=[str(a) for a in argv] if isinstance(argv, list) else None,
            planforge_version=_text(run.get("planforge_version")),
            extra={k: v for k, v in run.items() if k not in known},
        )

    @classmethod
    def read(cls, folder: str | Path) -> RunRecord | None:
        """The ``run.json`` in ``folder`` (``None`` when there is none or it is not a JSON object)."""
        found = read_json_object(Path(folder) / RUN_JSON)
        return cls.from_dict(found) if found is not None else None

    # -- writing ---------------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "planforge_version": self.planforge_version,
            "requested": self.requested,
            "proposed": self.proposed,
            "responses": self.responses,
            "parsed": self.parsed,
            "valid": self.valid,
            "accepted": self.accepted,
            "teacher_requests": self.teacher_requests,
            "failed_requests": self.failed_requests,
            "surplus": self.surplus,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "tokens": {"prompt": self.prompt_tokens, "completion": self.completion_tokens},
            "cost_usd": self.cost_usd,
            "wall_seconds": self.wall_seconds,
            "teacher": self.teacher,
            "model": self.model,
            "base_url": self.base_url,
            "recipe": self.recipe,
            "seed": self.seed,
            "splits": self.splits,
            "split_settings": self.split_settings,
            "sampling": self.sampling,
            "validators": self.validators,
            "near_duplicate_threshold": self.near_duplicate_threshold,
            "price_per_mtok": self.price_per_mtok,
            "stop_reason": self.stop_reason,
            "resumed": self.resumed,
            "teacher_calls": self.teacher_calls,
            "stats": self.stats,
            "argv": self.argv,
        }
        if self.verify:
            out["verify"] = self.verify
        out.update(self.extra)
        return out

    def write(self, folder: str | Path) -> Path:
        return write_json(Path(folder) / RUN_JSON, self.to_dict())

    # -- derived figures (what cards and reports show) ---------------------------------------------------

    @property
    def funnel(self) -> list[tuple[str, int]]:
        """(stage, examples) in pipeline order, the known stages only; the request count tops it when no
        proposed count is known and it is the widest."""
        stages = [(stage, n) for stage in FUNNEL_STAGES if (n := getattr(self, stage)) is not None]
        kept = _int(self.verify.get("kept")) if self.verify.get("method") == "replan" else None
        if kept is not None and stages and stages[-1][0] == "accepted":
            stages.insert(len(stages) - 1, ("verified", kept))  # --verify replan: kept when the plans agree
        if self.proposed is None and self.requested is not None and all(self.requested >= n for _, n in stages):
            stages.insert(0, ("requested", self.requested))
        return stages

    def count(self, stage: str) -> int | None:
        return dict(self.funnel).get(stage)

    @property
    def acceptance_rate(self) -> float | None:
        """Accepted examples per example the teacher proposed (or, unknown that, per parsed or requested)."""
        accepted = self.count("accepted")
        base = next((self.count(s) for s in ("proposed", "parsed") if self.count(s)), None) or self.requested
        return accepted / base if accepted is not None and base else None

    @property
    def acceptance_base(self) -> str:
        return next((s for s in ("proposed", "parsed") if self.count(s)), "requested")

    @property
    def validity_rate(self) -> float | None:
        valid, parsed = self.count("valid"), self.count("parsed")
        return valid / parsed if valid is not None and parsed else None

    @property
    def duplicates_total(self) -> int:
        return sum(self.duplicates.values())

    @property
    def duplicate_rate(self) -> float | None:
        """Duplicates dropped per valid plan."""
        valid = self.count("valid")
        return self.duplicates_total / valid if valid and self.duplicates else None

    @property
    def total_tokens(self) -> int | None:
        if self.prompt_tokens is None and self.completion_tokens is None:
            return None
        return (self.prompt_tokens or 0) + (self.completion_tokens or 0)

    @property
    def cost_per_accepted(self) -> float | None:
        return self.cost_usd / self.accepted if self.cost_usd is not None and self.accepted else None

    @property
    def known(self) -> bool:
        return bool(self.funnel or self.rejected or self.duplicates or self.cost_usd is not None or self.teacher)

    @property
    def command(self) -> list[str] | None:
        """``argv`` with the program spelled ``gen`` (run.json records the script's path)."""
        if not self.argv:
            return None
        program = self.argv[0].replace("\\", "/").rsplit("/", 1)[-1]
        if program.startswith("python") and len(self.argv) > 2 and self.argv[1] == "-m":
            return ["gen", *self.argv[3:]]  # python -m planforge ...
        if program in ("gen", "planforge") or program.endswith(".py"):
            return ["gen", *self.argv[1:]]
        return list(self.argv)


# --------------------------------------------------------------------------------------------------
# training and evaluation runs


def fingerprint(ds: datasets.DatasetDict, path: str | Path) -> dict[str, Any]:
    """What identifies the data a run used: per split, the row count, the ``datasets`` fingerprint and a
    SHA-256 of the example ids in order (stable across re-saves of the same examples)."""
    splits = {}
    for name, split in ds.items():
        entry: dict[str, Any] = {"num_rows": len(split), "datasets_fingerprint": getattr(split, "_fingerprint", None)}
        if "id" in split.column_names:
            digest = hashlib.sha256()
            for example_id in split["id"]:
                digest.update(str(example_id).encode())
                digest.update(b"\n")
            entry["ids_sha256"] = digest.hexdigest()
        splits[name] = entry
    return {"path": str(Path(path).resolve()), "splits": splits}


def environment() -> dict[str, Any]:
    """planforge, Python and the versions of the libraries a run depends on."""
    import importlib.metadata as md

    from planforge import __version__

    versions = {}
    for name in ("torch", "transformers", "trl", "peft", "datasets", "accelerate"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = None
    return {"planforge": __version__, "python": platform.python_version(), "packages": versions}


RUN_CONFIG = "run_config.json"


def write_training_record(
    out: Path,
    *,
    command: str,
    config: Any,
    metrics: dict[str, Any],
    fingerprints: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> None:
    """``run_config.json`` (command, config, environment), ``metrics.json`` and ``dataset_fingerprint.json``."""
    run_config = {
        "command": command,
        "config": config,
        "environment": environment(),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "host_cpus": os.cpu_count(),
    }
    if extra:
        run_config.update(extra)
    write_json(out / RUN_CONFIG, run_config)
    write_json(out / "metrics.json", metrics)
    write_json(out / "dataset_fingerprint.json", fingerprints)


def read_run_config(path: str | Path) -> dict[str, Any] | None:
    """The ``run_config.json`` of a trained model or an evaluation (``None`` when there is none)."""
    return read_json_object(Path(path) / RUN_CONFIG)
