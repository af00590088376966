"""Smoke test of a real Argilla 2.8 server: SDK as owner, REST as an annotator (the web UI's paths).

The annotator's submit/update/delete go through argilla-server's single-response paths, which on the local
stack run through the osmem patches in scripts/argilla_launcher.py; the searches filtered on response
status check that the search index (not only the database) saw each change.
"""

from __future__ import annotations

import uuid

import argilla as rg
import httpx
import pytest

pytestmark = pytest.mark.integration

LABELS = ["chosen_better", "rejected_better", "tie"]


def _settings() -> rg.Settings:
    return rg.Settings(
        fields=[rg.TextField(name="plan")],
        questions=[
            rg.LabelQuestion(name="verdict", labels=LABELS),
            rg.TextQuestion(name="comment", required=False),
        ],
        metadata=[rg.TermsMetadataProperty(name="source", options=["gen", "seed"])],
    )


def _me_search(http: httpx.Client, dataset_id, status: str | None = None) -> dict:
    """The annotator's queue search, as the web UI does it; optionally filtered on the annotator's status."""
    body: dict = {}
    if status:
        scope = {"entity": "response", "property": "status"}
        body = {"filters": {"and": [{"type": "terms", "scope": scope, "values": [status]}]}}
    r = http.post(f"/api/v1/me/datasets/{dataset_id}/records/search", json=body, params={"include": "responses"})
    r.raise_for_status()
    return {item["record"]["external_id"]: item["record"] for item in r.json()["items"]}


def test_sdk_and_annotator_rest_roundtrip(argilla_server):
    client = rg.Argilla(api_url=argilla_server.api_url, api_key=argilla_server.api_key)
    tag = uuid.uuid4().hex[:8]
    workspace = rg.Workspace(name=f"pf-smoke-{tag}", client=client).create()
    annotator = rg.User(username=f"annot-{tag}", password="annot-pass-123", role="annotator", client=client).create()
    dataset = None
    try:
        annotator.add_to_workspace(workspace)
        assert annotator.role == "annotator"
        assert annotator.username in [u.username for u in workspace.users]

        dataset = rg.Dataset(name=f"pairs-{tag}", workspace=workspace, settings=_settings(), client=client)
        dataset.create()
        dataset.records.log(
            [
                rg.Record(id=f"r{i}", fields={"plan": f"plan {i}"}, metadata={"source": src})
                for i, src in enumerate(["gen", "seed", "gen"])
            ]
        )
        assert sorted(r.id for r in dataset.records(with_responses=False)) == ["r0", "r1", "r2"]
        assert {r.id: r.metadata["source"] for r in dataset.records()} == {"r0": "gen", "r1": "seed", "r2": "gen"}

        # The annotator: log in, find the record in its queue, submit (POST /records/{id}/responses).
        base = argilla_server.api_url
        token = httpx.post(f"{base}/api/v1/token", data={"username": annotator.username, "password": "annot-pass-123"})
        assert token.status_code == 201, token.text
        auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
        with httpx.Client(base_url=base, headers=auth, timeout=30) as http:
            queue = _me_search(http, dataset.id)
            assert sorted(queue) == ["r0", "r1", "r2"]
            values = {"verdict": {"value": "rejected_better"}, "comment": {"value": "step 3 is wrong"}}
            r = http.post(
                f"/api/v1/records/{queue['r1']['id']}/responses", json={"values": values, "status": "submitted"}
            )
            assert r.status_code == 201, r.text
            response_id = r.json()["id"]
            assert sorted(_me_search(http, dataset.id, "submitted")) == ["r1"]  # the index saw the submit

            # Read it back as the owner through the SDK.
            by_id = {rec.id: rec for rec in dataset.records(with_responses=True)}
            got = by_id["r1"].responses
            assert [(x.value, x.user_id, x.status) for x in got["verdict"]] == [
                ("rejected_better", annotator.id, "submitted")
            ]
            assert [x.value for x in got["comment"]] == ["step 3 is wrong"]
            assert all(len(by_id[k].responses) == 0 for k in ("r0", "r2"))
            submitted = rg.Query(filter=rg.Filter(("response.status", "==", "submitted")))
            assert [rec.id for rec in dataset.records(query=submitted)] == ["r1"]

            # Change of mind (PUT) and withdrawal (DELETE): patched update/delete_record_response.
            values["verdict"]["value"] = "tie"
            r = http.put(f"/api/v1/responses/{response_id}", json={"values": values, "status": "submitted"})
            assert r.status_code == 200, r.text
            assert _me_search(http, dataset.id, "submitted")["r1"]["responses"][0]["values"]["verdict"] == {
                "value": "tie"
            }
            updated = next(iter(dataset.records(query=submitted)))
            assert (updated.id, [x.value for x in updated.responses["verdict"]]) == ("r1", ["tie"])
            assert http.delete(f"/api/v1/responses/{response_id}").status_code == 200
            assert _me_search(http, dataset.id, "submitted") == {}
            assert [rec.id for rec in dataset.records(query=submitted)] == []

        dataset.delete()
        dataset = None
        assert f"pairs-{tag}" not in [d.name for d in workspace.datasets]
    finally:  # best effort, also after a failure
        if dataset is not None:
            dataset.delete()
        annotator.delete()
        workspace.delete()
