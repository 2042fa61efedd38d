"""The request checks the Messages API makes that catch real bugs in an agent loop.

Not the whole schema: the checks a hand-built request most often gets wrong (a missing
field, a tool call left unanswered, a tool result answering nothing, too many cache
breakpoints, thinking blocks dropped or altered: standins.model.thinking), each
answered with a 400 `invalid_request_error` worded like the API's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from standins.model.accounting import flatten_prompt
from standins.model.errors import RequestError
from standins.model.thinking import check_thinking

__all__ = ["MAX_CACHE_BREAKPOINTS", "RequestError", "validate_request"]

MAX_CACHE_BREAKPOINTS = 4
_TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")


def _blocks(content: Any) -> list[Any]:
    return [content] if isinstance(content, str) else list(content or [])


def _check_top_level(body: Mapping[str, Any]) -> None:
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            raise RequestError(f"{name}: Field required")
    if not isinstance(body["model"], str) or not body["model"]:
        raise RequestError("model: Input should be a valid, non-empty string")
    max_tokens = body["max_tokens"]
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise RequestError("max_tokens: Input should be an integer greater than or equal to 1")
    if not isinstance(body["messages"], list) or not body["messages"]:
        raise RequestError("messages: at least one message is required")
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise RequestError("system: Input should be a valid string or a list of text blocks")
    if isinstance(system, list):
        for index, part in enumerate(system):
            if not isinstance(part, Mapping) or part.get("type") != "text":
                raise RequestError(f"system.{index}: Input should be a text block")
            if not part.get("text"):
                raise RequestError(f"system.{index}: text content blocks must be non-empty")


def _check_tools(body: Mapping[str, Any]) -> None:
    tools = body.get("tools")
    if tools is None:
        return
    if not isinstance(tools, list):
        raise RequestError("tools: Input should be a valid list")
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        if not isinstance(tool, Mapping):
            raise RequestError(f"tools.{index}: Input should be a valid dictionary")
        name = tool.get("name")
        if not isinstance(name, str) or not _TOOL_NAME.match(name):
            raise RequestError(
                f"tools.{index}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'"
            )
        if name in seen:
            raise RequestError("tools: Tool names must be unique.")
        seen.add(name)
        if tool.get("type") in (None, "custom") and not isinstance(
            tool.get("input_schema"), Mapping
        ):
            raise RequestError(f"tools.{index}.input_schema: Field required")


def _check_messages(messages: list[Any]) -> None:
    for index, message in enumerate(messages):
        if not isinstance(message, Mapping):
            raise RequestError(f"messages.{index}: Input should be a valid dictionary")
        role = message.get("role")
        if role not in ("user", "assistant"):
            raise RequestError(f"messages.{index}.role: Input should be 'user' or 'assistant'")
        content = message.get("content")
        if not isinstance(content, str | list):
            raise RequestError(f"messages.{index}.content: Field required")
        if role == "user" and not content:
            raise RequestError(f"messages.{index}: user messages must have non-empty content")
        for position, block in enumerate(_blocks(content)):
            if isinstance(block, str):
                continue
            if not isinstance(block, Mapping) or "type" not in block:
                raise RequestError(f"messages.{index}.content.{position}.type: Field required")
            if block["type"] == "text" and not block.get("text"):
                raise RequestError(
                    f"messages.{index}.content.{position}.text: "
                    "text content blocks must be non-empty"
                )
            if block["type"] == "tool_use" and not (
                isinstance(block.get("id"), str) and isinstance(block.get("input"), Mapping)
            ):
                raise RequestError(
                    f"messages.{index}.content.{position}: tool_use blocks need an id and an input"
                )
            if block["type"] == "tool_result" and role != "user":
                raise RequestError(
                    f"messages.{index}.content.{position}: tool_result blocks belong in a "
                    "user message"
                )


def _tool_use_ids(message: Mapping[str, Any]) -> list[str]:
    if message.get("role") != "assistant":
        return []
    return [
        str(block["id"])
        for block in _blocks(message.get("content"))
        if isinstance(block, Mapping) and block.get("type") == "tool_use"
    ]


def _check_tool_pairing(messages: list[Mapping[str, Any]]) -> None:
    """Every tool_use is answered in the very next message, and every answer has a call."""
    for index, message in enumerate(messages):
        if message.get("role") == "user":
            previous = messages[index - 1] if index > 0 else {}
            called = set(_tool_use_ids(previous))
            for position, block in enumerate(_blocks(message.get("content"))):
                if not isinstance(block, Mapping) or block.get("type") != "tool_result":
                    continue
                if block.get("tool_use_id") not in called:
                    raise RequestError(
                        f"messages.{index}.content.{position}: unexpected `tool_use_id` found "
                        f"in `tool_result` blocks: {block.get('tool_use_id')}. Each "
                        "`tool_result` block must have a corresponding `tool_use` block in "
                        "the previous message."
                    )
        ids = _tool_use_ids(message)
        if not ids:
            continue
        following = messages[index + 1] if index + 1 < len(messages) else {}
        answered = {
            block.get("tool_use_id")
            for block in _blocks(following.get("content"))
            if isinstance(block, Mapping) and block.get("type") == "tool_result"
        }
        missing = [tool_id for tool_id in ids if tool_id not in answered]
        if missing:
            raise RequestError(
                f"messages.{index + 1}: `tool_use` ids were found without `tool_result` "
                f"blocks immediately after: {', '.join(missing)}. Each `tool_use` block must "
                "have a corresponding `tool_result` block in the next message."
            )


def _check_cache_breakpoints(body: Mapping[str, Any]) -> None:
    own = {key: value for key, value in body.items() if key != "cache_control"}
    explicit = sum(1 for block in flatten_prompt(own) if block.ttl is not None)
    if isinstance(body.get("cache_control"), Mapping):
        explicit += 1  # the automatic marker takes a slot of its own
    marks = [block.ttl for block in flatten_prompt(body) if block.ttl is not None]
    if explicit > MAX_CACHE_BREAKPOINTS:
        raise RequestError(
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. "
            f"Found {explicit}."
        )
    for ttl in marks:
        if ttl not in ("5m", "1h"):
            raise RequestError(f"cache_control.ttl: Input should be '5m' or '1h', not {ttl!r}")
    seen_short = False
    for ttl in marks:
        if ttl == "5m":
            seen_short = True
        elif seen_short:
            raise RequestError(
                "cache_control entries with ttl '1h' must come before entries with ttl '5m'"
            )


def validate_request(body: Any) -> None:
    """Raise `RequestError` for a request body the Messages API would refuse."""
    if not isinstance(body, Mapping):
        raise RequestError("Request body must be a JSON object")
    _check_top_level(body)
    _check_tools(body)
    _check_messages(body["messages"])
    _check_tool_pairing(body["messages"])
    _check_cache_breakpoints(body)
    check_thinking(body)
