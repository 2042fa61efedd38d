"""What a tool hands back to the agent loop.

A separate module so the executor can import the result type without pulling in the
tools, the sandbox or the filesystem guard.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolResult:
    """The text the model reads, and whether the tool call failed.

    Failures are data, not exceptions: the model reads `content` and decides what to do.
    """

    content: str
    is_error: bool = False
