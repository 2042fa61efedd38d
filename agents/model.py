"""The Messages API client the agent loop calls, for a model named by `agents.model_ref`.

`make_client` builds the SDK client for its provider; `ModelClient.create` sends one
turn, streamed so long generations never meet an HTTP timeout, with prompt-caching marks
placed so every turn re-reads the tools, the system prompt and the conversation so far
from the cache, retried as agents.model_retry says and bounded by the job's deadline.
"""

from __future__ import annotations

import contextlib
import random
import socket
import threading
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
from agents.model_retry import (
    DeadlineReached,
    RetryPolicy,
    RetryWait,
    backoff,
    retry_reason,
    server_wait,
)
from agents.thinking import thinking_param

__all__ = [
    "DEFAULT_ALIASES",
    "INHERIT",
    "KNOWN_PROVIDERS",
    "DeadlineReached",
    "ModelClient",
    "ModelError",
    "ModelRef",
    "Provider",
    "RetryPolicy",
    "RetryWait",
    "content_params",
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
    provider: Provider, *, max_retries: int = 0, timeout: float = 600
) -> anthropic.Anthropic:
    """An SDK client for `provider`, without retries of its own by default.

    `ModelClient` retries itself (agents.model_retry), so each wait can be reported and
    bounded by the job's deadline; `max_retries` is for callers that want the SDK's.
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


class ModelClient:
    """The agent loop's one way to call the model: streamed, cache-marked, typed, retried.

    `create` retries what is worth retrying (agents.model_retry), before a response
    starts or when its stream breaks halfway, reporting each wait to `on_retry`; with
    `time_left` no try, and no wait, runs past that many seconds from now.
    """

    def __init__(
        self,
        client: anthropic.Anthropic,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    @classmethod
    def for_provider(
        cls, provider: Provider, *, timeout: float = 600, retry: RetryPolicy | None = None
    ) -> ModelClient:
        return cls(make_client(provider, timeout=timeout), retry=retry)

    def create(
        self,
        model_id: str,
        system: str,
        messages: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        max_tokens: int,
        *,
        thinking_budget: int | None = None,
        time_left: float | None = None,
        on_retry: Callable[[RetryWait], None] | None = None,
    ) -> Message:
        """One assistant turn.

        Raises the SDK's `APIError` subclasses once retrying is over (or pointless), and
        `DeadlineReached` when `time_left` runs out during a try or before the next one.
        """
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
        if thinking_budget is not None:
            options["thinking"] = thinking_param(model_id, thinking_budget)
        started = self._clock()
        deadline = None if time_left is None else started + time_left
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._stream_once(options, deadline)
            except anthropic.APIError as error:
                wait = self._wait_after(error, attempt, started, deadline)
            if on_retry is not None:
                on_retry(wait)
            self._sleep(wait.seconds)

    def _wait_after(
        self, error: anthropic.APIError, attempt: int, started: float, deadline: float | None
    ) -> RetryWait:
        """The wait before the next try, or the exception that ends `create`."""
        now = self._clock()
        if deadline is not None and now >= deadline:
            raise DeadlineReached(error) from error
        reason = retry_reason(error)
        if reason is None or attempt >= self.retry.max_attempts:
            raise error
        seconds = server_wait(error) or backoff(attempt, self.retry, self._jitter)
        if now + seconds - started > self.retry.max_seconds:
            raise error
        if deadline is not None and now + seconds >= deadline:
            raise DeadlineReached(error) from error
        return RetryWait(attempt, seconds, reason, error)

    def _stream_once(self, options: Mapping[str, Any], deadline: float | None) -> Message:
        """One streamed request: the message, or the SDK's error for what went wrong.

        With a deadline, each read waits at most until then, and a stream still open at
        the deadline is cut (`_cut_at`), so a slow answer cannot outlast the job.
        """
        timeout: float | anthropic.Timeout | None = self.client.timeout
        left: float | None = None
        if deadline is not None:
            left = min(_seconds(timeout), max(deadline - self._clock(), 0.001))
            timeout = left
        with self.client.messages.stream(**options, timeout=timeout) as stream:
            cutter = _cut_at(stream.response, left) if left is not None else None
            try:
                return stream.get_final_message()
            except httpx2.TimeoutException as error:
                raise anthropic.APITimeoutError(request=stream.response.request) from error
            except httpx2.TransportError as error:
                raise anthropic.APIConnectionError(
                    message=f"the response stream broke off: {error}",
                    request=stream.response.request,
                ) from error
            finally:
                if cutter is not None:
                    cutter.cancel()

    def close(self) -> None:
        self.client.close()


def content_params(message: Message) -> list[dict[str, Any]]:
    """The assistant's blocks as request params, to send back on the next turn.

    Thinking blocks (and any other kind) go back exactly as received: the API checks a
    thinking block's signature, and wants the turn whose tool calls are answered to
    start with its thinking.
    """
    params: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            if block.text:
                params.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            params.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        else:
            params.append(block.model_dump(mode="json", exclude_none=True))
    return params


def _seconds(timeout: float | anthropic.Timeout | None) -> float:
    """The longest single wait a client timeout allows (its read timeout)."""
    if isinstance(timeout, int | float):
        return float(timeout)
    if timeout is not None and timeout.read is not None:
        return float(timeout.read)
    return 600.0


def _cut_at(response: httpx2.Response, seconds: float) -> threading.Timer:
    """A timer that shuts the response's socket after `seconds`, waking a blocked read.

    Closing a socket does not wake a thread blocked reading it; shutting it down does.
    """

    def cut() -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.daemon = True
    timer.start()
    return timer
