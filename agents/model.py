"""The Messages API client the agent loop calls, for a model named by `agents.model_ref`.

`make_client` builds the SDK client for its provider; `ModelClient.create` sends one
turn, streamed so long generations never meet an HTTP timeout, with prompt-caching marks
placed so every turn re-reads the tools, the system prompt and the conversation so far
from the cache.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anthropic
import httpx2
from anthropic.types import Message

from agents.model_ref import (
    DEFAULT_ALIASES,
    INHERIT,
    KNOWN_PROVIDERS,
    ModelError,
    ModelRef,
    Provider,
    get_provider,
    resolve_model,
)

__all__ = [
    "DEFAULT_ALIASES",
    "INHERIT",
    "KNOWN_PROVIDERS",
    "ModelClient",
    "ModelError",
    "ModelRef",
    "Provider",
    "get_provider",
    "make_client",
    "resolve_model",
    "with_cache_marks",
]

# Ollama ignores the key, but the SDK insists on sending one; without a placeholder it
# would fall back to ANTHROPIC_API_KEY and hand the Anthropic key to another server.
_PLACEHOLDER_KEY = "not-needed"
_EPHEMERAL: dict[str, str] = {"type": "ephemeral"}


def make_client(
    provider: Provider, *, max_retries: int = 4, timeout: float = 600
) -> anthropic.Anthropic:
    """An SDK client for `provider` whose own retries cover 408/409/429/5xx/529, bounded.

    The SDK waits as `retry-after` says, else backs off exponentially (0.5 s doubling,
    capped at 8 s) for at most `max_retries` retries; then the error reaches the caller.
    """
    api_key = provider.api_key
    if api_key is None and provider.name != "anthropic":
        api_key = _PLACEHOLDER_KEY
    client = anthropic.Anthropic(
        api_key=api_key,
        base_url=provider.base_url,
        max_retries=max_retries,
        timeout=timeout,
    )
    if client.api_key is None and client.auth_token is None and client.credentials is None:
        # Otherwise the SDK fails on the first request with a bare TypeError.
        client.close()
        raise ModelError(
            "no credentials for the Anthropic API: set ANTHROPIC_API_KEY "
            "(or name another provider, e.g. `ollama,<model>`)"
        )
    return client


def _transient(error: anthropic.APIError) -> bool:
    if isinstance(error, anthropic.APIConnectionError):
        return True  # includes APITimeoutError
    return isinstance(error, anthropic.APIStatusError) and error.type in _TRANSIENT_STREAM_ERRORS


def _marked(block: Mapping[str, Any]) -> dict[str, Any]:
    return {**block, "cache_control": dict(_EPHEMERAL)}


def _mark_last_block(message: Mapping[str, Any]) -> dict[str, Any]:
    blocks = list(message.get("content") or [])  # already blocks (_strip_marks)
    if blocks and isinstance(blocks[-1], Mapping):
        blocks[-1] = _marked(blocks[-1])
    return {**message, "content": blocks}


def _strip_marks(message: Mapping[str, Any]) -> dict[str, Any]:
    """`message` without cache marks, its content always as blocks.

    A string content is written as the one text block it stands for, whether or not
    this turn marks it: sent once as a marked block and later as a string, the same
    message would change the prompt's prefix between turns.
    """
    content = message.get("content")
    if isinstance(content, str):
        return {**message, "content": [{"type": "text", "text": content}] if content else []}
    if not isinstance(content, list):
        return dict(message)
    return {
        **message,
        "content": [
            {k: v for k, v in block.items() if k != "cache_control"}
            if isinstance(block, Mapping)
            else block
            for block in content
        ],
    }


def with_cache_marks(
    system: str, messages: Sequence[Mapping[str, Any]], tools: Sequence[Mapping[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The request's system blocks, messages and tools with prompt-caching breakpoints.

    Breakpoints go on the last tool, on the system prompt, on the last block of the
    last user message (so the next turn reads the whole conversation from the cache)
    and on the last block of the user message before it: the API looks for earlier
    cache entries only about 20 blocks back, and a turn with many tool calls can add
    more than that. Four in all, the API's maximum; marks already present on messages
    are dropped so the count never exceeds it. The caller's objects are not modified.
    """
    marked_tools = [dict(tool) for tool in tools]
    if marked_tools:
        marked_tools[-1] = _marked(marked_tools[-1])
    system_blocks = [_marked({"type": "text", "text": system})] if system else []
    marked_messages = [_strip_marks(message) for message in messages]
    user_indexes = [i for i, m in enumerate(marked_messages) if m.get("role") == "user"]
    for index in user_indexes[-2:]:
        marked_messages[index] = _mark_last_block(marked_messages[index])
    return system_blocks, marked_messages, marked_tools


# Error types the API may send in a mid-stream `error` event that are worth a new try.
_TRANSIENT_STREAM_ERRORS = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}


class ModelClient:
    """The agent loop's one way to call the model: streamed, cache-marked, typed.

    The SDK retries a request that fails before its response starts; it cannot retry
    one whose stream breaks halfway (a dropped connection, a read timeout between
    events, an `overloaded_error` event). `create` retries those itself, at most
    `stream_retries` times, so one hiccup does not end a long agent run.
    """

    def __init__(
        self,
        client: anthropic.Anthropic,
        *,
        stream_retries: int = 2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.stream_retries = stream_retries
        self._sleep = sleep

    @classmethod
    def for_provider(
        cls, provider: Provider, *, max_retries: int = 4, timeout: float = 600
    ) -> ModelClient:
        return cls(make_client(provider, max_retries=max_retries, timeout=timeout))

    def create(
        self,
        model_id: str,
        system: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        max_tokens: int,
    ) -> Message:
        """One assistant turn. Raises the SDK's `APIError` subclasses after all retries."""
        system_blocks, marked_messages, marked_tools = with_cache_marks(system, messages, tools)
        options: dict[str, Any] = {
            "model": model_id,
            "max_tokens": max_tokens,
            "messages": marked_messages,
        }
        if system_blocks:
            options["system"] = system_blocks
        if marked_tools:
            options["tools"] = marked_tools
        attempt = 0
        while True:
            outcome = self._stream_once(options)
            if isinstance(outcome, Message):
                return outcome
            if attempt >= self.stream_retries or not _transient(outcome):
                raise outcome
            attempt += 1
            self._sleep(min(0.5 * 2 ** (attempt - 1), 8.0))

    def _stream_once(self, options: Mapping[str, Any]) -> Message | anthropic.APIError:
        """One streamed request: the message, or the error that broke its stream.

        Errors before the stream starts (after the SDK's own retries) propagate; errors
        once it started are returned, as the SDK's types, for `create` to judge.
        """
        with self.client.messages.stream(**options) as stream:
            try:
                return stream.get_final_message()
            except anthropic.APIError as error:
                return error
            except httpx2.TimeoutException as error:
                timeout = anthropic.APITimeoutError(request=stream.response.request)
                timeout.__cause__ = error
                return timeout
            except httpx2.TransportError as error:
                dropped = anthropic.APIConnectionError(
                    message=f"the response stream broke off: {error}",
                    request=stream.response.request,
                )
                dropped.__cause__ = error
                return dropped

    def close(self) -> None:
        self.client.close()
