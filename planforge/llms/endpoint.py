"""Where a model is served and how to talk to it: the settings every OpenAI-compatible role shares
(teacher, student, model under evaluation, judge), and the one function that composes the client."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planforge.errors import ConfigError
from planforge.llms.base import ChatClient
from planforge.llms.openai_client import STRUCTURED_MODES
from planforge.secrets import scrub_url


@dataclass
class EndpointOptions:
    model: str | None = None
    base_url: str | None = None  # default: $OPENAI_BASE_URL, else OpenAI
    api_key_env: str = "OPENAI_API_KEY"  # the environment variable holding the key (never the key itself)
    concurrency: int = 32
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    max_retries: int = 6
    timeout: float = 120.0
    cache_dir: Path | None = None  # default: ~/.cache/planforge/responses
    use_cache: bool = True
    #: how replies are constrained when a schema is given: json_schema (falling back to json_object with the
    #: schema, plain json_object, then the prompt alone, where the endpoint refuses), json_object (the same from
    #: json_object with the schema), or prompt
    structured_output: str = "json_schema"
    #: several endpoints serving the model, as (base URL, concurrency or None for ``concurrency``): requests are
    #: spread across them (:class:`~planforge.llms.pool.EndpointPool`); empty: ``base_url`` alone
    endpoints: tuple[tuple[str, int | None], ...] = ()
    batch: bool = False  # send requests as provider batches (half price), failures online
    batch_size: int = 1000  # requests per batch at most
    batch_poll_seconds: float = 30.0
    batch_flush_seconds: float = 2.0  # a batch not full is submitted once no request joined it for this long

    def endpoint_list(self) -> list[tuple[str | None, int]]:
        """(base URL, concurrency) of every endpoint to use."""
        if self.endpoints:
            return [(url, concurrency or self.concurrency) for url, concurrency in self.endpoints]
        return [(self.resolved_base_url(), self.concurrency)]

    def total_concurrency(self) -> int:
        return sum(concurrency for _, concurrency in self.endpoint_list())

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def configured(self) -> bool:
        """An endpoint or a key is set: an OpenAI-compatible model can be asked."""
        return bool(self.endpoints or self.resolved_base_url() or self.api_key())

    def check(self) -> None:
        for base_url, _ in self.endpoint_list():
            if base_url and scrub_url(base_url) != base_url:
                shown = scrub_url(base_url)
                raise ConfigError(f"the base URL {shown} carries credentials: put the key in {self.api_key_env}")
        base_url = self.endpoint_list()[0][0]
        if self.api_key() is None and base_url is None:
            raise ConfigError(f"no API key: set {self.api_key_env} (or --base-url for a local endpoint)")


def endpoints_given(urls: list[str], file: Path | None) -> list[tuple[str, int | None]]:
    """``--base-url`` values and the lines of an endpoints file (``URL [CONCURRENCY]``) as (URL, concurrency)."""
    found: list[tuple[str, int | None]] = [(url, None) for url in urls]
    if file is not None:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ConfigError(f"--endpoints {file}: {exc.strerror or exc}") from None
        for number, line in enumerate(lines, start=1):
            parts = line.split("#", 1)[0].split()
            if not parts:
                continue
            if len(parts) > 2 or (len(parts) == 2 and not parts[1].isdigit()):
                raise ConfigError(f"--endpoints {file}:{number}: expected 'URL [CONCURRENCY]', not {line.strip()!r}")
            found.append((parts[0], int(parts[1]) if len(parts) == 2 else None))
    return found or [(None, None)]  # type: ignore[list-item]


#: SDK retries of each endpoint of a pool (the pool tries the request on another endpoint after them)
POOL_MEMBER_RETRIES = 2


def connect(
    options: EndpointOptions,
    model: str,
    *,
    json_schema: dict[str, Any] | None = None,
    schema_name: str = "reply",
    cache: bool | None = None,
    check: bool = True,
) -> ChatClient:
    """The composed client: ``Cached(RateLimited(OpenAIChatClient))`` (the cache when ``options.use_cache``), or
    with several endpoints ``Cached(EndpointPool([RateLimited(OpenAIChatClient), ...]))``; requests and tokens
    per minute limit the whole (one more ``RateLimited``).
    ``check=False`` (a dry run: nothing will be sent) skips the key check."""
    from planforge.llms.cache import ResponseCache, default_cache_dir
    from planforge.llms.layers import Cached, RateLimited
    from planforge.llms.openai_client import OpenAIChatClient

    if check:
        options.check()
    if options.batch and len(options.endpoint_list()) > 1:
        raise ConfigError("--batch sends batches to one endpoint: give one --base-url")
    if options.structured_output not in STRUCTURED_MODES:
        modes = ", ".join(STRUCTURED_MODES)
        raise ConfigError(f"--response-format must be one of {modes}, not {options.structured_output!r}")
    endpoints = options.endpoint_list()
    several = len(endpoints) > 1
    cached = options.use_cache if cache is None else cache
    store = ResponseCache(options.cache_dir or default_cache_dir()) if cached else None
    members: list[ChatClient] = []
    for base_url, concurrency in endpoints:
        member: ChatClient = OpenAIChatClient(
            model,
            base_url=base_url,
            api_key=options.api_key() or "",
            # in a pool a failing endpoint hands the request to another rather than spend the whole back-off
            max_retries=min(options.max_retries, POOL_MEMBER_RETRIES) if several else options.max_retries,
            timeout=options.timeout,
            pool_size=concurrency,
            json_schema=json_schema,
            schema_name=schema_name,
            structured_output=options.structured_output,
            memory=store,  # the rung each endpoint settled on, for the next run
        )
        members.append(RateLimited(member, concurrency=concurrency))
    if several:
        from planforge.llms.pool import EndpointPool

        client: ChatClient = EndpointPool(
            members, [c for _, c in endpoints], attempts=max(len(members), options.max_retries + 1)
        )
    elif options.batch:
        from planforge.llms.batch import Batched

        plain = members[0].inner  # type: ignore[attr-defined]
        client = Batched(
            plain,
            members[0],
            max_size=options.batch_size,
            flush_after=options.batch_flush_seconds,
            poll_every=options.batch_poll_seconds,
        )
    else:
        client = members[0]
    if options.requests_per_minute or options.tokens_per_minute:
        client = RateLimited(
            client,
            concurrency=options.total_concurrency(),
            requests_per_minute=options.requests_per_minute,
            tokens_per_minute=options.tokens_per_minute,
        )
    if store is not None:
        client = Cached(client, store)
    return client
