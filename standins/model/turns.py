"""Assistant turns a test scripts for the model stand-in to answer with.

A turn is what the model "says" next: thinking, text and tool calls, in order. Tests
build them with `thinking(...)`, `text(...)` and `tool_use(...)`; the stop reason follows
from the blocks the way the real API's does (a turn that calls a tool stops with
`tool_use`). Thinking is answered only to a request that enabled it, as the API does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "refusal",
    "model_context_window_exceeded",
]


@dataclass(frozen=True)
class Text:
    """A text block of the assistant's answer."""

    text: str


@dataclass(frozen=True)
class ToolUse:
    """A tool call; `id` is generated (`toolu_…`) when not given."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Thinking:
    """Extended thinking: sent signed, or as `redacted_thinking` (opaque) when `redacted`."""

    thinking: str
    redacted: bool = False


Block = Thinking | Text | ToolUse


@dataclass(frozen=True)
class Turn:
    """One assistant message. `stop_reason` is derived unless given explicitly."""

    blocks: Sequence[Block]
    stop_reason: StopReason | None = None

    def resolved_stop_reason(self) -> StopReason:
        if self.stop_reason is not None:
            return self.stop_reason
        if any(isinstance(block, ToolUse) for block in self.blocks):
            return "tool_use"
        return "end_turn"


TurnLike = Turn | Block | str


def text(value: str) -> Text:
    """A text block."""
    return Text(value)


def thinking(value: str, *, redacted: bool = False) -> Thinking:
    """A thinking block (a `redacted_thinking` one when `redacted`)."""
    return Thinking(value, redacted)


def tool_use(
    name: str, input: Mapping[str, Any] | None = None, *, id: str | None = None
) -> ToolUse:
    """A tool call block."""
    return ToolUse(name=name, input=dict(input or {}), id=id)


def as_turn(value: TurnLike) -> Turn:
    """Accept the shorthand forms a test is likely to write: a str or a lone block."""
    if isinstance(value, Turn):
        return value
    if isinstance(value, str):
        return Turn([Text(value)])
    if isinstance(value, Thinking | Text | ToolUse):
        return Turn([value])
    raise TypeError(f"a scripted turn must be a Turn, a block or a str, not {type(value).__name__}")
