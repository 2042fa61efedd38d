"""ModelClient against the model stand-in, through the real SDK: what the model is sent."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from agents.model import (
    ModelClient,
    ModelError,
    Provider,
    RetryPolicy,
    get_provider,
    make_client,
    with_cache_marks,
)
from standins.model import MAX_CACHE_BREAKPOINTS, ModelStandIn, Turn, text, tool_use

KEY = "test-key"
MODEL = "claude-sonnet-5-5"
SYSTEM = "You are Rolecall's implementer role. Follow the repository's conventions. " * 60
TOOLS: list[dict[str, Any]] = [
    {
        "name": name,
        "description": f"The {name} tool.",
        "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}},
    }
    for name in ("Bash", "Read", "Edit")
]


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


@pytest.fixture
def model(ms: ModelStandIn) -> Iterator[ModelClient]:
    client = ModelClient(
        make_client(Provider("anthropic", ms.url, KEY), timeout=5),
        sleep=lambda seconds: None,
    )
    yield client
    client.close()


def _marks(request_json: dict[str, Any]) -> list[str]:
    """Where the cache breakpoints of a request sit, as readable labels."""
    found: list[str] = []
    found += [f"tool:{t['name']}" for t in request_json.get("tools", []) if "cache_control" in t]
    found += ["system" for b in request_json.get("system", []) if "cache_control" in b]
    for index, message in enumerate(request_json["messages"]):
        content = message["content"]
        if isinstance(content, list):
            found += [f"message:{index}" for b in content if "cache_control" in b]
    return found


def test_create_streams_and_marks_tools_system_and_last_user_block(
    ms: ModelStandIn, model: ModelClient
) -> None:
    ms.script(["Hello."])
    messages = [{"role": "user", "content": "Fix issue #12."}]
    before = copy.deepcopy(messages)
    message = model.create(MODEL, SYSTEM, messages, TOOLS, 1024)
    assert message.content[0].type == "text" and message.content[0].text == "Hello."
    sent = ms.requests[0].json
    assert sent["stream"] is True
    assert sent["model"] == MODEL and sent["max_tokens"] == 1024
    assert _marks(sent) == ["tool:Edit", "system", "message:0"]
    assert sent["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert sent["messages"][0]["content"] == [
        {"type": "text", "text": "Fix issue #12.", "cache_control": {"type": "ephemeral"}}
    ]
    assert messages == before  # the caller's conversation is not modified
    assert message.usage.cache_creation_input_tokens


def test_second_turn_reads_the_cache_and_never_exceeds_four_breakpoints(
    ms: ModelStandIn, model: ModelClient
) -> None:
    ms.script([Turn([text("Looking."), tool_use("Read", {"arg": "README.md"})]), "Done."])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Summarise the README."}]
    first = model.create(MODEL, SYSTEM, messages, TOOLS, 1024)
    call = next(block for block in first.content if block.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "# Rolecall"}],
        },
    ]
    second = model.create(MODEL, SYSTEM, messages, TOOLS, 1024)
    assert second.usage.cache_read_input_tokens == (
        (first.usage.cache_creation_input_tokens or 0) + first.usage.input_tokens
    )
    sent = ms.requests[1].json
    assert _marks(sent) == ["tool:Edit", "system", "message:0", "message:2"]
    assert len(_marks(sent)) <= MAX_CACHE_BREAKPOINTS


def test_old_marks_on_messages_are_replaced_not_added() -> None:
    marked = {"type": "text", "text": "old", "cache_control": {"type": "ephemeral"}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": [marked]},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": [marked]},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "new"},
    ]
    _, sent, _ = with_cache_marks("system", messages, TOOLS)
    assert "cache_control" not in sent[0]["content"][0]
    assert "cache_control" in sent[2]["content"][0]
    assert "cache_control" in sent[4]["content"][0]


def test_empty_system_and_no_tools_are_left_out(ms: ModelStandIn, model: ModelClient) -> None:
    ms.script(["ok"])
    model.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
    sent = ms.requests[0].json
    assert "system" not in sent and "tools" not in sent


def test_rate_limits_and_overloads_are_retried_by_the_client_within_its_bound(
    ms: ModelStandIn,
) -> None:
    ms.fail_next(status=429, headers={"retry-after": "0"}, times=2)
    ms.script(["after two 429s"])
    with make_client(Provider("anthropic", ms.url, KEY), timeout=5) as sdk:
        assert sdk.max_retries == 0  # the client retries, so it can report each wait
        client = ModelClient(sdk, retry=RetryPolicy(max_attempts=2), sleep=lambda s: None)
        with pytest.raises(anthropic.RateLimitError):
            client.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
        assert len(ms.requests) == 2
        message = client.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
    assert message.content[0].type == "text"
    assert len(ms.requests) == 3

    ms.fail_next(status=529, times=3)
    with (
        make_client(Provider("anthropic", ms.url, KEY), timeout=5) as sdk,
        pytest.raises(anthropic.OverloadedError),
    ):
        client = ModelClient(sdk, retry=RetryPolicy(max_attempts=2), sleep=lambda s: None)
        client.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
    assert len(ms.requests) == 5  # 3 before, then 2 tries


def test_a_stream_that_breaks_mid_way_is_retried(ms: ModelStandIn, model: ModelClient) -> None:
    ms.fail_next(status=529, mid_stream=True)
    ms.script(["second attempt"])
    message = model.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
    assert message.content[0].type == "text" and message.content[0].text == "second attempt"
    assert len(ms.requests) == 2


def test_a_stalled_stream_becomes_an_api_timeout_after_bounded_retries(
    ms: ModelStandIn,
) -> None:
    ms.stall_next(seconds=5, mid_stream=True, times=2)
    ms.script(["never", "never"])
    sdk = make_client(Provider("anthropic", ms.url, KEY), max_retries=0, timeout=0.3)
    client = ModelClient(sdk, retry=RetryPolicy(max_attempts=2), sleep=lambda seconds: None)
    with sdk, pytest.raises(anthropic.APITimeoutError):
        client.create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 64)
    assert len(ms.requests) == 2


def test_a_refused_request_is_not_retried(ms: ModelStandIn, model: ModelClient) -> None:
    with pytest.raises(anthropic.BadRequestError):
        model.create(MODEL, "", [{"role": "user", "content": ""}], [], 64)
    assert len(ms.requests) == 1


def test_non_anthropic_provider_never_receives_the_anthropic_key(
    ms: ModelStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-the-real-secret")
    provider = get_provider("ollama", base_url=ms.url)
    with (
        make_client(provider, max_retries=0, timeout=5) as sdk,
        pytest.raises(anthropic.AuthenticationError),
    ):
        ModelClient(sdk).create("qwen2.5-coder:7b", "", [{"role": "user", "content": "Hi"}], [], 8)
    headers = ms.requests[0].headers
    assert "sk-ant-the-real-secret" not in str(headers)


def test_missing_anthropic_key_is_an_actionable_model_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # and no SDK profile on disk either
    with pytest.raises(ModelError, match="ANTHROPIC_API_KEY"):
        make_client(Provider("anthropic", "http://127.0.0.1:9", None))


def test_key_from_the_environment_is_used_for_anthropic(
    ms: ModelStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    ms.script(["ok"])
    with make_client(Provider("anthropic", ms.url, None), max_retries=0) as sdk:
        ModelClient(sdk).create(MODEL, "", [{"role": "user", "content": "Hi"}], [], 8)
    assert ms.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_each_message_is_sent_the_same_way_on_every_turn(
    ms: ModelStandIn, model: ModelClient
) -> None:
    """The brief is a string in the history; sent once as a marked block and later as a
    plain string, the prompt's prefix changed between turns and its cache was rewritten."""
    turns = [Turn([tool_use("Read", {"arg": f"f{i}"})]) for i in range(3)]
    ms.script([*turns, "Done."])
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Summarise the README."}]
    for _ in range(4):
        reply = model.create(MODEL, SYSTEM, messages, TOOLS, 1024)
        calls = [b for b in reply.content if b.type == "tool_use"]
        if not calls:
            break
        messages += [
            {
                "role": "assistant",
                "content": [b.model_dump(exclude_none=True) for b in reply.content],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": calls[0].id, "content": "x"}],
            },
        ]

    def unmarked(message: dict[str, Any]) -> Any:
        content = message["content"]
        if isinstance(content, str):
            return content
        return [{k: v for k, v in block.items() if k != "cache_control"} for block in content]

    sent = [request.json["messages"] for request in ms.requests]
    assert len(sent) == 4
    for earlier, later in itertools.pairwise(sent):
        for index, message in enumerate(earlier):
            assert unmarked(later[index]) == unmarked(message), (index, later[index], message)
