"""A local stand-in for the Anthropic Messages API, for tests and `rolecall demo`.

    from standins.model import ModelStandIn, Turn, text, thinking, tool_use

See `server.ModelStandIn` for the controls and `accounting` for how tokens and prompt
caching are counted.
"""

from standins.model.accounting import CHARS_PER_TOKEN, estimate_tokens
from standins.model.server import MESSAGES_PATH, ModelStandIn, RecordedRequest, Responder
from standins.model.turns import (
    Text,
    Thinking,
    ToolUse,
    Turn,
    TurnLike,
    text,
    thinking,
    tool_use,
)
from standins.model.validation import MAX_CACHE_BREAKPOINTS, RequestError, validate_request

__all__ = [
    "CHARS_PER_TOKEN",
    "MAX_CACHE_BREAKPOINTS",
    "MESSAGES_PATH",
    "ModelStandIn",
    "RecordedRequest",
    "RequestError",
    "Responder",
    "Text",
    "Thinking",
    "ToolUse",
    "Turn",
    "TurnLike",
    "estimate_tokens",
    "text",
    "thinking",
    "tool_use",
    "validate_request",
]
