"""One LLM layer, used in every role: teacher (:mod:`planforge.generator.teachers`), student (:mod:`planforge.pairs`),
model under evaluation (:mod:`planforge.trainers.evaluate`).

* :mod:`~planforge.llms.base` -- :class:`ChatClient` (messages in, :class:`ChatReply` out) and its stats;
* :mod:`~planforge.llms.openai_client` -- the plain OpenAI-compatible async client (structured output with fallback);
* :mod:`~planforge.llms.layers` -- :class:`Cached` and :class:`RateLimited`, composed around any client;
* :mod:`~planforge.llms.cache` -- the on-disk reply cache; :mod:`~planforge.llms.endpoint` -- endpoint settings;
* :mod:`~planforge.llms.local` -- local transformers models (hub id, folder, GGUF) and plan generation (greedy or
  sampled);
* :mod:`~planforge.llms.planners` -- prompts -> plan texts, from an endpoint or a local model;
* :mod:`~planforge.llms.retrieval` -- the sentence encoder, the ToolRAG classifier, the demonstration index;
* :mod:`~planforge.llms.views` -- what a planner is shown for a request (functions, demonstrations), for every role;
* :mod:`~planforge.llms.output` -- :func:`clean_output`, the one cleaning of a model's answer.

Importing this package is cheap: the SDK, torch and transformers load inside the functions that use them.
"""

from planforge.llms.base import ChatClient, ChatReply, ClientStats
from planforge.llms.endpoint import EndpointOptions, connect
from planforge.llms.output import clean_output

__all__ = ["ChatClient", "ChatReply", "ClientStats", "EndpointOptions", "clean_output", "connect"]
