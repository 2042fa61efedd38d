"""Bounds on one agent run, and which of them a run has reached.

Turns, time and cost bound every run; when no price is known for the model, a token
limit bounds it instead of the cost (`counted_tokens`). The executor checks these at
the top of each turn; the time limit is also a deadline each model call and command
is held to (agents.executor).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agents.outcome import LimitsExceeded
from agents.pricing import Usage


@dataclass(frozen=True)
class Limits:
    """Bounds on one run. `max_cost_usd=None` means no cost bound. `context_window` is the
    window in tokens of a model `agents.context_window` does not know (None: 200k)."""

    max_turns: int = 50
    max_seconds: float = 1800
    max_cost_usd: Decimal | None = Decimal("5")
    # Extended thinking's budget in tokens (>= 1024), or None for no thinking.
    thinking_budget: int | None = None
    # Bounds a run whose cost is unknown (no price for its model), in `counted_tokens`;
    # None: unbounded.
    max_total_tokens: int | None = None
    context_window: int | None = None

    def as_record(self) -> dict[str, Any]:
        """The limits as the transcript records them."""
        return {
            "max_turns": self.max_turns,
            "max_seconds": self.max_seconds,
            "max_cost_usd": money(self.max_cost_usd),
            "max_total_tokens": self.max_total_tokens,
            "thinking_budget": self.thinking_budget,
            "context_window": self.context_window,
        }


def limit_reached(
    limits: Limits,
    *,
    turns: int,
    elapsed: float,
    cost: Decimal | None,
    usage: Usage,
    model: str,
) -> LimitsExceeded | None:
    """The first limit a run with these turns, seconds, cost and tokens has reached."""
    if turns >= limits.max_turns:
        return LimitsExceeded(
            "turn_limit", f"stopped after {turns} turns (limit {limits.max_turns})"
        )
    if elapsed >= limits.max_seconds:
        return LimitsExceeded(
            "time_limit", f"stopped after {elapsed:.0f} s (limit {limits.max_seconds:.0f} s)"
        )
    bound = limits.max_cost_usd
    if bound is not None and cost is not None and cost >= bound:
        return LimitsExceeded("cost_limit", f"stopped at ${cost:.4f} (limit ${bound})")
    cap, used = limits.max_total_tokens, counted_tokens(usage)
    if cost is None and cap is not None and used >= cap:
        return LimitsExceeded(
            "token_limit",
            f"stopped after {used:,} tokens (limit {cap:,}): no price is known for "
            f"{model}, so tokens bound the run instead of its cost",
        )
    return None


def counted_tokens(usage: Usage) -> int:
    """The tokens a run's token limit counts: every token, cache reads at a tenth.

    The token limit stands in for the cost limit when no price is known, so it weighs
    tokens roughly as every Claude price table does: a cache read costs a tenth of an
    input token. Counted plainly, a long run that rereads its cached prompt each turn
    would reach any useful limit long before it cost much.
    """
    return (
        usage.input_tokens
        + usage.cache_creation_input_tokens
        + usage.output_tokens
        + usage.cache_read_input_tokens // 10
    )


def money(value: Decimal | None) -> str | None:
    """A USD amount as the transcript records it (exact, as text), or None when unknown."""
    return None if value is None else str(value)
