"""Extended thinking as the Messages API enforces it: the parameter, the signatures, the order.

The API signs every thinking block it returns and checks the signature when the block
comes back, so a client cannot alter or invent thinking; a `redacted_thinking` block is
opaque data the client returns untouched. With thinking enabled, the assistant turn
whose tool calls are being answered must start with its thinking block. The stand-in
signs with a key of its own (an HMAC, per process) and refuses what the API refuses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Any

from standins.model.errors import RequestError

MIN_BUDGET_TOKENS = 1024
_KEY = secrets.token_bytes(32)
_DOCS = "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"


def sign(kind: str, content: str) -> str:
    """The signature of a thinking block (`kind` "thinking") or redacted data."""
    digest = hmac.new(_KEY, f"{kind}\0{content}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def redacted_data(content: str) -> str:
    """Opaque `redacted_thinking` data: the content, encoded, with its signature."""
    encoded = base64.b64encode(content.encode()).decode()
    return f"{encoded}.{sign('redacted_thinking', encoded)}"


def thinks(body: Mapping[str, Any]) -> bool:
    """Whether a valid request lets the model think (with a budget, or adaptively)."""
    config = body.get("thinking")
    return isinstance(config, Mapping) and config.get("type") in ("enabled", "adaptive")


_VERSIONED = re.compile(r"claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d+))?(?:-\d{8})?$")


def adaptive_only(model: str) -> bool:
    """Claude 4.7 and later (and every Claude 5, Mythos and Fable model) refuse a budget."""
    name = model.lower()
    if re.match(r"claude-(?:mythos|fable)(?:-|$)", name):
        return True
    found = _VERSIONED.match(name)
    if found is None:
        return False
    major, minor = int(found.group(1)), int(found.group(2) or 0)
    return (major, minor if minor <= 9 else 0) >= (4, 7)


def check_thinking(body: Mapping[str, Any]) -> None:
    """Raise `RequestError` for a `thinking` parameter or history the API would refuse."""
    config = body.get("thinking")
    if config is None:
        _check_blocks(body["messages"])
        return
    if not isinstance(config, Mapping):
        raise RequestError("thinking: Input should be a valid dictionary")
    kind = config.get("type")
    if kind not in ("enabled", "disabled", "adaptive"):
        raise RequestError("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'")
    if kind == "enabled" and adaptive_only(str(body.get("model", ""))):
        raise RequestError(
            '"thinking.type.enabled" is not supported for this model. Use '
            '"thinking.type.adaptive" and "output_config.effort" to control thinking behavior.'
        )
    if kind == "enabled":
        budget = config.get("budget_tokens")
        if budget is None:
            raise RequestError("thinking.enabled.budget_tokens: Field required")
        if isinstance(budget, bool) or not isinstance(budget, int):
            raise RequestError("thinking.enabled.budget_tokens: Input should be a valid integer")
        if budget < MIN_BUDGET_TOKENS:
            raise RequestError(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to "
                f"{MIN_BUDGET_TOKENS}"
            )
        if body["max_tokens"] <= budget:
            raise RequestError(
                "`max_tokens` must be greater than `thinking.budget_tokens`. Please consult "
                f"our documentation at {_DOCS}#max-tokens-and-context-window-size"
            )
    _check_blocks(body["messages"])
    if kind != "disabled":
        _check_tool_loop_starts_with_thinking(body["messages"])


def _check_blocks(messages: list[Any]) -> None:
    """Every thinking block sent back carries the signature it was sent with."""
    for index, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for position, block in enumerate(content):
            if not isinstance(block, Mapping):
                continue
            where = f"messages.{index}.content.{position}"
            if block.get("type") == "thinking":
                if message.get("role") != "assistant":
                    raise RequestError(f"{where}: thinking blocks belong in an assistant message")
                signature = block.get("signature")
                if not isinstance(signature, str) or not signature:
                    raise RequestError(f"{where}.signature: Field required")
                if not hmac.compare_digest(signature, sign("thinking", str(block["thinking"]))):
                    raise RequestError(f"{where}: Invalid `signature` in `thinking` block")
            elif block.get("type") == "redacted_thinking":
                encoded, _, signature = str(block.get("data", "")).partition(".")
                if not hmac.compare_digest(signature, sign("redacted_thinking", encoded)):
                    raise RequestError(f"{where}: Invalid `data` in `redacted_thinking` block")


def _check_tool_loop_starts_with_thinking(messages: list[Any]) -> None:
    """The assistant turn whose tool calls the last message answers starts with thinking."""
    if len(messages) < 2 or messages[-1].get("role") != "user":
        return
    answers = messages[-1].get("content")
    if not isinstance(answers, list) or not any(
        isinstance(block, Mapping) and block.get("type") == "tool_result" for block in answers
    ):
        return
    index = len(messages) - 2
    turn = messages[index]
    content = turn.get("content")
    if turn.get("role") != "assistant" or not isinstance(content, list) or not content:
        return
    first = content[0]
    kind = first.get("type") if isinstance(first, Mapping) else "text"
    if kind not in ("thinking", "redacted_thinking"):
        raise RequestError(
            f"messages.{index}.content.0.type: Expected `thinking` or `redacted_thinking`, "
            f"but found `{kind}`. When `thinking` is enabled, a final `assistant` message "
            "must start with a thinking block (preceding the lastmost set of `tool_use` and "
            "`tool_result` blocks). We recommend you include thinking blocks from previous "
            f"turns. To avoid this requirement, disable `thinking`. Please consult our "
            f"documentation at {_DOCS}"
        )
