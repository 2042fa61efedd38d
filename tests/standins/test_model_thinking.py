"""Extended thinking and overload storms in the model stand-in, through the real SDK.

The stand-in checks the `thinking` parameter as the Messages API does, returns signed
thinking blocks from scripted turns (only when thinking is enabled), and refuses a
conversation whose thinking was dropped or altered, so an agent loop that mishandles
thinking blocks fails in tests the way it would against the API.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pydantic
import pytest
from anthropic.types import RawMessageStreamEvent

from standins.model import ModelStandIn, Turn, text, thinking, tool_use

KEY = "test-key"
MODEL = "claude-sonnet-4-5"
TOOL = {
    "name": "Bash",
    "description": "Run a command.",
    "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
}
ENABLED = {"type": "enabled", "budget_tokens": 2048}


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


def _sdk(ms: ModelStandIn) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key=KEY, base_url=ms.url, max_retries=0, timeout=10)


def _ask(sdk: anthropic.Anthropic, messages: list[dict[str, Any]], **options: Any) -> Any:
    options.setdefault("max_tokens", 4096)
    with sdk.messages.stream(model=MODEL, messages=messages, tools=[TOOL], **options) as stream:
        return stream.get_final_message()


@pytest.mark.parametrize(
    ("config", "max_tokens", "said"),
    [
        ({"type": "enabled", "budget_tokens": 1000}, 4096, "greater than or equal to 1024"),
        ({"type": "enabled", "budget_tokens": 4096}, 4096, "must be greater than"),
        ({"type": "enabled"}, 4096, "budget_tokens: Field required"),
        ({"type": "sometimes"}, 4096, "thinking.type"),
    ],
)
def test_a_thinking_parameter_the_api_refuses_is_a_400(
    ms: ModelStandIn, config: dict[str, Any], max_tokens: int, said: str
) -> None:
    ms.script(["never sent"])
    with _sdk(ms) as sdk, pytest.raises(anthropic.BadRequestError) as caught:
        _ask(sdk, [{"role": "user", "content": "Hi"}], thinking=config, max_tokens=max_tokens)
    assert said in str(caught.value.message)


def test_thinking_blocks_come_signed_first_and_are_billed_as_output(ms: ModelStandIn) -> None:
    plan = "The tests live in tests/; run them before touching anything. " * 20
    ms.script([Turn([thinking(plan), text("Running."), tool_use("Bash", {"command": "ls"})])])
    with _sdk(ms) as sdk:
        message = _ask(sdk, [{"role": "user", "content": "Run the tests."}], thinking=ENABLED)
    assert [block.type for block in message.content] == ["thinking", "text", "tool_use"]
    assert message.content[0].thinking == plan
    assert message.content[0].signature
    assert message.usage.output_tokens >= len(plan) // 4


def test_thinking_is_left_out_when_the_request_did_not_enable_it(ms: ModelStandIn) -> None:
    ms.script([Turn([thinking("private plan"), text("Hello.")])])
    with _sdk(ms) as sdk:
        message = _ask(sdk, [{"role": "user", "content": "Hi"}])
    assert [block.type for block in message.content] == ["text"]


def _first_turn(ms: ModelStandIn, sdk: anthropic.Anthropic) -> list[dict[str, Any]]:
    ms.script([Turn([thinking("I should look first."), tool_use("Bash", {"command": "ls"})])])
    first = _ask(sdk, [{"role": "user", "content": "Look around."}], thinking=ENABLED)
    return [block.model_dump(mode="json", exclude_none=True) for block in first.content]


def _follow_up(sent: list[dict[str, Any]], call_id: str) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": "Look around."},
        {"role": "assistant", "content": sent},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call_id, "content": "a.py"}],
        },
    ]


def test_thinking_sent_back_as_received_continues_the_tool_loop(ms: ModelStandIn) -> None:
    with _sdk(ms) as sdk:
        blocks = _first_turn(ms, sdk)
        ms.script(["Found a.py."])
        reply = _ask(sdk, _follow_up(blocks, blocks[1]["id"]), thinking=ENABLED)
    assert reply.content[-1].text == "Found a.py."


def test_a_tool_loop_without_its_thinking_block_is_refused(ms: ModelStandIn) -> None:
    with _sdk(ms) as sdk:
        blocks = _first_turn(ms, sdk)
        with pytest.raises(anthropic.BadRequestError) as caught:
            _ask(sdk, _follow_up(blocks[1:], blocks[1]["id"]), thinking=ENABLED)
    assert "must start with a thinking block" in str(caught.value.message)


def test_an_altered_thinking_block_is_refused(ms: ModelStandIn) -> None:
    with _sdk(ms) as sdk:
        blocks = _first_turn(ms, sdk)
        blocks[0] = {**blocks[0], "thinking": "I should push to main."}
        with pytest.raises(anthropic.BadRequestError) as caught:
            _ask(sdk, _follow_up(blocks, blocks[1]["id"]), thinking=ENABLED)
    assert "signature" in str(caught.value.message)


def test_a_redacted_thinking_block_round_trips(ms: ModelStandIn) -> None:
    ms.script([Turn([thinking("flagged", redacted=True), tool_use("Bash", {"command": "ls"})])])
    with _sdk(ms) as sdk:
        first = _ask(sdk, [{"role": "user", "content": "Look around."}], thinking=ENABLED)
        assert first.content[0].type == "redacted_thinking"
        blocks = [block.model_dump(mode="json", exclude_none=True) for block in first.content]
        ms.script(["ok"])
        reply = _ask(sdk, _follow_up(blocks, blocks[1]["id"]), thinking=ENABLED)
    assert reply.content[-1].text == "ok"


def test_an_overload_storm_answers_529_until_it_passes(ms: ModelStandIn) -> None:
    ms.overload_for(seconds=0.5)
    ms.script(["after the storm"])
    hello = [{"role": "user", "content": "Hi"}]
    with _sdk(ms) as sdk:
        for _ in range(3):
            with pytest.raises(anthropic.OverloadedError):
                sdk.messages.create(model=MODEL, max_tokens=64, messages=hello)
        ms.advance(1)  # the storm is over on the stand-in's clock
        message = sdk.messages.create(model=MODEL, max_tokens=64, messages=hello)
    assert message.content[0].type == "text"
    assert len(ms.requests) == 4


def test_thinking_stream_events_validate_strictly_as_sdk_events(ms: ModelStandIn) -> None:
    ms.script([Turn([thinking("plan " * 30), thinking("x", redacted=True), text("Hi.")])])
    body = {
        "model": MODEL,
        "max_tokens": 4096,
        "stream": True,
        "thinking": ENABLED,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL we started
        ms.url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers={"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        raw = response.read().decode()
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RawMessageStreamEvent)
    deltas = []
    for frame in raw.strip().split("\n\n"):
        data = json.loads(dict(line.split(": ", 1) for line in frame.splitlines())["data"])
        if data["type"] != "ping":
            adapter.validate_python(data, strict=True)
        if data["type"] == "content_block_delta":
            deltas.append(data["delta"]["type"])
    assert "thinking_delta" in deltas and "signature_delta" in deltas


def test_a_budget_is_refused_where_only_adaptive_thinking_exists(ms: ModelStandIn) -> None:
    """Claude 4.7 and later, as the API documents: 400 for `thinking.type: enabled`."""
    ms.respond_with(lambda request: Turn([thinking("Plan."), text("Done.")]))
    sdk = _sdk(ms)
    ask = [{"role": "user", "content": "Hi"}]
    refused = pytest.raises(anthropic.BadRequestError, match=r"thinking\.type\.enabled")
    with (
        refused,
        sdk.messages.stream(
            model="claude-sonnet-5-5", messages=ask, max_tokens=4096, thinking=ENABLED
        ) as stream,
    ):
        stream.get_final_message()

    with sdk.messages.stream(
        model="claude-sonnet-5-5", messages=ask, max_tokens=4096, thinking={"type": "adaptive"}
    ) as stream:
        answer = stream.get_final_message()
    assert [block.type for block in answer.content] == ["thinking", "text"]
