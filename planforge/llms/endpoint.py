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
    #: how replies are constrained when a schema is given: json_schema (falling back to json_object, then the
    #: prompt alone, where the endpoint refuses), json_object (the same from there), or prompt
    structured_output: str = "json_schema"

    def resolved_base_url(self) -> str | None:
        return self.base_url or os.environ.get("OPENAI_BASE_URL") or None

    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) or None

    def configured(self) -> bool:
        """An endpoint or a key is set: an OpenAI-compatible model can be asked."""
        return bool(self.resolved_base_url() or self.api_key())

    def check(self) -> None:
        base_url = self.resolved_base_url()
        if base_url and scrub_url(base_url) != base_url:
            shown = scrub_url(base_url)
            raise ConfigError(f"the base URL {shown} carries credentials: put the key in {self.api_key_env}")
        if self.api_key() is None and base_url is None:
            raise ConfigError(f"no API key: set {self.api_key_env} (or --base-url for a local endpoint)")


def connect(
    options: EndpointOptions,
    model: str,
    *,
    json_schema: dict[str, Any] | None = None,
    schema_name: str = "reply",
    cache: bool | None = None,
    check: bool = True,
) -> ChatClient:
    """The composed client: ``Cached(RateLimited(OpenAIChatClient))`` (the cache when ``options.use_cache``).
    ``check=False`` (a dry run: nothing will be sent) skips the key check."""
    from planforge.llms.cache import ResponseCache, default_cache_dir
    from planforge.llms.layers import Cached, RateLimited
    from planforge.llms.openai_client import OpenAIChatClient

    if check:
        options.check()
    if options.structured_output not in STRUCTURED_MODES:
        modes = ", ".join(STRUCTURED_MODES)
        raise ConfigError(f"--response-format must be one of {modes}, not {options.structured_output!r}")
    client: ChatClient = OpenAIChatClient(
        model,
        base_url=options.resolved_base_url(),
        api_key=options.api_key() or "",
        max_retries=options.max_retries,
        timeout=options.timeout,
        pool_size=options.concurrency,
        json_schema=json_schema,
        schema_name=schema_name,
        structured_output=options.structured_output,
    )
    client = RateLimited(
        client,
        concurrency=options.concurrency,
        requests_per_minute=options.requests_per_minute,
        tokens_per_minute=options.tokens_per_minute,
    )
    if options.use_cache if cache is None else cache:
        client = Cached(client, ResponseCache(options.cache_dir or default_cache_dir()))
    return client
