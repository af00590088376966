"""``gen review status``: how far the review of a dataset has got, overall and per annotator."""

from __future__ import annotations

from typing import Any

from planforge.curation_ui.connection import find_dataset, sdk_errors


def review_status(client: Any, name: str, *, workspace: str | None = None) -> dict[str, Any]:
    """Records total/completed/pending, ``min_submitted``, and per annotator the responses by status.

    A record is *completed* once ``min_submitted`` annotators submitted it (Argilla's task distribution)."""
    dataset = find_dataset(client, name, workspace)
    with sdk_errors(f"reading progress of {name!r}"):
        progress = dataset.progress(with_users_distribution=True)
        min_submitted = dataset.settings.distribution.min_submitted
    users = {}
    for user, parts in sorted((progress.get("users") or {}).items()):
        totals = {status: 0 for status in ("submitted", "draft", "discarded")}
        for part in ("completed", "pending"):
            for status, count in (parts.get(part) or {}).items():
                totals[status] = totals.get(status, 0) + int(count or 0)
        users[user] = totals
    return {
        "dataset": name,
        "workspace": dataset.workspace.name,
        "min_submitted": min_submitted,
        "total": progress.get("total", 0),
        "completed": progress.get("completed", 0),
        "pending": progress.get("pending", 0),
        "users": users,
    }
