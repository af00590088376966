"""Publishing to the Hugging Face Hub, or to a folder (dry run): the same :class:`Bundle` either way.

:func:`prepare_bundle` builds, locally and before anything leaves the machine, exactly what will be
uploaded: the scrubbed splits, the dataset card (``README.md``) and the provenance files (``run.json``
and the recipe). :func:`write_dry_run` writes it to a folder the way the Hub stores it
(``data/{split}-00000-of-00001.parquet``, ``README.md``, ``provenance/...``), so
``datasets.load_dataset(folder)`` reads it back. :func:`upload_bundle` pushes it: every split with
``datasets``' ``push_to_hub``, then the card and the provenance files with ``huggingface_hub``; network
failures are retried (tenacity, exponential back-off) and a failure that persists names what was and
was not uploaded.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.dataset.features import PLANS
from planforge.dataset.provenance import RunRecord
from planforge.dataset.stats import compute_stats
from planforge.errors import PublishError
from planforge.publishing.card import CardInputs, CardOptions, card_body, card_metadata, render_card, validate_card
from planforge.publishing.source import Source
from planforge.secrets import Scrubber

if TYPE_CHECKING:  # pragma: no cover
    import datasets

README = "README.md"
PROVENANCE = "provenance"
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

EventHook = Callable[[str], None]


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    initial_wait: float = 2.0
    max_wait: float = 30.0


@dataclass
class Bundle:
    """Exactly what is uploaded (or written by a dry run)."""

    repo_id: str
    kind: str
    splits: datasets.DatasetDict
    readme: str
    provenance: dict[str, bytes]  # path inside provenance/ -> content
    skipped: list[str] = field(default_factory=list)  # provenance files left out (binary: cannot be scrubbed)
    scrubbed_rows: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def stages(self) -> list[str]:
        """Upload steps, in order: one per split, the card, the provenance files."""
        return [*self.splits, README] + ([PROVENANCE] if self.provenance else [])

    def files(self) -> dict[str, bytes]:
        """The card and provenance files by path in the repository (parquet files aside)."""
        out = {README: self.readme.encode("utf-8")}
        out.update({f"{PROVENANCE}/{path}": data for path, data in self.provenance.items()})
        return out


# --------------------------------------------------------------------------------------------------
# preparing


def scrub_splits(splits: datasets.DatasetDict, scrubber: Scrubber) -> tuple[datasets.DatasetDict, int]:
    """Rows with secrets (keys, tokens, URL credentials) scrubbed with the precise rules; and how many
    rows changed. Splits without any hit are returned as they are (no copy)."""
    import datasets

    out, changed = {}, 0
    for name, split in splits.items():
        if not _split_has_secret(split, scrubber):
            out[name] = split
            continue
        counter = [0]

        def scrub_batch(batch: dict[str, list[Any]], counter: list[int] = counter) -> dict[str, list[Any]]:
            result = {}
            n = len(next(iter(batch.values()))) if batch else 0
            dirty = [False] * n
            for column, values in batch.items():
                cleaned = []
                for i, value in enumerate(values):
                    new = _scrub_value(value, scrubber)
                    if new != value:
                        dirty[i] = True
                    cleaned.append(new)
                result[column] = cleaned
            counter[0] += sum(dirty)
            return result

        out[name] = split.map(
            scrub_batch,
            batched=True,
            keep_in_memory=True,
            features=split.features,
            load_from_cache_file=False,
            desc=f"scrubbing {name}",
        )
        changed += counter[0]
    return datasets.DatasetDict(out), changed


def _scrub_value(value: Any, scrubber: Scrubber) -> Any:
    if isinstance(value, str):
        return scrubber.precise(value)
    if isinstance(value, list):
        return [_scrub_value(v, scrubber) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, scrubber) for k, v in value.items()}
    return value


def _split_has_secret(split: datasets.Dataset, scrubber: Scrubber) -> bool:
    for batch in split.iter(batch_size=1000):
        text = json.dumps(batch, ensure_ascii=False, default=str)
        if scrubber.precise(text) != text:
            return True
    return False


def pick_examples(split: Iterable[Mapping[str, Any]], kind: str, n: int = 3, scan: int = 500) -> list[dict[str, Any]]:
    """Up to ``n`` rows that use different sets of functions (the first rows otherwise)."""
    chosen, seen, fallback = [], set(), []
    for i, row in enumerate(split):
        if i >= scan or len(chosen) >= n:
            break
        key = tuple(row.get("target_tools") or ()) if kind == PLANS else (row.get("rejection_kind"),)
        (fallback if key in seen else chosen).append(dict(row))
        seen.add(key)
    return (chosen + fallback)[:n]


def prepare_bundle(source: Source, opts: CardOptions, scrubber: Scrubber, *, examples: int = 3) -> Bundle:
    """Scrub, describe and validate everything to upload. Raises :class:`PublishError` when the card
    would not pass the Hub's metadata validation or a secret survived scrubbing."""
    splits, scrubbed_rows = scrub_splits(source.splits, scrubber)
    run = scrubber.obj(source.run)
    summary = RunRecord.from_dict(run)
    stats = compute_stats(splits, source.kind, {name: len(s) for name, s in splits.items()})

    provenance: dict[str, bytes] = {}
    skipped: list[str] = []
    if source.run_path is not None:
        text = json.dumps(run, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        provenance["run.json"] = scrubber.text(text).encode("utf-8")
    for name, report in source.sidecars.items():
        text = json.dumps(scrubber.obj(report), indent=2, ensure_ascii=False) + "\n"
        provenance[name] = scrubber.text(text).encode("utf-8")
    for rel, path in sorted(source.recipe_files.items()):
        cleaned = scrubber.bytes(path.read_bytes())
        if cleaned is None:
            skipped.append(f"recipe/{rel}")
        else:
            provenance[f"recipe/{rel}"] = cleaned

    first = next(iter(splits.values()))
    inputs = CardInputs(
        kind=source.kind,
        stats=stats,
        run=summary,
        columns=first.column_names,
        examples=pick_examples(first, source.kind, examples),
        provenance_files=[f"{PROVENANCE}/{p}" for p in provenance],
        notes=source.notes,
        pairs_report=scrubber.obj(source.pairs_report),
        review_report=scrubber.obj(source.review_report),
        recipe_meta=scrubber.obj(source.recipe_meta),
    )
    nbytes = {name: int(split.data.nbytes) for name, split in splits.items()}
    metadata = card_metadata(inputs, opts, first.features, nbytes, parquet_sizes(splits))
    body = scrubber.text(card_body(inputs, opts))
    readme = scrubber.text(str(render_card(metadata, body)))
    problems = validate_card(readme, list(splits))
    if problems:
        raise PublishError("the dataset card would not pass the Hub's validation: " + "; ".join(problems))

    for name, content in [(README, readme.encode())] + [(f"{PROVENANCE}/{p}", d) for p, d in provenance.items()]:
        leaks = scrubber.leaks(content.decode("utf-8"))
        if leaks:  # pragma: no cover - the scrubber removes what leaks() finds
            raise PublishError(f"refusing to publish: {name} still holds something secret-looking")
    return Bundle(opts.repo_id, source.kind, splits, readme, provenance, skipped, scrubbed_rows, list(source.notes))


# --------------------------------------------------------------------------------------------------
# dry run


def _writer_batch_size(split: datasets.Dataset) -> int | None:
    """The batch size ``push_to_hub`` writes parquet with, so the dry run's files are the same bytes."""
    try:
        from datasets.arrow_writer import get_writer_batch_size_from_data_size, get_writer_batch_size_from_features
    except ImportError:  # pragma: no cover - older or newer datasets
        return None
    return get_writer_batch_size_from_features(split.features) or get_writer_batch_size_from_data_size(
        len(split), split.data.nbytes
    )


def shard_count(split: datasets.Dataset, max_shard_size: int | str | None = None) -> int:
    """How many parquet shards ``push_to_hub`` cuts a split into (``max_shard_size`` default: 500MB)."""
    from datasets import config
    from datasets.utils.py_utils import convert_file_size_to_int

    limit = convert_file_size_to_int(max_shard_size or config.MAX_SHARD_SIZE)
    return int(split.data.nbytes / limit) + 1


def write_split_parquet(split: datasets.Dataset, name: str, folder: Path) -> list[Path]:
    """The split's parquet shards, named and written as ``push_to_hub`` writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    n = shard_count(split)
    paths = []
    for index in range(n):
        shard = split.shard(num_shards=n, index=index, contiguous=True)
        path = folder / f"{name}-{index:05d}-of-{n:05d}.parquet"
        batch_size = _writer_batch_size(shard)
        shard.to_parquet(str(path), **({"batch_size": batch_size} if batch_size else {}))
        paths.append(path)
    return paths


def parquet_sizes(splits: datasets.DatasetDict) -> dict[str, int]:
    """Bytes of each split's parquet files (the card's ``download_size``; ``push_to_hub`` updates it from
    there when the dataset is published again)."""
    sizes = {}
    with tempfile.TemporaryDirectory(prefix="planforge-parquet-") as tmp:
        for name, split in splits.items():
            sizes[name] = sum(p.stat().st_size for p in write_split_parquet(split, name, Path(tmp)))
    return sizes


def write_dry_run(bundle: Bundle, out: str | Path) -> list[Path]:
    """Write the bundle as the Hub would store it. ``out`` must be new, empty, or a previous dry run."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise PublishError(f"{out}: exists and is not a folder")
    if out.exists() and any(out.iterdir()):
        previous = {p.name for p in out.iterdir()}
        if not previous <= {README, "data", PROVENANCE}:
            raise PublishError(f"{out}: not empty (and not a previous dry run); choose a new folder")
        for name in ("data", PROVENANCE):
            shutil.rmtree(out / name, ignore_errors=True)
    written: list[Path] = []
    for name, split in bundle.splits.items():
        written += write_split_parquet(split, name, out / "data")
    for rel, content in bundle.files().items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


# --------------------------------------------------------------------------------------------------
# upload


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(chain) < 12:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def http_status(exc: BaseException) -> int | None:
    for item in _exception_chain(exc):
        response = getattr(item, "response", None)
        status = getattr(response, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: a network error, a timeout, a rate limit or a 5xx, anywhere in the cause chain."""
    import httpx2

    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    return any(
        isinstance(item, (httpx2.TransportError, ConnectionError, TimeoutError)) for item in _exception_chain(exc)
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def describe_error(exc: BaseException, scrubber: Scrubber | None = None) -> str:
    """One line: ``HTTP 503 Service Unavailable (the Hub's message)``, or the network error's type and text."""
    chain = _exception_chain(exc)
    http = next((e for e in chain if isinstance(getattr(getattr(e, "response", None), "status_code", None), int)), None)
    if http is not None:
        response = http.response  # type: ignore[attr-defined]
        text = f"HTTP {response.status_code}"
        phrase = getattr(response, "reason_phrase", "")
        if isinstance(phrase, str) and phrase:
            text += f" {phrase}"
        server = getattr(http, "server_message", None)
        if isinstance(server, str) and _first_line(server):
            text += f" ({_first_line(server)})"
    else:
        root = chain[-1]
        text = f"{type(root).__name__}: {_first_line(str(root)) or 'no details'}"
    text = text if len(text) <= 300 else text[:299] + "…"
    return scrubber.text(text) if scrubber else text


def _retrying(policy: RetryPolicy, label: str, on_event: EventHook, scrubber: Scrubber):
    import tenacity

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        on_event(
            f"{label}: {describe_error(exc, scrubber) if exc else 'failed'}; retrying in {wait:.1f} s "
            f"(attempt {state.attempt_number + 1} of {policy.attempts})"
        )

    return tenacity.Retrying(
        stop=tenacity.stop_after_attempt(max(1, policy.attempts)),
        wait=tenacity.wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait),
        retry=tenacity.retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )


def hub_token() -> str | None:
    """``HF_TOKEN``, else the token saved by ``hf auth login`` (huggingface_hub's own lookup)."""
    from huggingface_hub import get_token

    try:
        return get_token()
    except Exception as exc:  # noqa: BLE001 - e.g. a failed OIDC token exchange (HF_OIDC_RESOURCE)
        raise PublishError(f"cannot get a Hugging Face token: {str(exc).splitlines()[0]}") from None


@dataclass
class UploadReport:
    repo_id: str
    url: str
    uploaded: list[str]


def _progress(uploaded: list[str], stages: list[str]) -> str:
    done = ", ".join(uploaded) or "nothing"
    left = ", ".join(s for s in stages if s not in uploaded) or "nothing"
    return f"uploaded: {done}; not uploaded: {left}"


def upload_bundle(
    bundle: Bundle,
    token: str,
    *,
    private: bool = False,
    retry: RetryPolicy | None = None,
    on_event: EventHook | None = None,
    scrubber: Scrubber | None = None,
) -> UploadReport:
    """Push the bundle to ``bundle.repo_id`` (a dataset repository, created when missing)."""
    from huggingface_hub import HfApi

    retry = retry or RetryPolicy()
    on_event = on_event or (lambda message: None)
    scrubber = scrubber or Scrubber.from_env(extra=[token])
    api = HfApi(token=token, library_name="planforge")
    repo_id = bundle.repo_id
    stages = bundle.stages
    uploaded: list[str] = []

    def run(label: str, action: Callable[[], Any]) -> Any:
        try:
            return _retrying(retry, label, on_event, scrubber)(action)
        except PublishError:
            raise
        except Exception as exc:  # noqa: BLE001 - any failure becomes one clear line
            status = http_status(exc)
            reason = describe_error(exc, scrubber)
            if status in (401, 403):
                reason += " (check that the token may write to this namespace)"
            tries = f" after {retry.attempts} attempts" if is_transient(exc) and retry.attempts > 1 else ""
            raise PublishError(
                f"{label} failed{tries}: {reason}. {_progress(uploaded, stages)}",
                exit_code=2 if status in (401, 403) and not uploaded else 1,
            ) from None

    run("checking the Hugging Face token", api.whoami)
    url = run(
        f"creating dataset repository {repo_id}",
        lambda: api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True),
    )
    for name, split in bundle.splits.items():
        on_event(f"uploading split {name} ({len(split):,} rows)")
        run(
            f"uploading split {name} to {repo_id}",
            lambda split=split, name=name: split.push_to_hub(
                repo_id,
                split=name,
                token=token,
                private=private,
                commit_message=f"Upload {name} split ({len(split):,} rows)",
            ),
        )
        uploaded.append(name)
    on_event("uploading the dataset card")
    run(
        f"uploading {README} to {repo_id}",
        lambda: api.upload_file(
            path_or_fileobj=bundle.readme.encode("utf-8"),
            path_in_repo=README,
            repo_id=repo_id,
            repo_type="dataset",
            commit_message="Dataset card",
        ),
    )
    uploaded.append(README)
    if bundle.provenance:
        on_event(f"uploading {len(bundle.provenance)} provenance files")
        with tempfile.TemporaryDirectory(prefix="planforge-provenance-") as tmp:
            for rel, content in bundle.provenance.items():
                path = Path(tmp) / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
            run(
                f"uploading {PROVENANCE}/ to {repo_id}",
                lambda: api.upload_folder(
                    folder_path=tmp,
                    path_in_repo=PROVENANCE,
                    repo_id=repo_id,
                    repo_type="dataset",
                    commit_message="Provenance: " + ", ".join(sorted({p.split("/")[0] for p in bundle.provenance})),
                ),
            )
        uploaded.append(PROVENANCE)
    return UploadReport(repo_id, str(url), uploaded)
