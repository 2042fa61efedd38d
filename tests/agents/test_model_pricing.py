"""Costs come from the published price table, and are unknown (None) when it has no row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from anthropic.types import CacheCreation
from anthropic.types import Usage as ApiUsage

from agents.pricing import PRICES, Usage, cost_usd, price_for

MILLION = 1_000_000


def test_sonnet_5_5_bills_each_kind_of_token_at_its_price() -> None:
    usage = Usage(
        input_tokens=MILLION,
        output_tokens=MILLION,
        cache_creation_input_tokens=MILLION,
        cache_read_input_tokens=MILLION,
    )
    # $2 in + $10 out + $2.50 5-minute write + $0.10 read
    assert cost_usd("claude-sonnet-5-5", usage) == Decimal("14.60")


def test_small_usage_is_priced_exactly() -> None:
    usage = Usage(input_tokens=1200, output_tokens=350, cache_read_input_tokens=10_000)
    # 1200 * 4 + 350 * 20 + 10000 * 0.20, per million
    assert cost_usd("claude-opus-5-5", usage) == Decimal("0.0138")


def test_one_hour_cache_writes_use_the_one_hour_price() -> None:
    usage = Usage(cache_creation_input_tokens=MILLION, cache_creation_1h_input_tokens=MILLION)
    assert cost_usd("claude-opus-4-8", usage) == Decimal(10)
    half = Usage(cache_creation_input_tokens=MILLION, cache_creation_1h_input_tokens=MILLION // 2)
    assert cost_usd("claude-opus-4-8", half) == Decimal("8.125")


def test_haiku_5_5_long_prompts_are_billed_at_the_higher_band() -> None:
    short = Usage(input_tokens=100_000, output_tokens=1000)
    long = Usage(input_tokens=60_000, cache_read_input_tokens=40_001, output_tokens=1000)
    assert cost_usd("claude-haiku-5-5", short) == Decimal("0.0105")  # 0.10 / 0.50
    assert cost_usd("claude-haiku-5-5", long) == Decimal("0.03450005")  # 0.50 / 0.05 / 2.50


@pytest.mark.parametrize(
    ("model_id", "input_price"),
    [
        ("claude-haiku-4-5-20251001", Decimal(1)),
        ("claude-sonnet-4-5-20250929", Decimal(3)),
        ("claude-sonnet-4-20250514", Decimal(3)),
        ("claude-opus-4-1-20250805", Decimal(15)),
        ("claude-opus-4-5", Decimal(5)),
        ("claude-sonnet-4-6", Decimal(3)),
    ],
)
def test_snapshot_ids_and_the_4x_family_are_priced(model_id: str, input_price: Decimal) -> None:
    table = price_for(model_id)
    assert table is not None
    assert table.base.input == input_price


@pytest.mark.parametrize("model_id", ["qwen2.5-coder:7b", "claude-sonnet-9", "gpt-5", ""])
def test_unpriced_models_have_no_cost(model_id: str) -> None:
    assert cost_usd(model_id, Usage(input_tokens=10, output_tokens=10)) is None


def test_cache_prices_keep_their_usual_ratios_to_input() -> None:
    for model_id, table in PRICES.items():
        price = table.base
        assert price.cache_write_5m == price.input * Decimal("1.25"), model_id
        assert price.cache_write_1h == price.input * 2, model_id
        assert price.cache_read < price.input, model_id


def test_usage_adds_up_across_turns() -> None:
    total = Usage(1, 2, 3, 4, 1) + Usage(10, 20, 30, 40, 10)
    assert total == Usage(11, 22, 33, 44, 11)
    assert total.prompt_tokens == 11 + 33 + 44


def test_usage_from_the_sdk_type() -> None:
    api = ApiUsage(
        input_tokens=5,
        output_tokens=7,
        cache_creation_input_tokens=None,
        cache_read_input_tokens=3,
        cache_creation=CacheCreation(ephemeral_1h_input_tokens=0, ephemeral_5m_input_tokens=0),
    )
    assert Usage.from_api(api) == Usage(5, 7, 0, 3, 0)
    assert cost_usd("claude-sonnet-5-5", api) == cost_usd("claude-sonnet-5-5", Usage(5, 7, 0, 3))
