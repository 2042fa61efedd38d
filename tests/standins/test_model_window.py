"""The stand-in enforces each model's context window the way the Messages API does.

Observed through the real SDK: a prompt over the window is a 400 `invalid_request_error`
saying "prompt is too long: N tokens > M maximum", where N counts the prompt exactly as
the usage of an accepted request counts it (input + cache writes + cache reads).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import Message

from standins.model import ModelStandIn

KEY = "test-key"
EPHEMERAL = {"type": "ephemeral"}
SMALL = "claude-test-small"  # given a 3,000-token window below; unknown to the table
SYSTEM = "Rolecall keeps the repository's conventions in mind. " * 120  # ~1,600 tokens


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY, context_windows={SMALL: 3_000}) as standin:
        standin.respond_with(lambda request: "ok " * 2_000)
        yield standin
    assert standin.errors == []


@pytest.fixture
def client(ms: ModelStandIn) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(api_key=KEY, base_url=ms.url, max_retries=0, timeout=10) as sdk:
        yield sdk


def _ask(client: anthropic.Anthropic, model: str, words: int, max_tokens: int = 64) -> Message:
    """A request with a cached system prompt and a question of `words` words."""
    return client.messages.create(
        model=model,
        max_tokens=max_tokens,
        system=[{"type": "text", "text": SYSTEM, "cache_control": EPHEMERAL}],
        messages=[{"role": "user", "content": "word " * words}],
    )


def _prompt(message: Message) -> int:
    usage = message.usage
    return (
        usage.input_tokens
        + (usage.cache_creation_input_tokens or 0)
        + (usage.cache_read_input_tokens or 0)
    )


def _refusal(client: anthropic.Anthropic, model: str, words: int, **options: Any) -> str:
    with pytest.raises(anthropic.BadRequestError) as refused:
        _ask(client, model, words, **options)
    error = refused.value
    assert error.status_code == 400
    body = error.body
    assert isinstance(body, dict)
    assert body["error"]["type"] == "invalid_request_error"
    return str(body["error"]["message"])


def test_a_prompt_over_the_window_is_refused_and_counted_like_usage(
    client: anthropic.Anthropic, ms: ModelStandIn
) -> None:
    said = _refusal(client, SMALL, words=1_200)

    # The same request on a model with room: its usage is the N the refusal named.
    accepted = _ask(client, "claude-test-large", words=1_200)
    assert said == f"prompt is too long: {_prompt(accepted)} tokens > 3000 maximum"
    assert accepted.usage.cache_creation_input_tokens, "cache writes count toward the window"
    # And cache reads count too: the second time the system prompt is read from cache.
    again = _ask(client, "claude-test-large", words=1_200)
    assert again.usage.cache_read_input_tokens
    assert _prompt(again) == _prompt(accepted)


def test_a_refused_request_uses_no_scripted_turn(
    client: anthropic.Anthropic, ms: ModelStandIn
) -> None:
    ms.script(["kept for later"])
    _refusal(client, SMALL, words=1_200)
    assert ms.pending_turns == 1
    assert _ask(client, SMALL, words=10).content[0].text == "kept for later"  # type: ignore[union-attr]


def test_the_windows_are_the_apis_for_known_models(client: anthropic.Anthropic) -> None:
    words = 164_000  # five characters a word: ~207k tokens with the system prompt
    said = _refusal(client, "claude-haiku-4-5-20251001", words=words)
    assert said.endswith("tokens > 200000 maximum")
    assert _prompt(_ask(client, "claude-sonnet-5-5", words=words)) > 200_000, "a 1M window"


def test_an_answer_that_would_run_past_the_window_stops_there(
    client: anthropic.Anthropic, ms: ModelStandIn
) -> None:
    fits = _ask(client, SMALL, words=900)  # about 2,500 of the 3,000 tokens
    room = 3_000 - _prompt(fits)
    long = _ask(client, SMALL, words=900, max_tokens=2_000)

    assert long.stop_reason == "model_context_window_exceeded"
    assert long.usage.output_tokens <= room


def test_older_models_refuse_a_max_tokens_that_may_not_fit(client: anthropic.Anthropic) -> None:
    said = _refusal(client, "claude-opus-4-1", words=155_000, max_tokens=8_000)
    assert said.startswith("input length and `max_tokens` exceed context limit: ")
    assert said.endswith("> 200000, decrease input length or `max_tokens` and try again")
