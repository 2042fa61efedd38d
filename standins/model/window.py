"""The context window the Messages API enforces, per model.

A request whose prompt is larger than the model's window is refused before anything is
generated: 400 `invalid_request_error`, "prompt is too long: N tokens > M maximum". The
prompt is counted exactly as `accounting` bills it (input + cache writes + cache reads),
so what a test sees refused compares with the usage of what was accepted.

A prompt that fits but leaves less room than `max_tokens`: current models (Sonnet 4.5
and later) generate into what is left and stop with `model_context_window_exceeded`;
the older Claude 4 models refuse the request, naming both numbers.

The table is the API's documented windows (model overview pages, read 2026-10); Sonnet
4 and 4.5 reach 1M only with a beta header, so they hold 200k here. Any other model gets
the stand-in's default window, and a test may give any model a window of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from standins.model.accounting import flatten_prompt
from standins.model.errors import RequestError

DEFAULT_CONTEXT_WINDOW = 200_000
CONTEXT_WINDOWS: Mapping[str, int] = {
    "claude-opus-5-5": 1_000_000,
    "claude-sonnet-5-5": 1_000_000,
    "claude-haiku-5-5": 1_000_000,
    "claude-opus-5": 1_000_000,
    "claude-sonnet-5": 1_000_000,
    "claude-opus-4-8": 1_000_000,
    "claude-opus-4-7": 1_000_000,
    "claude-opus-4-6": 1_000_000,
    "claude-sonnet-4-6": 1_000_000,
    "claude-opus-4-5": 200_000,
    "claude-opus-4-1": 200_000,
    "claude-opus-4-0": 200_000,
    "claude-sonnet-4-5": 200_000,
    "claude-sonnet-4-0": 200_000,
    "claude-haiku-4-5": 200_000,
}
# Models from before `model_context_window_exceeded`: an answer that may not fit is refused.
_REFUSES_OVERRUN = frozenset({"claude-opus-4-0", "claude-opus-4-1", "claude-sonnet-4-0"})
_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")
_SPELLINGS = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}


def _canonical(model: str) -> str:
    name = _SNAPSHOT_SUFFIX.sub("", model.strip().lower())
    return _SPELLINGS.get(name, name)


def prompt_tokens(body: Mapping[str, Any]) -> int:
    """The request's prompt as usage bills it: input + cache writes + cache reads."""
    return sum(block.tokens for block in flatten_prompt(body))


class ContextWindows:
    """Each model's window: the table's, a test's own, else the default."""

    def __init__(
        self,
        windows: Mapping[str, int] | None = None,
        *,
        default: int = DEFAULT_CONTEXT_WINDOW,
    ) -> None:
        self._windows = {
            **CONTEXT_WINDOWS,
            **{_canonical(k): v for k, v in (windows or {}).items()},
        }
        self.default = default

    def window(self, model: str) -> int:
        return self._windows.get(_canonical(model), self.default)

    def room(self, body: Mapping[str, Any]) -> int:
        """Output tokens the answer may use: `max_tokens`, or less where the window ends.
        Raises `RequestError` for a request the API would refuse for its size."""
        model, max_tokens = str(body["model"]), int(body["max_tokens"])
        window, prompt = self.window(model), prompt_tokens(body)
        if prompt > window:
            raise RequestError(f"prompt is too long: {prompt} tokens > {window} maximum")
        if prompt + max_tokens > window and _canonical(model) in _REFUSES_OVERRUN:
            raise RequestError(
                f"input length and `max_tokens` exceed context limit: {prompt} + "
                f"{max_tokens} > {window}, decrease input length or `max_tokens` and try again"
            )
        return min(max_tokens, window - prompt)


def within(body: Mapping[str, Any], room: int) -> dict[str, Any]:
    """`body` with the answer's budget cut to `room`, for rendering the answer."""
    return {**body, "max_tokens": room}


def mark_overrun(message: dict[str, Any], body: Mapping[str, Any], room: int) -> None:
    """An answer cut by the window's end, not by `max_tokens`, says so."""
    if room < int(body["max_tokens"]) and message.get("stop_reason") == "max_tokens":
        message["stop_reason"] = "model_context_window_exceeded"
