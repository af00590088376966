"""Token prices (USD per 1M tokens, prompt and completion) and the cost of a run.

The table holds list prices of common OpenAI models; a recipe's ``pricing`` or ``--price IN,OUT``
overrides it. Unknown models cost $0 and the run says so. Replies that came through a batch (``--batch``) cost
:data:`BATCH_PRICE_FACTOR` of that."""

from __future__ import annotations

from collections.abc import Mapping

PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4-turbo": (10.0, 30.0),
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "gpt-3.5-turbo": (0.50, 1.50),
    "o3-mini": (1.10, 4.40),
    "o4-mini": (1.10, 4.40),
}


#: what a provider's batch API charges of the online price (OpenAI's and Anthropic's: half)
BATCH_PRICE_FACTOR = 0.5


def price_for(model: str, overrides: Mapping[str, tuple[float, float]] = {}) -> tuple[float, float] | None:
    """The longest-prefix match of ``model`` in the overrides, then in the table."""
    for table in (overrides, PRICES_PER_MTOK):
        matches = [name for name in table if model == name or model.startswith(name + "-")]
        if matches:
            return tuple(table[max(matches, key=len)])  # type: ignore[return-value]
    return None


def cost_usd(price: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int) -> float:
    if price is None:
        return 0.0
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


def parse_price(text: str) -> tuple[float, float]:
    """``"2.5,10"`` -> (prompt, completion) USD per 1M tokens."""
    from planforge.errors import ConfigError

    try:
        prompt, completion = (float(x) for x in text.split(","))
    except ValueError:
        raise ConfigError(f"--price must be PROMPT,COMPLETION in USD per 1M tokens, not {text!r}") from None
    return prompt, completion
