"""What the Messages API answers: the assistant message for a turn, and its SSE events.

A scripted `Turn` becomes the message the API would send, cut at `max_tokens` the way
the API cuts it, with usage from the prompt-cache accounting (standins.model.accounting);
`stream_events` is the same message as the API streams it, in the API's order.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Iterator, Mapping
from typing import Any

from standins.model.accounting import PromptUsage, block_tokens, output_tokens
from standins.model.thinking import redacted_data, sign, thinks
from standins.model.turns import Block, Text, Thinking, Turn

_ID_ALPHABET = string.ascii_letters + string.digits
_TEXT_CHUNK = 24  # characters per text_delta, so streams have several deltas
_JSON_CHUNK = 16  # characters per input_json_delta


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(24))


def render_message(turn: Turn, body: Mapping[str, Any], prompt: PromptUsage) -> dict[str, Any]:
    """The assistant message for a turn, cut at max_tokens the way the API cuts it.

    Thinking blocks are answered only when the request enabled thinking, signed.
    """
    budget = int(body["max_tokens"])
    stop_reason: str = turn.resolved_stop_reason()
    content: list[dict[str, Any]] = []
    thinking_on = thinks(body)
    for block in turn.blocks:
        if isinstance(block, Thinking) and not thinking_on:
            continue
        rendered = _render_block(block)
        cost = block_tokens(rendered)
        if cost > budget:
            stop_reason = "max_tokens"
            if isinstance(block, Text) and budget > 0:
                content.append({"type": "text", "text": block.text[: budget * 4]})
            break
        budget -= cost
        content.append(rendered)
    if stop_reason == "tool_use" and not any(b["type"] == "tool_use" for b in content):
        stop_reason = "end_turn"
    return {
        "id": new_id("msg_"),
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": _usage(prompt, output_tokens(content)),
    }


def _render_block(block: Block) -> dict[str, Any]:
    if isinstance(block, Thinking):
        if block.redacted:
            return {"type": "redacted_thinking", "data": redacted_data(block.thinking)}
        signature = sign("thinking", block.thinking)
        return {"type": "thinking", "thinking": block.thinking, "signature": signature}
    if isinstance(block, Text):
        return {"type": "text", "text": block.text}
    return {
        "type": "tool_use",
        "id": block.id or new_id("toolu_"),
        "name": block.name,
        "input": dict(block.input),
    }


def _usage(prompt: PromptUsage, output: int) -> dict[str, Any]:
    return {
        "input_tokens": prompt.input_tokens,
        "cache_creation_input_tokens": prompt.cache_creation,
        "cache_read_input_tokens": prompt.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": prompt.cache_creation_5m,
            "ephemeral_1h_input_tokens": prompt.cache_creation_1h,
        },
        "output_tokens": output,
        "service_tier": "standard",
    }


def _chunks(value: str, size: int) -> Iterator[str]:
    for start in range(0, len(value), size):
        yield value[start : start + size]


def stream_events(message: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The SSE events the API sends for `message`, in the API's order."""
    usage = message["usage"]
    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {**usage, "output_tokens": 1},
    }
    yield {"type": "message_start", "message": start}
    yield {"type": "ping"}
    for index, block in enumerate(message["content"]):
        if block["type"] == "thinking":
            yield from _thinking_events(index, block)
        elif block["type"] == "redacted_thinking":
            yield {"type": "content_block_start", "index": index, "content_block": block}
        elif block["type"] == "text":
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": ""},
            }
            for piece in _chunks(block["text"], _TEXT_CHUNK):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": piece},
                }
        else:
            yield {
                "type": "content_block_start",
                "index": index,
                "content_block": {**block, "input": {}},
            }
            for piece in _chunks(json.dumps(block["input"]), _JSON_CHUNK):
                yield {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "input_json_delta", "partial_json": piece},
                }
        yield {"type": "content_block_stop", "index": index}
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {
            "input_tokens": usage["input_tokens"],
            "cache_creation_input_tokens": usage["cache_creation_input_tokens"],
            "cache_read_input_tokens": usage["cache_read_input_tokens"],
            "output_tokens": usage["output_tokens"],
        },
    }
    yield {"type": "message_stop"}


def _thinking_events(index: int, block: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """A thinking block streamed as the API streams it: deltas, then its signature."""
    yield {
        "type": "content_block_start",
        "index": index,
        "content_block": {"type": "thinking", "thinking": "", "signature": ""},
    }
    for piece in _chunks(block["thinking"], _TEXT_CHUNK):
        yield {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "thinking_delta", "thinking": piece},
        }
    yield {
        "type": "content_block_delta",
        "index": index,
        "delta": {"type": "signature_delta", "signature": block["signature"]},
    }
