"""The model stand-in speaks the Messages API well enough for the real anthropic SDK.

Every test drives the real SDK (sync and async, streaming and not) over real HTTP;
responses and stream events are also validated strictly against the SDK's own models.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pydantic
import pytest
from anthropic.types import Message, RawMessageStreamEvent

from standins.model import ModelStandIn, Turn, text, tool_use

KEY = "test-key"
MODEL = "claude-sonnet-5-5"
# Long enough (> 1024 estimated tokens together) for tools + system to be cacheable.
SYSTEM = "You are a careful engineer working in a repository. " * 50
TOOLS: list[dict[str, Any]] = [
    {
        "name": "Bash",
        "description": "Run a shell command in the repository and return its output. " * 30,
        "input_schema": {
            "type": "object",
            "properties": {"command": {"type": "string"}},
            "required": ["command"],
        },
        "cache_control": {"type": "ephemeral"},
    }
]
CACHED_SYSTEM: list[dict[str, Any]] = [
    {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


def _client(ms: ModelStandIn, **options: Any) -> anthropic.Anthropic:
    options.setdefault("max_retries", 0)
    options.setdefault("timeout", 10)
    return anthropic.Anthropic(api_key=KEY, base_url=ms.url, **options)


def _script_tool_exchange(ms: ModelStandIn) -> None:
    ms.script(
        [
            Turn([text("I'll run the tests."), tool_use("Bash", {"command": "pytest -q"})]),
            "All 12 tests pass.",
        ]
    )


def _follow_up(first: Message) -> list[dict[str, Any]]:
    """The conversation after answering the first turn's tool call."""
    call = next(block for block in first.content if block.type == "tool_use")
    return [
        {"role": "user", "content": "Run the tests."},
        {
            "role": "assistant",
            "content": [
                block.model_dump(mode="json", exclude_none=True) for block in first.content
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "12 passed"}],
        },
    ]


def _assert_exchange(ms: ModelStandIn, first: Message, second: Message) -> None:
    assert first.stop_reason == "tool_use"
    assert first.id.startswith("msg_")
    assert first.model == MODEL
    call = next(block for block in first.content if block.type == "tool_use")
    assert call.id.startswith("toolu_")
    assert call.name == "Bash"
    assert call.input == {"command": "pytest -q"}
    assert second.stop_reason == "end_turn"
    assert [block.type for block in second.content] == ["text"]
    assert second.content[0].type == "text" and second.content[0].text == "All 12 tests pass."
    sent = ms.requests[-1].json
    result = sent["messages"][-1]["content"][0]
    assert result == {"type": "tool_result", "tool_use_id": call.id, "content": "12 passed"}
    # The shared prefix (tools + system + first user message) is read back from the cache.
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation_input_tokens
    assert second.usage.cache_read_input_tokens
    assert second.usage.cache_read_input_tokens >= first.usage.cache_creation_input_tokens


def test_sync_two_turn_tool_use_exchange(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    with _client(ms) as client:
        first = client.messages.create(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Run the tests."}],
        )
        second = client.messages.create(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=_follow_up(first),  # type: ignore[arg-type]
        )
    _assert_exchange(ms, first, second)
    assert [r.json.get("stream") for r in ms.requests] == [None, None]


def test_sync_streaming_two_turn_tool_use_exchange(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    with _client(ms) as client:
        with client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Run the tests."}],
        ) as stream:
            kinds = [event.type for event in stream]
            first = stream.get_final_message()
        with client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=_follow_up(first),  # type: ignore[arg-type]
        ) as stream:
            second = stream.get_final_message()
    _assert_exchange(ms, first, second)
    assert kinds[0] == "message_start"
    assert {"text", "input_json", "content_block_stop", "message_delta"} <= set(kinds)
    assert kinds[-1] == "message_stop"
    assert all(r.json["stream"] is True for r in ms.requests)


@pytest.mark.anyio
async def test_async_two_turn_tool_use_exchange(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    async with anthropic.AsyncAnthropic(
        api_key=KEY, base_url=ms.url, max_retries=0, timeout=10
    ) as client:
        first = await client.messages.create(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Run the tests."}],
        )
        second = await client.messages.create(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=_follow_up(first),  # type: ignore[arg-type]
        )
    _assert_exchange(ms, first, second)


@pytest.mark.anyio
async def test_async_streaming_two_turn_tool_use_exchange(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    async with anthropic.AsyncAnthropic(
        api_key=KEY, base_url=ms.url, max_retries=0, timeout=10
    ) as client:
        async with client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Run the tests."}],
        ) as stream:
            first = await stream.get_final_message()
        async with client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            system=CACHED_SYSTEM,  # type: ignore[arg-type]
            tools=TOOLS,  # type: ignore[arg-type]
            messages=_follow_up(first),  # type: ignore[arg-type]
        ) as stream:
            second = await stream.get_final_message()
    _assert_exchange(ms, first, second)


def _post(ms: ModelStandIn, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    """A raw HTTP call, to see exactly what the stand-in puts on the wire."""
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL we started
        ms.url + "/v1/messages",
        data=json.dumps(body).encode(),
        headers=headers
        if headers is not None
        else {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        method="POST",
    )
    return urllib.request.urlopen(request, timeout=10)  # noqa: S310


def test_json_responses_validate_strictly_as_sdk_message(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    body = {
        "model": MODEL,
        "max_tokens": 1024,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "Run the tests."}],
    }
    with _post(ms, body) as response:
        assert response.headers["request-id"].startswith("req_")
        payload = json.loads(response.read())
    message = Message.model_validate(payload, strict=True)
    assert message.usage.cache_creation is not None
    assert set(payload["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }


def test_stream_events_validate_strictly_as_sdk_events(ms: ModelStandIn) -> None:
    _script_tool_exchange(ms)
    body = {
        "model": MODEL,
        "max_tokens": 1024,
        "stream": True,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": "Run the tests."}],
    }
    adapter: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RawMessageStreamEvent)
    names: list[str] = []
    with _post(ms, body) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = response.read().decode()
    for frame in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in frame.splitlines())
        data = json.loads(lines["data"])
        assert data["type"] == lines["event"]
        names.append(lines["event"])
        if lines["event"] != "ping":
            adapter.validate_python(data, strict=True)
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    deltas = [n for n in names if n == "content_block_delta"]
    assert len(deltas) >= 2


def test_respond_with_lets_a_scripted_agent_react_to_tool_results(ms: ModelStandIn) -> None:
    def agent(request: dict[str, Any]) -> Turn | str:
        last = request["messages"][-1]["content"]
        if isinstance(last, list) and last[0]["type"] == "tool_result":
            return f"The command printed: {last[0]['content']}"
        return Turn([tool_use("Bash", {"command": "echo hi"})])

    ms.respond_with(agent)
    with _client(ms) as client:
        first = client.messages.create(
            model=MODEL,
            max_tokens=256,
            tools=TOOLS,  # type: ignore[arg-type]
            messages=[{"role": "user", "content": "Say hi via the shell."}],
        )
        follow = _follow_up(first)
        follow[0]["content"] = "Say hi via the shell."
        follow[-1]["content"][0]["content"] = "hi"
        second = client.messages.create(
            model=MODEL,
            max_tokens=256,
            tools=TOOLS,  # type: ignore[arg-type]
            messages=follow,  # type: ignore[arg-type]
        )
    assert second.content[0].type == "text"
    assert second.content[0].text == "The command printed: hi"


def test_a_responder_may_look_at_the_recorded_requests(ms: ModelStandIn) -> None:
    ms.respond_with(lambda request: f"request number {len(ms.requests)}")
    with _client(ms) as client:
        answers = [
            client.messages.create(
                model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Count"}]
            ).content[0]
            for _ in range(2)
        ]
    assert [a.text for a in answers if a.type == "text"] == ["request number 1", "request number 2"]


def test_long_answer_is_cut_at_max_tokens(ms: ModelStandIn) -> None:
    ms.script(["word " * 400])
    with _client(ms) as client:
        message = client.messages.create(
            model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "Talk."}]
        )
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens <= 10


def test_rate_limit_with_retry_after_is_retried_by_the_sdk(ms: ModelStandIn) -> None:
    ms.fail_next(status=429, headers={"retry-after": "1"})
    ms.script(["Done."])
    with _client(ms, max_retries=2) as client:
        message = client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert message.content[0].type == "text" and message.content[0].text == "Done."
    assert len(ms.requests) == 2


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        (529, anthropic.OverloadedError, "overloaded_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
    ],
)
def test_server_errors_are_retried_and_shaped_like_the_api(
    ms: ModelStandIn, status: int, error_class: type[anthropic.APIStatusError], error_type: str
) -> None:
    ms.fail_next(status=status)
    ms.script(["Recovered."])
    with _client(ms, max_retries=1) as client:
        message = client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert message.content[0].type == "text" and message.content[0].text == "Recovered."
    assert len(ms.requests) == 2

    # Without retries the SDK surfaces the error, typed from the status and body.
    ms.fail_next(status=status)
    with _client(ms, max_retries=0) as client, pytest.raises(error_class) as raised:
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert raised.value.status_code == status
    assert raised.value.type == error_type
    assert raised.value.request_id is not None and raised.value.request_id.startswith("req_")


def test_retries_are_bounded(ms: ModelStandIn) -> None:
    ms.fail_next(status=529, times=5)
    with _client(ms, max_retries=2) as client, pytest.raises(anthropic.OverloadedError):
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert len(ms.requests) == 3


def test_wrong_key_is_an_authentication_error(ms: ModelStandIn) -> None:
    ms.script(["never sent"])
    with (
        anthropic.Anthropic(api_key="wrong-key", base_url=ms.url, max_retries=2) as client,
        pytest.raises(anthropic.AuthenticationError) as raised,
    ):
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert raised.value.type == "authentication_error"
    assert len(ms.requests) == 1  # a 401 is not retried
    assert ms.pending_turns == 1


def test_a_model_it_does_not_serve_is_a_not_found_error(ms: ModelStandIn) -> None:
    ms.models = frozenset({MODEL})
    ms.script(["served"])
    with _client(ms, max_retries=2) as client:
        with pytest.raises(anthropic.NotFoundError) as raised:
            client.messages.create(
                model="claude-nope-1", max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
            )
        answer = client.messages.create(
            model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
        )
    assert raised.value.type == "not_found_error"
    assert raised.value.api_message == "model: claude-nope-1"
    assert answer.content[0].type == "text" and answer.content[0].text == "served"
    assert len(ms.requests) == 2  # a 404 is not retried


def test_key_is_accepted_as_x_api_key_or_bearer_token(ms: ModelStandIn) -> None:
    ms.script(["one", "two"])
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
    with _post(ms, body, {"x-api-key": KEY, "anthropic-version": "2023-06-01"}) as response:
        assert json.loads(response.read())["content"][0]["text"] == "one"
    with anthropic.Anthropic(auth_token=KEY, base_url=ms.url, max_retries=0) as client:
        message = client.messages.create(
            model=MODEL, max_tokens=16, messages=[{"role": "user", "content": "Hi"}]
        )
    assert message.content[0].type == "text" and message.content[0].text == "two"
    assert ms.requests[-1].headers["authorization"] == f"Bearer {KEY}"


def test_missing_key_is_401_in_the_api_error_shape(ms: ModelStandIn) -> None:
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
    with pytest.raises(urllib.error.HTTPError) as raised:
        _post(ms, body, {"anthropic-version": "2023-06-01"})
    assert raised.value.code == 401
    payload = json.loads(raised.value.read())
    raised.value.close()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "authentication_error"
    assert payload["request_id"].startswith("req_")


def test_stall_beyond_the_client_timeout_is_a_timeout_error(ms: ModelStandIn) -> None:
    ms.stall_next(seconds=5)
    ms.script(["late answer"])
    with (
        _client(ms, timeout=0.5) as client,
        pytest.raises(anthropic.APITimeoutError),
    ):
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )


def test_stall_mid_stream_is_a_timeout(ms: ModelStandIn) -> None:
    # Once a stream is under way the SDK does not retry. Before anthropic 2.17 it let
    # httpx2's ReadTimeout through; from 2.17 it raises APITimeoutError. Both are what
    # agents.model.ModelClient catches and retries, so both are accepted here.
    ms.stall_next(seconds=5, mid_stream=True)
    ms.script(["late answer"])
    with (
        _client(ms, timeout=0.5) as client,
        pytest.raises((httpx2.ReadTimeout, anthropic.APITimeoutError)),
        client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        ) as stream,
    ):
        stream.get_final_message()


def test_error_event_mid_stream_reaches_the_sdk(ms: ModelStandIn) -> None:
    ms.fail_next(status=529, mid_stream=True)
    ms.script(["kept for the next request"])
    with (
        _client(ms, max_retries=2) as client,
        pytest.raises(anthropic.APIStatusError) as raised,
        client.messages.stream(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        ) as stream,
    ):
        stream.get_final_message()
    assert raised.value.type == "overloaded_error"
    assert len(ms.requests) == 1  # the SDK does not retry a stream that began
    assert ms.pending_turns == 1


def test_a_stall_shorter_than_the_timeout_still_answers(ms: ModelStandIn) -> None:
    ms.stall_next(seconds=0.2)
    ms.script(["slow but fine"])
    with _client(ms, timeout=5) as client:
        message = client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert message.content[0].type == "text" and message.content[0].text == "slow but fine"


def test_no_turn_left_fails_loudly_without_retries(ms: ModelStandIn) -> None:
    with (
        _client(ms, max_retries=3) as client,
        pytest.raises(anthropic.InternalServerError, match="no scripted turn"),
    ):
        client.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        )
    assert len(ms.requests) == 1
