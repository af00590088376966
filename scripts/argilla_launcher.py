"""Run argilla-server 2.8 under uvicorn with three search-engine methods patched for osmem-server.

Used by ``scripts/argilla-local.sh`` and run with the argilla-server venv's python:

    python scripts/argilla_launcher.py --host 127.0.0.1 --port 6900 [--setup --api-key K --password P]

Why: the local stack uses osmem-server (an in-memory OpenSearch-compatible server) instead of a real
OpenSearch, and osmem rejects scripted ``_update`` calls. argilla-server uses such scripts in exactly three
places: creating/updating one response (the web UI's submit path, ``POST /api/v1/records/{id}/responses``,
``PUT /api/v1/responses/{id}``), deleting one response, and deleting one suggestion. Here they become a
read-modify-write of the record document (get ``_source``, change it, index it again). Everything else
(bulk indexing, ``doc`` partial updates, search) works unpatched.

``--setup`` first does, in this same process, what ``python -m argilla_server database migrate``,
``database users create_default`` and ``search-engine reindex`` do (calling those commands' own functions):
importing argilla_server costs several seconds of CPU, so one import instead of four halves a cold start.
Reindexing is needed because osmem keeps its indices in memory while the SQLite database persists.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from argilla_server.search_engine.commons import BaseElasticAndOpenSearchEngine, es_index_name_for_dataset


async def _rewrite_document(engine: Any, index_name: str, doc_id: str, change: Callable[[dict], None]) -> None:
    """Fetch the record's ``_source``, apply ``change`` in place, index it back (refresh like the original)."""
    found = await engine.client.get(index=index_name, id=doc_id)
    source = found["_source"]
    change(source)
    await engine.client.index(index=index_name, id=doc_id, body=source, refresh=True)


def _without_response(source: dict, response_id: Any) -> list:
    return [r for r in source.get("responses") or [] if str(r.get("id")) != str(response_id)]


async def update_record_response(self: BaseElasticAndOpenSearchEngine, response: Any) -> None:
    """Replace (or add) this user's response in the record document's ``responses`` list."""
    es_response = self._map_record_response_to_es(response)

    def change(source: dict) -> None:
        source["responses"] = _without_response(source, response.id) + [es_response]

    record = response.record
    await _rewrite_document(self, es_index_name_for_dataset(record.dataset), str(record.id), change)


async def delete_record_response(self: BaseElasticAndOpenSearchEngine, response: Any) -> None:
    """Drop the response from the record document's ``responses`` list."""

    def change(source: dict) -> None:
        if source.get("responses") is not None:
            source["responses"] = _without_response(source, response.id)

    record = response.record
    await _rewrite_document(self, es_index_name_for_dataset(record.dataset), str(record.id), change)


async def delete_record_suggestion(self: BaseElasticAndOpenSearchEngine, suggestion: Any) -> None:
    """Drop the question's entry from the record document's ``suggestions`` object."""

    def change(source: dict) -> None:
        (source.get("suggestions") or {}).pop(suggestion.question.name, None)

    index_name = es_index_name_for_dataset(suggestion.record.dataset)
    await _rewrite_document(self, index_name, str(suggestion.record_id), change)


def patch() -> None:
    BaseElasticAndOpenSearchEngine.update_record_response = update_record_response
    BaseElasticAndOpenSearchEngine.delete_record_response = delete_record_response
    BaseElasticAndOpenSearchEngine.delete_record_suggestion = delete_record_suggestion


def setup(api_key: str, password: str) -> None:
    """Migrate the database, create the owner `argilla` unless it exists, rebuild the search indices."""
    import asyncio

    from argilla_server.cli.database.migrate import migrate_db
    from argilla_server.cli.database.users.create_default import _create_default
    from argilla_server.cli.search_engine.reindex import _reindex
    from argilla_server.database import async_engine

    migrate_db(revision="head")

    async def owner_and_reindex() -> None:
        await _create_default(api_key=api_key, password=password, quiet=False)
        await _reindex()
        await async_engine.dispose()  # no pooled connection may outlive this event loop (uvicorn runs its own)

    asyncio.run(owner_and_reindex())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6900)
    parser.add_argument("--no-access-log", action="store_true")
    parser.add_argument("--setup", action="store_true", help="migrate, create the owner, reindex; then serve")
    # Defaults from the environment, so that the password need not show in `ps`.
    parser.add_argument("--api-key", default=os.environ.get("ARGILLA_API_KEY", "argilla.apikey"))
    parser.add_argument("--password", default=os.environ.get("ARGILLA_PASSWORD", "12345678"))
    args = parser.parse_args()

    patch()
    if args.setup:
        setup(args.api_key, args.password)
    import uvicorn

    # Same call as `python -m argilla_server start`, in this (patched) process.
    uvicorn.run("argilla_server:app", host=args.host, port=args.port, access_log=not args.no_access_log)


if __name__ == "__main__":
    main()
