"""Talking to an Argilla server: credentials, a quick check that turns every failure into one clear line, and
the lookups push, pull and status share.

The URL and key come from flags or ``ARGILLA_API_URL`` / ``ARGILLA_API_KEY``. Before the SDK is used, one GET of
``/api/v1/me`` tells an unreachable server, a wrong key and a key without the needed role apart, in a few
seconds (the SDK itself retries a dead server for several seconds and raises long tracebacks)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from planforge.errors import ReviewError

URL_ENV = "ARGILLA_API_URL"
KEY_ENV = "ARGILLA_API_KEY"
DEFAULT_WORKSPACE = "planforge"
LOCAL_HINT = "start a local one with `bash scripts/argilla-local.sh start`"


@dataclass(frozen=True)
class Server:
    api_url: str
    api_key: str
    username: str = ""
    role: str = ""


def credentials(api_url: str | None = None, api_key: str | None = None) -> tuple[str, str]:
    url = (api_url or os.environ.get(URL_ENV) or "").strip().rstrip("/")
    key = (api_key or os.environ.get(KEY_ENV) or "").strip()
    if not url:
        raise ReviewError(f"no Argilla server: set {URL_ENV} (and {KEY_ENV}) or pass --api-url; {LOCAL_HINT}")
    if not key:
        raise ReviewError(f"no Argilla API key: set {KEY_ENV} or pass --api-key")
    if not url.startswith(("http://", "https://")):
        raise ReviewError(f"Argilla URL {url!r} must start with http:// or https://")
    return url, key


def check_server(api_url: str, api_key: str, *, roles: tuple[str, ...] = ("owner", "admin"), timeout: float = 10.0):
    """Who the key belongs to, or a :class:`ReviewError` saying why the server cannot be used."""
    try:
        response = httpx.get(f"{api_url}/api/v1/me", headers={"X-Argilla-Api-Key": api_key}, timeout=timeout)
    except httpx.TimeoutException:
        raise ReviewError(f"Argilla at {api_url} did not answer within {timeout:.0f}s") from None
    except httpx.HTTPError as exc:
        reason = str(exc).strip() or type(exc).__name__
        raise ReviewError(f"cannot reach Argilla at {api_url} ({reason}); {LOCAL_HINT}") from None
    if response.status_code == 401:
        raise ReviewError(f"Argilla at {api_url} rejected the API key (HTTP 401): check {KEY_ENV} or --api-key")
    if response.status_code != 200:
        raise ReviewError(f"{api_url} answered HTTP {response.status_code} to /api/v1/me: is it an Argilla 2.x server?")
    try:
        me = response.json()
    except ValueError:
        raise ReviewError(f"{api_url} does not answer like an Argilla server (no JSON from /api/v1/me)") from None
    role = me.get("role", "")
    if roles and role not in roles:
        raise ReviewError(
            f"the API key belongs to {me.get('username')!r}, a {role or 'user'}; this needs an {' or '.join(roles)} key"
        )
    return Server(api_url, api_key, me.get("username", ""), role)


def connect(api_url: str | None = None, api_key: str | None = None, *, timeout: int = 120) -> Any:
    """An ``rg.Argilla`` client for an owner or admin key, after :func:`check_server`."""
    url, key = credentials(api_url, api_key)
    check_server(url, key)
    import argilla as rg

    with sdk_errors(f"connecting to Argilla at {url}"):
        return rg.Argilla(api_url=url, api_key=key, timeout=timeout, retries=2)


@contextmanager
def sdk_errors(doing: str) -> Iterator[None]:
    """Turn SDK and HTTP failures into one-line :class:`ReviewError`s (``doing``: what was being done)."""
    from argilla._exceptions import ArgillaError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the SDK warns where it returns None ("not found")
            yield
    except ReviewError:
        raise
    except (ArgillaError, httpx.HTTPError) as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ReviewError(f"{doing}: {text[:300]}") from None


def find_workspace(client: Any, name: str) -> Any | None:
    with sdk_errors(f"looking up workspace {name!r}"):
        return client.workspaces(name)


def find_dataset(client: Any, name: str, workspace: str | None = None) -> Any:
    """The dataset ``name`` (in ``workspace`` when given, else in whichever single workspace holds it)."""
    url = client.api_url
    with sdk_errors(f"looking up dataset {name!r}"):
        if workspace:
            ws = client.workspaces(workspace)
            if ws is None:
                raise ReviewError(f"no workspace {workspace!r} on {url}")
            found = [d for d in ws.datasets if d.name == name]
        else:
            found = [d for ws in client.workspaces for d in ws.datasets if d.name == name]
    if not found:
        where = f"workspace {workspace!r}" if workspace else "any workspace"
        raise ReviewError(f"no dataset {name!r} in {where} on {url}")
    if len(found) > 1:
        names = ", ".join(sorted(d.workspace.name for d in found))
        raise ReviewError(f"dataset {name!r} exists in several workspaces ({names}): pass --workspace")
    with sdk_errors(f"reading settings of dataset {name!r}"):
        return found[0].get()  # listed datasets come without their settings
