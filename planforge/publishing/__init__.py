"""Publishing a dataset to the Hugging Face Hub (``gen publish``) and reporting on it (``gen report``).

* :mod:`~planforge.publishing.source`: read a ``gen run`` / ``gen pairs`` / ``gen review pull`` folder;
* :mod:`~planforge.dataset.stats`: the numbers (pure);
* :mod:`~planforge.publishing.card`: the dataset card and its offline validation (pure);
* :mod:`~planforge.secrets`: secret scrubbing (pure, shared with the generator);
* :mod:`~planforge.publishing.hub`: the upload bundle, the dry run and the upload with retries;
* :mod:`~planforge.publishing.report`: the HTML report.

Heavy dependencies (``datasets``, ``huggingface_hub``, ``matplotlib``) are imported only when used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planforge.errors import DatasetError, PublishError
from planforge.secrets import REDACTED, Scrubber

if TYPE_CHECKING:
    from planforge.publishing.hub import Bundle, RetryPolicy, UploadReport

__all__ = [
    "REDACTED",
    "Bundle",
    "PublishError",
    "PublishResult",
    "RetryPolicy",
    "Scrubber",
    "UploadReport",
    "publish_dataset",
    "write_report",
]

def __getattr__(name: str) -> Any:
    """``Bundle``, ``RetryPolicy`` and ``UploadReport`` load with :mod:`~planforge.publishing.hub` when asked
    for: importing the package (every ``gen`` start-up does, for its commands) stays light."""
    if name in ("Bundle", "RetryPolicy", "UploadReport"):
        from planforge.publishing import hub

        return getattr(hub, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*$")


@dataclass
class PublishResult:
    bundle: Bundle
    dry_run_files: list[Path] = field(default_factory=list)
    upload: UploadReport | None = None


def check_repo_id(repo_id: str) -> None:
    if not _REPO_ID.match(repo_id or "") or ".." in repo_id or repo_id.endswith((".git", ".")) or len(repo_id) > 96:
        raise PublishError(f"--repo-id must look like OWNER/NAME (letters, digits, '-', '_', '.'), got {repo_id!r}")


def check_license(license: str, where: str) -> str:
    from planforge.publishing.card import HUB_LICENSES

    if license not in HUB_LICENSES:
        raise PublishError(
            f"{where} {license!r} is not a Hugging Face Hub license identifier (e.g. apache-2.0, mit, cc-by-4.0)"
        )
    return license


def publish_dataset(
    path: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    dry_run: str | Path | None = None,
    license: str | None = None,
    language: Sequence[str] | None = None,
    pretty_name: str | None = None,
    retry: RetryPolicy | None = None,
    on_event: Callable[[str], None] | None = None,
) -> PublishResult:
    """Publish the dataset in ``path`` to ``repo_id`` (or, with ``dry_run``, write what would be uploaded
    to that folder). ``license`` and ``language`` default to the recipe's (then apache-2.0 and en).
    Raises :class:`PublishError` with a one-line, scrubbed message."""
    from planforge.dataset.disk import quiet_datasets
    from planforge.publishing.card import CardOptions
    from planforge.publishing.hub import hub_token, prepare_bundle, upload_bundle, write_dry_run
    from planforge.publishing.source import load_source

    check_repo_id(repo_id)
    if license is not None:
        check_license(license, "--license")
    token = None
    if dry_run is None:
        token = hub_token()
        if not token:
            raise PublishError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (nothing was uploaded)")
    scrubber = Scrubber.from_env(extra=[token])
    try:
        source = load_source(path)
    except DatasetError as exc:
        raise PublishError(scrubber.text(str(exc))) from None
    recipe = source.recipe_meta
    if license is None and isinstance(recipe.get("license"), str):
        license = check_license(recipe["license"], "the recipe's license")
    if language is None:
        found = recipe.get("language")
        language = [found] if isinstance(found, str) else found if isinstance(found, list) else None
    opts = CardOptions(
        repo_id=repo_id,
        license=license or "apache-2.0",
        language=tuple(str(x) for x in language or ("en",)),
        pretty_name=pretty_name,
        source_dir=str(path),
    )
    with quiet_datasets():
        bundle = prepare_bundle(source, opts, scrubber)
        if dry_run is not None:
            return PublishResult(bundle, dry_run_files=write_dry_run(bundle, dry_run))
    assert token is not None
    report = upload_bundle(bundle, token, private=private, retry=retry, on_event=on_event, scrubber=scrubber)
    return PublishResult(bundle, upload=report)


def write_report(path: str | Path, out: str | Path | None = None, *, samples: int = 4) -> tuple[Path, int]:
    """Write the HTML report of the dataset in ``path`` (default ``path/report.html``); returns the file
    and its size. ``samples``: how many plan DAGs to draw. Raises :class:`~planforge.errors.DatasetError`."""
    from planforge.publishing.report import report_to_file
    from planforge.publishing.source import load_source

    source = load_source(path)
    target = Path(out) if out is not None else Path(path) / "report.html"
    size = report_to_file(source, target, samples=samples)
    return target, size
