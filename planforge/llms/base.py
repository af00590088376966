"""What every model client is: chat messages in, one reply out, and counts of what it did.

The OpenAI-compatible client (:mod:`.openai_client`) is plain; the response cache and the rate limits are
layers around any client (:mod:`.layers`), as transports compose in httpx. Each role (teacher, student,
model under evaluation) uses a client through this protocol only."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

Messages = list[dict[str, Any]]


@dataclass(frozen=True)
class ChatReply:
    content: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    batched: bool = False  # answered through a provider's batch API (billed at its batch price)
    finish_reason: str = ""  # the endpoint's choices[0].finish_reason: "stop", "length" (cut at max_tokens)...
    #: the structured-output rung the request was sent with (json_schema, json_object+schema, json_object,
    #: prompt); "" where unknown (a local model)
    structured_output: str = ""


@dataclass
class ClientStats:
    """Shared by a client and its layers: what reached the endpoint and what did not need to."""

    calls: int = 0  # requests sent to the endpoint (retries inside one request not counted)
    cache_hits: int = 0
    failures: int = 0  # requests that failed after retries
    #: how replies are constrained now: json_schema | json_object+schema | json_object | prompt
    structured_output: str = ""
    notes: list[str] = field(default_factory=list)  # what the client decided on its own (fallbacks)
    endpoints: list[Any] = field(default_factory=list)  # an endpoint pool's per-endpoint health (to_dict each)
    batches: dict[str, Any] = field(default_factory=dict)  # a batch layer's batches and counts

    def to_dict(self) -> dict[str, Any]:
        out = {
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "failures": self.failures,
            "structured_output": self.structured_output or None,
            "notes": list(self.notes),
        }
        if self.endpoints:
            out["endpoints"] = [e.to_dict() for e in self.endpoints]
        if self.batches:
            out["batches"] = dict(self.batches)
        return out


class ChatClient(Protocol):
    model: str
    endpoint: str  # the base URL without credentials (what run.json and the summary show)
    stats: ClientStats

    async def chat(self, messages: Messages, params: dict[str, Any]) -> ChatReply:
        """One completion; raises :class:`planforge.errors.LLMError` after retries."""
        ...

    async def aclose(self) -> None: ...
