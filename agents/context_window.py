"""Keeping every model request of a run within the model's context window.

A run appends each tool result to the conversation, and the Messages API refuses (400,
"prompt is too long") a prompt larger than the model's window: without this, a long run
on a 200k-token model stops halfway and its work is lost. Before each request the
executor calls `ContextFitter.fit`, which

1. estimates the request: the last response's real usage (input + cache reads + cache
   writes, i.e. the whole prompt of that request) plus a conservative estimate of what
   was appended since (three characters per token, more tokens than real tokenizers
   make of text and code) plus `max_tokens` for the answer;
2. over `clear_at` of the window, clears old tool results, oldest first and keeping the
   most recent ones, down to `clear_to`, in one batch: the prompt changes from the
   oldest cleared result on, so the prompt cache misses once per clearing, and the
   turns between clearings read the conversation from the cache again;
3. when clearing cannot get there, compacts, Claude Code-style: the model summarizes
   the run so far (goal, what was done, files changed, what remains) and the summary,
   after the original brief, replaces the older turns; the most recent turns stay as
   they were, so every tool_result still follows its tool_use and thinking blocks stay
   as received.

The API's own context editing is not used: other providers (Ollama) lack it, and the
model stand-in would have to model it faithfully first. The full tool outputs are in
the transcript (`tool_result` events), so clearing loses nothing a person could read.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# Context windows in tokens, from Anthropic's model overview pages (read 2026-10). The
# 1M windows are the documented defaults; Sonnet 4 and 4.5 reach 1M only with a beta
# header Rolecall does not send, so they count as 200k here.
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
_SNAPSHOT_SUFFIX = re.compile(r"-\d{8}$")  # "claude-haiku-4-5-20251001" is claude-haiku-4-5
_SPELLINGS = {"claude-opus-4": "claude-opus-4-0", "claude-sonnet-4": "claude-sonnet-4-0"}

# Estimates err towards "bigger": what is added counts 3 characters a token (real
# tokenizers make fewer tokens of text and code), what clearing saves counts 4.
_CHARS_PER_TOKEN_ADDED = 3
_CHARS_PER_TOKEN_SAVED = 4
_BLOCK_OVERHEAD = 8  # the framing of each content block
_REQUEST_OVERHEAD = 600  # the tool-use preamble the API adds to every request with tools

CLEARED_MARK = "[Rolecall cleared this tool result"
SUMMARY_INSTRUCTION = (
    "Rolecall must compact this conversation to keep it within the model's context "
    "window. Write a summary of the work so far that lets you continue without the "
    "earlier turns. Do not call any tools; answer with the summary only, under these "
    "headings:\n"
    "1. Goal: the task and every requirement and constraint the brief states.\n"
    "2. Done: what you did, in order, with the commands you ran and their results "
    "(tests passing or failing, with names).\n"
    "3. Files: every file you read, created or changed, with its path and the gist of "
    "each change.\n"
    "4. Errors: problems met and how they were solved.\n"
    "5. Remaining: what is left to do, and the very next step."
)

Ask = Callable[[list[dict[str, Any]]], str]
Log = Callable[..., None]


def window_for(model_id: str, configured: int | None = None) -> int:
    """The context window of `model_id`: the table's, else `configured`, else 200k."""
    name = _SNAPSHOT_SUFFIX.sub("", model_id.strip().lower())
    known = CONTEXT_WINDOWS.get(_SPELLINGS.get(name, name))
    return known or configured or DEFAULT_CONTEXT_WINDOW


def _chars(value: Any) -> int:
    """Characters of what a block says (its text, input or result), not of its JSON."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(_chars(part) for part in value)
    if not isinstance(value, Mapping):
        return len(json.dumps(value, ensure_ascii=False, default=str))
    kind = value.get("type")
    if kind == "text":
        return len(str(value.get("text", "")))
    if kind == "tool_use":
        return len(str(value.get("name", ""))) + len(json.dumps(value.get("input", {})))
    if kind == "tool_result":
        return _chars(value.get("content", ""))
    if kind == "thinking":
        return len(str(value.get("thinking", ""))) + len(str(value.get("signature", "")))
    if "content" in value and "role" in value:  # a whole message
        return _chars(value["content"])
    return len(json.dumps(value, ensure_ascii=False, default=str))


def estimate_tokens(value: Any) -> int:
    """A conservative token estimate of a string, block, message or list of them."""
    blocks = value if isinstance(value, list) else [value]
    count = 0
    for block in blocks:
        parts = block.get("content") if isinstance(block, Mapping) and "role" in block else None
        framing = len(parts) if isinstance(parts, list) else 1
        count += math.ceil(_chars(block) / _CHARS_PER_TOKEN_ADDED) + _BLOCK_OVERHEAD * framing
    return count


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n\n".join(
        str(block.get("text", ""))
        for block in content or []
        if isinstance(block, Mapping) and block.get("type") == "text"
    )


class ContextFitter:
    """Makes each request of one run fit the model's window; counts what it did.

    `ask` sends a request outside the turns (the compaction's summary) and returns the
    text of the answer; `log` writes a transcript event.
    """

    def __init__(
        self,
        window: int,
        max_tokens: int,
        ask: Ask,
        log: Log,
        *,
        clear_at: float = 0.8,
        clear_to: float = 0.55,
        keep_results: int = 4,
        keep_turns: int = 3,
    ) -> None:
        self.window = window
        self.max_tokens = max_tokens
        self.ask = ask
        self.log = log
        self.clear_at = clear_at
        self.clear_to = clear_to
        self.keep_results = keep_results
        self.keep_turns = keep_turns
        self.clearings = 0
        self.compactions = 0
        self._brief: str | None = None
        self._sent: int | None = None  # messages in the last request sent
        self._spent: int | None = None  # prompt tokens billed before that request

    def fit(
        self,
        messages: list[dict[str, Any]],
        system: str,
        tools: Sequence[Mapping[str, Any]],
        spent: int,
    ) -> list[dict[str, Any]]:
        """`messages`, changed if needed so the next request fits; `spent` is every
        prompt token billed so far in the run (usage input + cache reads + writes)."""
        if self._brief is None and messages:
            self._brief = _text_of(messages[0].get("content"))
        estimate = self._estimate(messages, system, tools, spent)
        compacted = False
        if estimate > self.clear_at * self.window:
            messages, estimate = self._clear(messages, estimate, self.keep_results)
            if estimate > self.clear_to * self.window:
                shorter = self._compact(messages, estimate)
                if shorter is not None:
                    messages, compacted = shorter, True
                    estimate = self._estimate(messages, system, tools, spent=None)
                    if estimate > self.clear_to * self.window:
                        messages, estimate = self._clear(messages, estimate, keep=1)
        # A compaction request was billed after `spent` was read: measure afresh next time.
        self._sent = None if compacted else len(messages)
        self._spent = None if compacted else spent
        return messages

    # -- estimating --------------------------------------------------------------------

    def _estimate(
        self,
        messages: list[dict[str, Any]],
        system: str,
        tools: Sequence[Mapping[str, Any]],
        spent: int | None,
    ) -> int:
        """Tokens of the next request, prompt and answer; measured where it can be."""
        measured = (
            spent - self._spent
            if spent is not None and self._spent is not None and spent > self._spent
            else None
        )
        if measured is not None and self._sent is not None and len(messages) >= self._sent:
            added = estimate_tokens(messages[self._sent :])
            return measured + added + self.max_tokens
        whole = estimate_tokens(system) + estimate_tokens(list(tools)) + _REQUEST_OVERHEAD
        return whole + estimate_tokens(messages) + self.max_tokens

    # -- clearing ----------------------------------------------------------------------

    def _clear(
        self, messages: list[dict[str, Any]], estimate: int, keep: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Clear tool results, oldest first, all but the `keep` newest, until the
        estimate is down to `clear_to` of the window; one event for the batch."""
        target = self.clear_to * self.window
        calls = _calls_by_id(messages)
        places = [
            (index, position)
            for index, message in enumerate(messages)
            if message.get("role") == "user" and isinstance(message.get("content"), list)
            for position, block in enumerate(message["content"])
            if isinstance(block, Mapping)
            and block.get("type") == "tool_result"
            and not _text_of_result(block).startswith(CLEARED_MARK)
        ]
        clearable = places[: len(places) - self._kept(messages, places, keep)]
        before, cleared = estimate, []
        changed = list(messages)
        for index, position in clearable:
            if estimate <= target:
                break
            block = changed[index]["content"][position]
            placeholder = _placeholder(calls.get(str(block.get("tool_use_id"))), block)
            saved = (
                math.floor(_chars(block.get("content", "")) / _CHARS_PER_TOKEN_SAVED)
                - estimate_tokens(placeholder)
                + _BLOCK_OVERHEAD
            )
            if saved <= 0:
                continue
            content = list(changed[index]["content"])
            content[position] = {**block, "content": placeholder}
            changed[index] = {**changed[index], "content": content}
            estimate -= saved
            cleared.append(str(block.get("tool_use_id")))
        if not cleared:
            return messages, estimate
        self.clearings += 1
        self.log(
            "context",
            action="cleared",
            window=self.window,
            tokens_before=before,
            tokens_after=estimate,
            cleared=len(cleared),
            tool_use_ids=cleared,
        )
        return changed, estimate

    def _kept(
        self, messages: list[dict[str, Any]], places: list[tuple[int, int]], keep: int
    ) -> int:
        """How many of the newest results stay: at most `keep`, within a fifth of the
        window together, and always the newest one."""
        budget, kept, used = 0.2 * self.window, 0, 0
        for index, position in reversed(places):
            size = estimate_tokens(messages[index]["content"][position])
            if kept >= keep or (kept and used + size > budget):
                break
            kept, used = kept + 1, used + size
        return kept

    # -- compacting --------------------------------------------------------------------

    def _compact(
        self, messages: list[dict[str, Any]], estimate: int
    ) -> list[dict[str, Any]] | None:
        """The brief and the model's summary of the older turns, then the newest turns
        as they were; None when there is nothing to compact or no summary came back."""
        cut = self._cut(messages)
        if cut is None:
            return None
        room = 0.9 * self.window - self.max_tokens
        # The whole conversation shares its prefix with the request just cached.
        source = messages if estimate <= room else messages[:cut]
        summary = self.ask(_with_instruction(source)).strip()
        if not summary:
            self.log("context", action="compaction_failed", reason="the summary was empty")
            return None
        head = {"role": "user", "content": [{"type": "text", "text": self._resumed(summary)}]}
        compacted = [head, *messages[cut:]]
        self.compactions += 1
        self.log(
            "context",
            action="compacted",
            window=self.window,
            tokens_before=estimate,
            tokens_after=estimate_tokens(compacted) + self.max_tokens,
            messages_before=len(messages),
            messages_after=len(compacted),
            summary=summary,
        )
        return compacted

    def _cut(self, messages: list[dict[str, Any]]) -> int | None:
        """Where the kept turns start: an assistant message, so the summary (a user
        message) comes right before it and no tool_result loses its tool_use."""
        starts = [i for i, m in enumerate(messages) if m.get("role") == "assistant" and i >= 2]
        if not starts:
            return None
        budget = 0.25 * self.window
        cut = starts[-1]
        for start in reversed(starts[-self.keep_turns :]):
            if estimate_tokens(messages[start:]) > budget:
                break
            cut = start
        return cut

    def _resumed(self, summary: str) -> str:
        return (
            f"{self._brief or ''}\n\n---\n\n"
            "Rolecall compacted the earlier turns of this run to keep it within the "
            "model's context window. Your summary of them:\n\n"
            f"{summary}\n\n---\n\n"
            "The most recent turns follow as they were. Continue from where the work stands."
        )


def _calls_by_id(messages: list[dict[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {
        str(block.get("id")): block
        for message in messages
        if message.get("role") == "assistant" and isinstance(message.get("content"), list)
        for block in message["content"]
        if isinstance(block, Mapping) and block.get("type") == "tool_use"
    }


def _text_of_result(block: Mapping[str, Any]) -> str:
    content = block.get("content", "")
    return content if isinstance(content, str) else _text_of(content)


def _placeholder(call: Mapping[str, Any] | None, result: Mapping[str, Any]) -> str:
    """What a cleared result says instead: which call it answered, and how to get it back."""
    tokens = math.ceil(_chars(result.get("content", "")) / _CHARS_PER_TOKEN_SAVED)
    what = "a tool call"
    if call is not None:
        shown = json.dumps(call.get("input", {}), ensure_ascii=False)
        shown = shown if len(shown) <= 160 else shown[:157] + "..."
        what = f"{call.get('name', 'a tool')} {shown}"
    return (
        f"{CLEARED_MARK} (about {tokens} tokens) to keep the conversation within the "
        f"model's context window. It answered {what}; run it again if you need it.]"
    )


def _with_instruction(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`messages` with the summary instruction after the last block, in a user message."""
    instruction = {"type": "text", "text": SUMMARY_INSTRUCTION}
    if messages and messages[-1].get("role") == "user":
        last = messages[-1]
        content = last.get("content")
        if isinstance(content, str):
            blocks: list[Any] = [{"type": "text", "text": content}] if content else []
        else:
            blocks = list(content or [])
        return [*messages[:-1], {**last, "content": [*blocks, instruction]}]
    return [*messages, {"role": "user", "content": [instruction]}]
