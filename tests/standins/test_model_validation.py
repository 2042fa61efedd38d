"""The stand-in refuses what the Messages API refuses, so loop bugs surface in tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from standins.model import ModelStandIn, RequestError, validate_request

KEY = "test-key"
MODEL = "claude-sonnet-5-5"
TOOL = {"name": "Echo", "input_schema": {"type": "object", "properties": {}}}


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        standin.respond_with(lambda request: "ok")
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


def _raw(ms: ModelStandIn, body: Any, *, version: bool = True) -> tuple[int, dict[str, Any]]:
    headers = {"x-api-key": KEY, "content-type": "application/json"}
    if version:
        headers["anthropic-version"] = "2023-06-01"
    request = urllib.request.Request(  # noqa: S310 - a local http:// URL we started
        ms.url + "/v1/messages", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


@pytest.mark.parametrize("missing", ["model", "max_tokens", "messages"])
def test_missing_required_field_is_400(ms: ModelStandIn, missing: str) -> None:
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
    del body[missing]
    status, payload = _raw(ms, body)
    assert status == 400
    assert payload["type"] == "error"
    assert payload["error"] == {
        "type": "invalid_request_error",
        "message": f"{missing}: Field required",
    }


def test_missing_anthropic_version_header_is_400(ms: ModelStandIn) -> None:
    body = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "Hi"}]}
    status, payload = _raw(ms, body, version=False)
    assert status == 400
    assert "anthropic-version" in payload["error"]["message"]


def test_refused_requests_do_not_use_a_scripted_turn(ms: ModelStandIn) -> None:
    ms.script(["the real answer"])
    status, _ = _raw(ms, {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]})
    assert status == 400
    assert ms.pending_turns == 1


def _create(ms: ModelStandIn, messages: list[dict[str, Any]], **extra: Any) -> None:
    with anthropic.Anthropic(api_key=KEY, base_url=ms.url, max_retries=0, timeout=10) as client:
        client.messages.create(model=MODEL, max_tokens=16, messages=messages, **extra)  # type: ignore[arg-type]


def test_tool_result_must_answer_a_call_in_the_previous_message(ms: ModelStandIn) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Echo hi"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_real", "name": "Echo", "input": {}}],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_real", "content": "hi"},
                {"type": "tool_result", "tool_use_id": "toolu_invented", "content": "hi"},
            ],
        },
    ]
    with pytest.raises(
        anthropic.BadRequestError, match=r"unexpected `tool_use_id`.*toolu_invented"
    ):
        _create(ms, messages, tools=[TOOL])


def test_every_tool_call_must_be_answered_in_the_next_message(ms: ModelStandIn) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Echo twice"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_a", "name": "Echo", "input": {}},
                {"type": "tool_use", "id": "toolu_b", "name": "Echo", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_a", "content": "one"}],
        },
    ]
    with pytest.raises(anthropic.BadRequestError, match=r"without `tool_result`.*toolu_b"):
        _create(ms, messages, tools=[TOOL])


def test_tool_names_must_be_unique(ms: ModelStandIn) -> None:
    with pytest.raises(anthropic.BadRequestError, match="unique"):
        _create(ms, [{"role": "user", "content": "Hi"}], tools=[TOOL, TOOL])


def test_empty_text_blocks_are_refused(ms: ModelStandIn) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": [{"type": "text", "text": ""}]},
        {"role": "user", "content": "Again"},
    ]
    with pytest.raises(anthropic.BadRequestError, match="non-empty"):
        _create(ms, messages)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "JSON object"),
        ({"model": "", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}, "model"),
        (
            {"model": MODEL, "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]},
            "max_tokens",
        ),
        ({"model": MODEL, "max_tokens": 1, "messages": []}, "at least one message"),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "system", "content": "x"}]},
            "role",
        ),
        (
            {"model": MODEL, "max_tokens": 1, "messages": [{"role": "user", "content": ""}]},
            "non-empty",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 1,
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"name": "has space", "input_schema": {}}],
            },
            "pattern",
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 1,
                "messages": [{"role": "user", "content": "x"}],
                "tools": [{"name": "NoSchema"}],
            },
            "input_schema",
        ),
    ],
)
def test_validate_request_names_the_problem(body: Any, message: str) -> None:
    with pytest.raises(RequestError, match=message) as raised:
        validate_request(body)
    assert raised.value.status == 400
    assert raised.value.error_type == "invalid_request_error"


def test_a_well_formed_tool_exchange_validates() -> None:
    validate_request(
        {
            "model": MODEL,
            "max_tokens": 1,
            "tools": [TOOL],
            "messages": [
                {"role": "user", "content": "Echo"},
                {
                    "role": "assistant",
                    "content": [
                        {"type": "text", "text": "Calling."},
                        {"type": "tool_use", "id": "toolu_1", "name": "Echo", "input": {}},
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "done"},
                    ],
                },
            ],
        }
    )
