"""What a failed model call is called: the line a failed job's tracking comment shows.

Every error is the one the anthropic SDK really raised, through the client jobs use
(`agents.model.make_client`), against the model stand-in or a closed port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import anthropic
import pytest

from agents.model import Provider, make_client
from agents.model_errors import explain
from agents.model_ref import ModelRef
from standins.model import ModelStandIn

KEY = "test-key"
MODEL = ModelRef("anthropic", "claude-sonnet-5-5")
GATEWAY_MODEL = ModelRef("gateway", "gpt-4.1")


@pytest.fixture(scope="module")
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY, models={MODEL.id, GATEWAY_MODEL.id}) as standin:
        yield standin
    assert standin.errors == []


def failure(base_url: str, *, key: str = KEY, model: str = MODEL.id) -> anthropic.APIError:
    """The error one small request raised (no retries: the job's client retries itself)."""
    client = make_client(Provider("anthropic", base_url, key), timeout=5)
    try:
        client.messages.create(
            model=model, max_tokens=8, messages=[{"role": "user", "content": "Hi"}]
        )
    except anthropic.APIError as error:
        return error
    finally:
        client.close()
    raise AssertionError("the request did not fail")


def closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_wrong_key_names_the_setting_that_holds_it(ms: ModelStandIn) -> None:
    error = failure(ms.url, key="sk-ant-not-this-one")
    assert explain(error, MODEL) == "the model API refused the key (401): check ANTHROPIC_API_KEY"
    assert explain(error, GATEWAY_MODEL) == (
        "the model API refused the key (401): check the api_key of the `gateway` entry of "
        "ROLECALL_PROVIDERS"
    )


def test_a_model_the_provider_does_not_know_is_named(ms: ModelStandIn) -> None:
    unknown = ModelRef("anthropic", "claude-nope-1")
    said = explain(failure(ms.url, model=unknown.id), unknown)
    assert said == (
        "the model API (anthropic) does not know the model `claude-nope-1` (404): "
        "check the model name"
    )


def test_a_wrong_path_is_a_wrong_address_not_a_wrong_model(ms: ModelStandIn) -> None:
    said = explain(failure(f"{ms.url}/not-the-api"), MODEL)
    assert said == f"the model API at {ms.url} answered 404 (not found): check ANTHROPIC_BASE_URL"


def test_an_overload_that_outlasts_the_retries_says_to_try_later(ms: ModelStandIn) -> None:
    ms.fail_next(status=529)
    said = explain(failure(ms.url), MODEL)
    assert said == "the model API stayed overloaded (529) after retries; try again later"


def test_a_rate_limit_that_outlasts_the_retries_says_so(ms: ModelStandIn) -> None:
    ms.fail_next(status=429, headers={"retry-after": "1"})
    said = explain(failure(ms.url), MODEL)
    assert said == "the model API kept answering rate limited (429) after retries; try again later"


def test_a_closed_port_names_the_address_and_the_setting() -> None:
    url = closed_url()
    said = explain(failure(url), MODEL)
    assert said == (
        f"could not reach the model API at {url} (connection refused); check ANTHROPIC_BASE_URL"
    )
    assert explain(failure(url), ModelRef("ollama", "qwen")) == (
        f"could not reach the model API at {url} (connection refused); check the base_url "
        "of the `ollama` entry of ROLECALL_PROVIDERS"
    )


def test_what_the_api_said_is_not_repeated_for_a_server_error(ms: ModelStandIn) -> None:
    """A gateway's error text can quote anything; only a malformed request is quoted."""
    leaked = "upstream said: key sk-ant-api03-" + "x" * 40
    ms.fail_next(status=500, message=leaked)
    said = explain(failure(ms.url), MODEL)
    assert said == "the model API kept failing (500) after retries; try again later"
    ms.fail_next(status=401, message=leaked)
    assert "sk-ant" not in explain(failure(ms.url), MODEL)
