"""Annotators as the Argilla web UI drives them: log in, read the queue, submit (REST, no SDK: an annotator gets
403 listing records through the SDK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Annotator:
    api_url: str
    username: str
    password: str
    _http: httpx.Client | None = None

    def __enter__(self) -> Annotator:
        token = httpx.post(
            f"{self.api_url}/api/v1/token", data={"username": self.username, "password": self.password}, timeout=30
        )
        assert token.status_code == 201, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self._http = httpx.Client(base_url=self.api_url, headers=headers, timeout=60)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._http is not None:
            self._http.close()

    def queue(self, dataset_id: Any) -> dict[str, dict]:
        """The records this annotator sees: pair id (external_id) -> record (with its fields)."""
        assert self._http is not None
        found: dict[str, dict] = {}
        offset = 0
        while True:
            r = self._http.post(
                f"/api/v1/me/datasets/{dataset_id}/records/search",
                json={},
                params={"include": "responses", "offset": offset, "limit": 500},
            )
            r.raise_for_status()
            items = r.json()["items"]
            found.update({item["record"]["external_id"]: item["record"] for item in items})
            if len(items) < 500:
                return found
            offset += len(items)

    def answer(self, record: dict, status: str = "submitted", **values: Any) -> None:
        """``values``: question -> value (``correct="A"``, ``error_kinds=[...]``, ``corrected_plan="..."``)."""
        assert self._http is not None
        body = {"values": {q: {"value": v} for q, v in values.items()}, "status": status}
        r = self._http.post(f"/api/v1/records/{record['id']}/responses", json=body)
        assert r.status_code == 201, r.text
