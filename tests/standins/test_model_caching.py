"""The stand-in bills prompt caching the way the Messages API does.

Observed through the usage the real SDK parses: what a second request reads from the
cache, what it writes, and what it pays full price for.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import Usage

from standins.model import ModelStandIn, estimate_tokens

KEY = "test-key"
MODEL = "claude-sonnet-5-5"
EPHEMERAL = {"type": "ephemeral"}
BIG = "Rolecall keeps the repository's conventions in mind. " * 120  # ~1,600 tokens


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY, min_cacheable_tokens=1024) as standin:
        standin.respond_with(lambda request: "ok")
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


@pytest.fixture
def client(ms: ModelStandIn) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=KEY, base_url=ms.url, max_retries=0, timeout=10) as sdk:
        yield sdk


def _ask(client: anthropic.Anthropic, model: str = MODEL, **request: Any) -> Usage:
    request.setdefault("messages", [{"role": "user", "content": "What now?"}])
    message = client.messages.create(model=model, max_tokens=64, **request)
    return message.usage


def _total(usage: Usage) -> int:
    return (
        usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )


def test_no_breakpoint_means_no_caching(client: anthropic.Anthropic) -> None:
    for _ in range(2):
        usage = _ask(client, system=BIG)
        assert usage.cache_creation_input_tokens == 0
        assert usage.cache_read_input_tokens == 0
        assert usage.input_tokens >= estimate_tokens(BIG)


def test_a_breakpoint_writes_then_reads_the_prefix(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    first = _ask(client, system=system)
    second = _ask(client, system=system, messages=[{"role": "user", "content": "And then?"}])
    assert first.cache_creation_input_tokens == estimate_tokens(BIG)
    assert first.cache_read_input_tokens == 0
    assert second.cache_read_input_tokens == estimate_tokens(BIG)
    assert second.cache_creation_input_tokens == 0
    # The part after the last breakpoint is always billed as plain input.
    assert first.input_tokens == estimate_tokens("What now?")
    assert second.input_tokens == estimate_tokens("And then?")
    assert first.cache_creation is not None
    assert first.cache_creation.ephemeral_5m_input_tokens == estimate_tokens(BIG)


def test_prefix_below_the_minimum_is_not_cached(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": "Short system prompt.", "cache_control": EPHEMERAL}]
    first = _ask(client, system=system)
    second = _ask(client, system=system)
    assert first.cache_creation_input_tokens == 0
    assert second.cache_read_input_tokens == 0


def test_longest_cached_prefix_is_read_and_the_rest_written(
    client: anthropic.Anthropic,
) -> None:
    tools = [
        {
            "name": "Read",
            "description": BIG,
            "input_schema": {"type": "object", "properties": {}},
            "cache_control": EPHEMERAL,
        }
    ]
    system = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    first = _ask(client, tools=tools)  # caches the tools alone
    second = _ask(client, tools=tools, system=system)
    assert first.cache_creation_input_tokens and not first.cache_read_input_tokens
    assert second.cache_read_input_tokens == first.cache_creation_input_tokens
    assert second.cache_creation_input_tokens == estimate_tokens(BIG)
    assert _total(second) == _total(first) + estimate_tokens(BIG)


def test_growing_conversation_reads_the_previous_turn(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    turn_one = [
        {"role": "user", "content": [{"type": "text", "text": "Q1", "cache_control": EPHEMERAL}]}
    ]
    first = _ask(client, system=system, messages=turn_one)
    turn_two = [
        {"role": "user", "content": [{"type": "text", "text": "Q1"}]},
        {"role": "assistant", "content": "A1"},
        {"role": "user", "content": [{"type": "text", "text": "Q2", "cache_control": EPHEMERAL}]},
    ]
    second = _ask(client, system=system, messages=turn_two)
    # Q1's entry is found by looking back from the new breakpoint.
    assert second.cache_read_input_tokens == _total(first)
    assert second.cache_creation_input_tokens == estimate_tokens("A1") + estimate_tokens("Q2")
    assert second.input_tokens == 0


def test_lookback_stops_after_twenty_blocks(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    _ask(client, system=system)  # cache the system prompt
    blocks: list[dict[str, Any]] = [{"type": "text", "text": f"note {i}"} for i in range(21)]
    blocks[-1]["cache_control"] = EPHEMERAL
    far = _ask(
        client,
        system=[{"type": "text", "text": BIG}],
        messages=[{"role": "user", "content": blocks}],
    )
    assert far.cache_read_input_tokens == 0  # 22 blocks back: out of reach
    near = _ask(
        client,
        system=[{"type": "text", "text": BIG}],
        messages=[{"role": "user", "content": blocks[-20:]}],
    )
    assert near.cache_read_input_tokens == estimate_tokens(BIG)


def test_entries_expire_after_their_ttl(ms: ModelStandIn, client: anthropic.Anthropic) -> None:
    five = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    _ask(client, system=five)
    ms.advance(299)
    assert _ask(client, system=five).cache_read_input_tokens  # a hit refreshes the TTL
    ms.advance(299)
    assert _ask(client, system=five).cache_read_input_tokens
    ms.advance(301)
    expired = _ask(client, system=five)
    assert expired.cache_read_input_tokens == 0
    assert expired.cache_creation_input_tokens == estimate_tokens(BIG)


def test_one_hour_ttl_is_honoured(ms: ModelStandIn, client: anthropic.Anthropic) -> None:
    hour = [
        {
            "type": "text",
            "text": BIG + " (hourly)",
            "cache_control": {"type": "ephemeral", "ttl": "1h"},
        }
    ]
    first = _ask(client, system=hour)
    assert first.cache_creation is not None
    assert first.cache_creation.ephemeral_1h_input_tokens == first.cache_creation_input_tokens
    ms.advance(1800)
    assert _ask(client, system=hour).cache_read_input_tokens
    ms.advance(3601)
    assert _ask(client, system=hour).cache_read_input_tokens == 0


def test_caches_are_per_model(client: anthropic.Anthropic) -> None:
    system = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    _ask(client, system=system)
    other = _ask(client, model="claude-opus-5-5", system=system)
    assert other.cache_read_input_tokens == 0


def test_top_level_cache_control_marks_the_last_block(client: anthropic.Anthropic) -> None:
    messages = [{"role": "user", "content": BIG}]
    first = _ask(client, messages=messages, extra_body={"cache_control": EPHEMERAL})
    second = _ask(client, messages=messages, extra_body={"cache_control": EPHEMERAL})
    assert first.cache_creation_input_tokens == estimate_tokens(BIG)
    assert second.cache_read_input_tokens == estimate_tokens(BIG)


def test_more_than_four_breakpoints_is_refused(
    ms: ModelStandIn, client: anthropic.Anthropic
) -> None:
    blocks = [{"type": "text", "text": f"part {i}", "cache_control": EPHEMERAL} for i in range(5)]
    with pytest.raises(anthropic.BadRequestError) as raised:
        _ask(client, system=blocks)
    assert raised.value.type == "invalid_request_error"
    assert "A maximum of 4 blocks with cache_control may be provided. Found 5." in str(raised.value)


def test_one_hour_entries_must_come_first(client: anthropic.Anthropic) -> None:
    system = [
        {"type": "text", "text": "short-lived", "cache_control": EPHEMERAL},
        {"type": "text", "text": "long-lived", "cache_control": {"type": "ephemeral", "ttl": "1h"}},
    ]
    with pytest.raises(anthropic.BadRequestError, match="ttl '1h' must come before"):
        _ask(client, system=system)


def test_a_string_is_the_one_text_block_it_stands_for(client: anthropic.Anthropic) -> None:
    """`content: "…"` is shorthand for one text block: the cached prefix is the same."""
    marked = [{"type": "text", "text": BIG, "cache_control": EPHEMERAL}]
    later = {
        "role": "user",
        "content": [{"type": "text", "text": "Next?", "cache_control": EPHEMERAL}],
    }
    first = _ask(client, messages=[{"role": "user", "content": marked}])
    assert first.cache_creation_input_tokens == estimate_tokens(BIG)
    reply = {"role": "assistant", "content": "ok"}
    second = _ask(client, messages=[{"role": "user", "content": BIG}, reply, later])
    assert second.cache_read_input_tokens == estimate_tokens(BIG)
