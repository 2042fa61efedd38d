"""What a run cost: one price table per model, and token usage that adds up across turns.

Prices are USD per million tokens, from Anthropic's published tables (sources below). A
model missing from the table has no price: `cost_usd` answers None and the UI says "cost
unknown". We never guess a price from a model's family name, because a wrong number
shown as a cost is worse than an honest "unknown".

Sources, read 2026-10 (model overview pages and the pricing page on
platform.claude.com/docs, "Model pricing" / "Prompt caching"):

- Opus 4.5-4.8 and Opus 5: $5 in / $25 out, 5m write $6.25, 1h write $10, read $0.50.
- Opus 4 and 4.1: $15 / $75, writes $18.75 / $30, read $1.50.
- Opus 5.5: $4 / $20, writes $5 / $8, read $0.20 (its overview page).
- Sonnet 4, 4.5, 4.6: $3 / $15, writes $3.75 / $6, read $0.30.
- Sonnet 5: $2 / $10, writes $2.50 / $4, read $0.20.
- Sonnet 5.5: $2 / $10, writes $2.50 / $4. Its cache read was $0.20 at launch; several
  pricing trackers that re-checked the official page record a cut to $0.10 effective
  2026-10-07, which is what the table holds. Re-check when updating this file.
- Haiku 4.5: $1 / $5, writes $1.25 / $2, read $0.10.
- Haiku 5.5 is priced by prompt length: a request whose prompt (input + cache writes +
  cache reads) is at most 100,000 tokens pays $0.10 / $0.50, writes $0.125 / $0.20,
  read $0.01; a longer prompt pays $0.50 / $2.50, writes $0.625 / $1.00, read $0.05 on
  every token of that request. That is why cost is computed per response and summed,
  never from usage already added up across turns.

Not modelled: Batch API discounts, `inference_geo` surcharges, fast mode, and long-context
premiums on older models. Rolecall uses none of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

_PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens for each kind of token the API bills."""

    input: Decimal
    output: Decimal
    cache_write_5m: Decimal
    cache_write_1h: Decimal
    cache_read: Decimal


@dataclass(frozen=True)
class PriceTable:
    """A model's price, with an optional dearer band for long prompts (Haiku 5.5)."""

    base: ModelPrice
    long_prompt_threshold: int | None = None
    long_prompt: ModelPrice | None = None

    def for_prompt(self, prompt_tokens: int) -> ModelPrice:
        """The band a single request with this many prompt tokens is billed at."""
        if (
            self.long_prompt is not None
            and self.long_prompt_threshold is not None
            and prompt_tokens > self.long_prompt_threshold
        ):
            return self.long_prompt
        return self.base


def _price(input: str, output: str, write_5m: str, write_1h: str, read: str) -> ModelPrice:
    return ModelPrice(
        input=Decimal(input),
        output=Decimal(output),
        cache_write_5m=Decimal(write_5m),
        cache_write_1h=Decimal(write_1h),
        cache_read=Decimal(read),
    )


_OPUS_4_5_TIER = PriceTable(_price("5", "25", "6.25", "10", "0.50"))
_OPUS_4_TIER = PriceTable(_price("15", "75", "18.75", "30", "1.50"))
_SONNET_4_TIER = PriceTable(_price("3", "15", "3.75", "6", "0.30"))

PRICES: Mapping[str, PriceTable] = {
    # Claude 5.5
    "claude-opus-5-5": PriceTable(_price("4", "20", "5", "8", "0.20")),
    "claude-sonnet-5-5": PriceTable(_price("2", "10", "2.50", "4", "0.10")),
    "claude-haiku-5-5": PriceTable(
        _price("0.10", "0.50", "0.125", "0.20", "0.01"),
        long_prompt_threshold=100_000,
        long_prompt=_price("0.50", "2.50", "0.625", "1.00", "0.05"),
    ),
    # Claude 5
    "claude-opus-5": _OPUS_4_5_TIER,
    "claude-sonnet-5": PriceTable(_price("2", "10", "2.50", "4", "0.20")),
    # Claude 4.x
    "claude-opus-4-8": _OPUS_4_5_TIER,
    "claude-opus-4-7": _OPUS_4_5_TIER,
    "claude-opus-4-6": _OPUS_4_5_TIER,
    "claude-opus-4-5": _OPUS_4_5_TIER,
    "claude-opus-4-1": _OPUS_4_TIER,
    "claude-opus-4-0": _OPUS_4_TIER,
    "claude-sonnet-4-6": _SONNET_4_TIER,
    "claude-sonnet-4-5": _SONNET_4_TIER,
    "claude-sonnet-4-0": _SONNET_4_TIER,
    "claude-haiku-4-5": PriceTable(_price("1", "5", "1.25", "2", "0.10")),
}

# Snapshot ids end in a date ("claude-haiku-4-5-20251001"); they bill like their alias.
_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")
# Older spellings of the same models.
_SPELLINGS = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}


class _ApiUsage(Protocol):
    """The shape of `anthropic.types.Usage`, so this module needs no SDK import."""

    input_tokens: int
    output_tokens: int
    cache_creation_input_tokens: int | None
    cache_read_input_tokens: int | None


@dataclass(frozen=True)
class Usage:
    """Tokens billed, in the API's four kinds; `+` adds turns up.

    `cache_creation_1h_input_tokens` is the part of `cache_creation_input_tokens` written
    with a one-hour TTL, billed at the dearer 1h write price.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_1h_input_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_creation_input_tokens=(
                self.cache_creation_input_tokens + other.cache_creation_input_tokens
            ),
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cache_creation_1h_input_tokens=(
                self.cache_creation_1h_input_tokens + other.cache_creation_1h_input_tokens
            ),
        )

    @property
    def prompt_tokens(self) -> int:
        """Every input token of the request, however it was billed."""
        return self.input_tokens + self.cache_creation_input_tokens + self.cache_read_input_tokens

    @classmethod
    def from_api(cls, usage: _ApiUsage) -> Usage:
        """Convert the SDK's `Usage` (whose cache fields may be None) into ours."""
        one_hour = 0
        breakdown = getattr(usage, "cache_creation", None)
        if breakdown is not None:
            one_hour = int(getattr(breakdown, "ephemeral_1h_input_tokens", 0) or 0)
        return cls(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_creation_input_tokens=usage.cache_creation_input_tokens or 0,
            cache_read_input_tokens=usage.cache_read_input_tokens or 0,
            cache_creation_1h_input_tokens=one_hour,
        )

    def as_dict(self) -> dict[str, int]:
        """A plain mapping for transcripts and the ledger."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation_1h_input_tokens": self.cache_creation_1h_input_tokens,
        }


def price_for(model_id: str) -> PriceTable | None:
    """The price table for a model id, accepting dated snapshot ids; None when unpriced."""
    model_id = model_id.strip().lower()
    model_id = _SNAPSHOT_SUFFIX.sub("", model_id)
    model_id = _SPELLINGS.get(model_id, model_id)
    return PRICES.get(model_id)


def has_price(provider: str, model_id: str) -> bool:
    """Whether a run on this model can be costed: Anthropic's models in the table only.

    The executor prices turns only for the `anthropic` provider; for anything else the
    cost is unknown, so a cost limit cannot stop the run (a token limit does).
    """
    return provider == "anthropic" and price_for(model_id) is not None


def cost_usd(model_id: str, usage: Usage | _ApiUsage) -> Decimal | None:
    """The USD cost of one response's usage, or None when the model has no known price.

    Pass the usage of a single response and add the costs of several responses up:
    for models priced by prompt length the band depends on each request's own prompt.
    """
    table = price_for(model_id)
    if table is None:
        return None
    if not isinstance(usage, Usage):
        usage = Usage.from_api(usage)
    price = table.for_prompt(usage.prompt_tokens)
    one_hour = min(usage.cache_creation_1h_input_tokens, usage.cache_creation_input_tokens)
    five_minute = usage.cache_creation_input_tokens - one_hour
    total = (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + five_minute * price.cache_write_5m
        + one_hour * price.cache_write_1h
        + usage.cache_read_input_tokens * price.cache_read
    )
    return total / _PER_MILLION
