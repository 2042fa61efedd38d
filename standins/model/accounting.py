"""Token counts and prompt-cache accounting, done the way the Messages API bills them.

Token counts are *estimates*: about four characters per token, rounded up, counted on
each block's text (or on the JSON of structured blocks such as tool definitions). Real
tokenizers differ; what matters for tests is that counts are deterministic, grow with
the prompt, and split across the four usage fields exactly as the API splits them.

Prompt caching, as documented for the Messages API:

- The prompt is read in the order tools → system → messages, block by block.
- A block carrying `cache_control` is a breakpoint: the prefix up to and including it
  may be written to the cache (TTL 5 minutes, or 1 hour with `ttl: "1h"`).
- On each request the longest prefix already cached, and still within its TTL, counts
  as `cache_read_input_tokens`; a hit refreshes the entry's TTL. Hits are looked for at
  each breakpoint and at the block boundaries up to 20 blocks before it.
- What lies after the cached prefix up to the last breakpoint is
  `cache_creation_input_tokens` (split by TTL); the rest is `input_tokens`.
- A prefix shorter than the minimum cacheable length is not cached at all.
- Caches are per model.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

CHARS_PER_TOKEN = 4
LOOKBACK_BLOCKS = 20
TTL_SECONDS = {"5m": 300.0, "1h": 3600.0}


def estimate_tokens(text: str) -> int:
    """About four characters per token, rounded up; an empty string is zero tokens."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _without_cache_control(value: Any) -> Any:
    """A block as it counts for caching: the marker itself is not part of the content."""
    if isinstance(value, Mapping):
        return {k: _without_cache_control(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list):
        return [_without_cache_control(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(_without_cache_control(value), sort_keys=True, ensure_ascii=False)


def block_tokens(block: Any) -> int:
    """The estimated tokens of one prompt block (tool definition, system or content block)."""
    if isinstance(block, str):
        return estimate_tokens(block)
    if not isinstance(block, Mapping):
        return estimate_tokens(_canonical(block))
    kind = block.get("type")
    if kind == "text":
        return estimate_tokens(str(block.get("text", "")))
    if kind == "thinking":  # billed as output tokens when generated
        return estimate_tokens(str(block.get("thinking", "")))
    if kind == "tool_use":
        return estimate_tokens(str(block.get("name", ""))) + estimate_tokens(
            _canonical(block.get("input", {}))
        )
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            return max(1, sum(block_tokens(part) for part in content))
        return max(1, estimate_tokens(str(content)))
    return estimate_tokens(_canonical(block))


def output_tokens(content: list[dict[str, Any]]) -> int:
    """Estimated output tokens of a response; never zero, as the API never bills zero."""
    return max(1, sum(block_tokens(block) for block in content))


@dataclass(frozen=True)
class PromptBlock:
    """One block of the flattened prompt: its identity for caching, size and breakpoint."""

    identity: str
    tokens: int
    ttl: str | None  # "5m" or "1h" when the block carries cache_control


def _ttl_of(block: Any) -> str | None:
    if not isinstance(block, Mapping):
        return None
    marker = block.get("cache_control")
    if isinstance(marker, Mapping):
        return str(marker.get("ttl", "5m"))
    # A marker on a nested block (tool_result content) breaks the prompt at the parent.
    content = block.get("content")
    if isinstance(content, list):
        for part in content:
            ttl = _ttl_of(part)
            if ttl is not None:
                return ttl
    return None


def _as_text_block(text: str) -> dict[str, str]:
    """A string where the API takes blocks is shorthand for one text block, and the API
    caches what it stands for: the same prefix either way."""
    return {"type": "text", "text": text}


def flatten_prompt(body: Mapping[str, Any]) -> list[PromptBlock]:
    """The request's prompt as the API caches it: tools, then system, then messages."""
    blocks: list[PromptBlock] = []
    for tool in body.get("tools") or []:
        blocks.append(PromptBlock(_canonical(["tool", tool]), block_tokens(tool), _ttl_of(tool)))
    system = body.get("system")
    if isinstance(system, str):
        system = [_as_text_block(system)] if system else []
    if isinstance(system, list):
        for part in system:
            blocks.append(
                PromptBlock(_canonical(["system", part]), block_tokens(part), _ttl_of(part))
            )
    for index, message in enumerate(body.get("messages") or []):
        role = message.get("role")
        content = message.get("content")
        parts = [_as_text_block(content)] if isinstance(content, str) else list(content or [])
        for part in parts:
            identity = _canonical(["message", index, role, part])
            blocks.append(PromptBlock(identity, block_tokens(part), _ttl_of(part)))
    top_level = body.get("cache_control")
    if isinstance(top_level, Mapping) and blocks:
        # Automatic caching: the marker applies to the last cacheable block.
        last = blocks[-1]
        blocks[-1] = PromptBlock(last.identity, last.tokens, str(top_level.get("ttl", "5m")))
    return blocks


@dataclass(frozen=True)
class PromptUsage:
    """How one request's prompt tokens are billed."""

    input_tokens: int
    cache_creation_5m: int
    cache_creation_1h: int
    cache_read: int

    @property
    def cache_creation(self) -> int:
        return self.cache_creation_5m + self.cache_creation_1h


@dataclass
class _Entry:
    ttl: str
    expires_at: float


class PromptCache:
    """The cache entries the stand-in holds, keyed by (model, prefix) and expiring by TTL."""

    def __init__(self, *, min_cacheable_tokens: int, clock: Callable[[], float]) -> None:
        self.min_cacheable_tokens = min_cacheable_tokens
        self._clock = clock
        self._entries: dict[str, _Entry] = {}

    def account(self, model: str, blocks: list[PromptBlock]) -> PromptUsage:
        """Bill one request's prompt, reading and writing cache entries as the API does."""
        now = self._clock()
        self._entries = {k: e for k, e in self._entries.items() if e.expires_at > now}

        prefix_keys: list[str] = []
        cumulative: list[int] = []
        digest = hashlib.sha256(model.encode())
        running = 0
        for block in blocks:
            digest.update(hashlib.sha256(block.identity.encode()).digest())
            prefix_keys.append(digest.copy().hexdigest())
            running += block.tokens
            cumulative.append(running)
        total = running
        breakpoints = [i for i, block in enumerate(blocks) if block.ttl is not None]

        read_end = -1
        for point in breakpoints:
            for j in range(point, max(-1, point - LOOKBACK_BLOCKS - 1), -1):
                if j > read_end and prefix_keys[j] in self._entries:
                    read_end = j
                    break
        if read_end >= 0:
            hit = self._entries[prefix_keys[read_end]]
            hit.expires_at = now + TTL_SECONDS[hit.ttl]
        cache_read = cumulative[read_end] if read_end >= 0 else 0

        written_5m = written_1h = 0
        previous_end = cache_read
        for point in breakpoints:
            if point <= read_end:
                entry = self._entries.get(prefix_keys[point])
                if entry is not None:
                    entry.expires_at = now + TTL_SECONDS[entry.ttl]
                continue
            if cumulative[point] < self.min_cacheable_tokens:
                continue
            ttl = blocks[point].ttl or "5m"
            segment = cumulative[point] - previous_end
            if ttl == "1h":
                written_1h += segment
            else:
                written_5m += segment
            previous_end = cumulative[point]
            self._entries[prefix_keys[point]] = _Entry(ttl, now + TTL_SECONDS[ttl])

        return PromptUsage(
            input_tokens=total - cache_read - written_5m - written_1h,
            cache_creation_5m=written_5m,
            cache_creation_1h=written_1h,
            cache_read=cache_read,
        )

    def clear(self) -> None:
        self._entries.clear()
