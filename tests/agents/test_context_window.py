"""A long run stays within the model's context window, against the model stand-in.

The stand-in refuses a prompt over the window the way the API does (400, "prompt is too
long"), so a run that completes here sent no request the API would refuse. The toolbox
is a small honest one whose tool prints a lot, as builds and test runs do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.context_window import (
    CONTEXT_WINDOWS,
    DEFAULT_CONTEXT_WINDOW,
    SUMMARY_INSTRUCTION,
    window_for,
)
from agents.executor import Executor, Limits, RunResult
from agents.model import ModelClient, ModelRef, Provider, make_client
from agents.tools.result import ToolResult
from standins.model import ModelStandIn, Turn, TurnLike, text, thinking, tool_use
from standins.model.window import CONTEXT_WINDOWS as STANDIN_WINDOWS
from standins.model.window import prompt_tokens

KEY = "test-key"
SMALL = ModelRef("anthropic", "claude-test-small")  # a model the table does not know
WINDOW = 20_000
SYSTEM = "You are Rolecall's implementer. Work in small, tested steps. " * 80  # cacheable
BRIEF = "Make the build print less. Keep the public API unchanged."
CLEARED = "[Rolecall cleared this tool result"
SUMMARY = "Goal: quieter build. Done: ran the build many times. Remaining: write the fix."


class LoudToolbox:
    """Bash prints `size` characters of build log, different on every call; Write says
    how much it wrote."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.calls = 0

    def specs(self) -> list[dict[str, Any]]:
        schema = {"type": "object", "properties": {"command": {"type": "string"}}}
        return [
            {"name": "Bash", "description": "Run a command.", "input_schema": schema},
            {"name": "Write", "description": "Write a file.", "input_schema": schema},
        ]

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        self.calls += 1
        if name == "Write":
            return ToolResult(f"Wrote {len(tool_input.get('content', ''))} characters.")
        line = f"[{self.calls}] {tool_input.get('command')}: compiling module ok\n"
        return ToolResult((line * (self.size // len(line) + 1))[: self.size])


class BuildAgent:
    """Runs `make step-N` for `steps` turns, then finishes; writes a summary when asked
    for one (the compaction request), the way a model follows that instruction. With
    `write_chars`, every other step writes a file that big instead."""

    def __init__(self, steps: int, write_chars: int = 0, *, thinks: bool = False) -> None:
        self.steps = steps
        self.write_chars = write_chars
        self.thinks = thinks
        self.turns = 0
        self.summaries = 0

    def __call__(self, request: dict[str, Any]) -> TurnLike:
        last = request["messages"][-1]["content"]
        if isinstance(last, list) and any(
            block.get("text") == SUMMARY_INSTRUCTION for block in last if isinstance(block, dict)
        ):
            self.summaries += 1
            return text(SUMMARY)
        self.turns += 1
        if self.turns > self.steps:
            return text("The build is quieter now.")
        if self.write_chars and self.turns % 2 == 0:
            content = f"# step {self.turns}\n" * (self.write_chars // 10)
            call = tool_use("Write", {"file_path": f"gen/{self.turns}.py", "content": content})
        else:
            call = tool_use("Bash", {"command": f"make step-{self.turns}"})
        return Turn([thinking(f"Step {self.turns} next."), call]) if self.thinks else call


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY, context_windows={SMALL.id: WINDOW}) as standin:
        yield standin
    assert standin.errors == []


def _run(
    ms: ModelStandIn,
    tmp_path: Path,
    toolbox: LoudToolbox,
    *,
    window: int | None = WINDOW,
    thinking_budget: int | None = None,
) -> tuple[RunResult, Executor, list[dict[str, Any]]]:
    transcript = tmp_path / "job.jsonl"
    sdk = make_client(Provider("anthropic", ms.url, KEY), max_retries=0, timeout=10)
    client = ModelClient(sdk, sleep=lambda seconds: None)
    limits = Limits(
        max_turns=200, max_cost_usd=None, context_window=window, thinking_budget=thinking_budget
    )
    executor = Executor(client, SMALL, toolbox, limits, transcript, max_tokens=1024)
    try:
        result = executor.run(SYSTEM, BRIEF)
    finally:
        client.close()
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    return result, executor, events


def _context_events(events: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [e for e in events if e["event"] == "context" and e["action"] == action]


def _asks_for_summary(request: dict[str, Any]) -> bool:
    last = request["messages"][-1]["content"]
    return isinstance(last, list) and last[-1].get("text") == SUMMARY_INSTRUCTION


def _results(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for message in request["messages"]
        if isinstance(message["content"], list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def test_the_window_comes_from_the_table_else_the_setting_else_200k() -> None:
    assert window_for("claude-haiku-4-5") == 200_000
    assert window_for("claude-haiku-4-5-20251001") == 200_000
    assert window_for("claude-sonnet-5-5") == 1_000_000
    assert window_for("claude-sonnet-4-5", 1_000_000) == 200_000, "the table wins"
    assert window_for("qwen2.5-coder:7b", 32_768) == 32_768
    assert window_for("qwen2.5-coder:7b") == DEFAULT_CONTEXT_WINDOW == 200_000
    # The stand-in enforces the same windows Rolecall plans with.
    assert dict(CONTEXT_WINDOWS) == dict(STANDIN_WINDOWS)


def test_without_fitting_the_stand_in_refuses_the_run_as_the_api_would(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    """What this module prevents: a run on a model whose window Rolecall was told wrong."""
    ms.respond_with(BuildAgent(steps=30))
    result, _, _ = _run(ms, tmp_path, LoudToolbox(6_000), window=10 * WINDOW)

    assert result.stop == "model_error"
    assert "prompt is too long" in result.detail
    assert f"> {WINDOW} maximum" in result.detail


def test_a_long_run_clears_old_tool_results_and_completes(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.respond_with(BuildAgent(steps=30))
    result, executor, events = _run(ms, tmp_path, LoudToolbox(6_000))  # ~1,500 tokens each

    assert result.stop == "completed", result.detail
    assert result.summary == "The build is quieter now."
    requests = [r.json for r in ms.requests]
    assert all(prompt_tokens(body) <= WINDOW for body in requests)
    assert max(prompt_tokens(body) for body in requests) > WINDOW // 2, "the run did grow"

    cleared = _context_events(events, "cleared")
    assert cleared and executor.context.clearings == len(cleared)
    assert all(e["tokens_after"] < e["tokens_before"] for e in cleared)
    assert all(e["tokens_after"] <= 0.55 * WINDOW for e in cleared)
    assert not _context_events(events, "compacted")

    flags = [r["content"].startswith(CLEARED) for r in _results(requests[-1])]
    assert flags[0] and not any(flags[-4:]), "the oldest are cleared, the newest stay"
    assert flags == sorted(flags, reverse=True), "oldest first"
    first = _results(requests[-1])[0]["content"]
    assert 'Bash {"command": "make step-1"}' in first, "the placeholder names what was cleared"
    # The transcript still holds every full output.
    outputs = [e for e in events if e["event"] == "tool_result"]
    assert len(outputs) == 30 and all(len(e["content"]) == 6_000 for e in outputs)


def test_clearing_happens_in_batches_so_the_prompt_cache_keeps_hitting(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.respond_with(BuildAgent(steps=30))
    _, _, events = _run(ms, tmp_path, LoudToolbox(6_000))

    usages = [e["usage"] for e in events if e["event"] == "assistant"]
    read = sum(u["cache_read_input_tokens"] for u in usages)
    prompt = sum(
        u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
        for u in usages
    )
    clearings = len(_context_events(events, "cleared"))
    assert 2 <= clearings <= len(usages) // 4, "one cleared batch every few turns"
    # Between clearings each turn reads the conversation so far from the cache.
    assert read / prompt > 0.6
    misses = [u for u in usages[1:] if u["cache_read_input_tokens"] == 0]
    assert not misses, "even the turn after a clearing reads the tools and system prompt"


def test_when_clearing_is_not_enough_the_model_summarizes_the_older_turns(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    agent = BuildAgent(steps=24, write_chars=3_600)
    ms.respond_with(agent)
    # The files written are tool inputs, which clearing cannot shorten: the run compacts.
    result, executor, events = _run(ms, tmp_path, LoudToolbox(6_000))

    assert result.stop == "completed", result.detail
    requests = [r.json for r in ms.requests]
    assert all(prompt_tokens(body) <= WINDOW for body in requests)
    compacted = _context_events(events, "compacted")
    assert compacted and executor.context.compactions == len(compacted) == agent.summaries
    assert all(e["tokens_after"] < e["tokens_before"] for e in compacted)
    assert compacted[0]["summary"] == SUMMARY

    # The summary request carried the conversation with the instruction at its end; the
    # next request starts with the brief and the summary, then the kept turns.
    asks = [i for i, body in enumerate(requests) if _asks_for_summary(body)]
    assert len(asks) == len(compacted)
    summary_request, answered = requests[asks[0]], requests[asks[0] + 1]
    assert summary_request["tools"] == requests[asks[0] - 1]["tools"]
    first = answered["messages"][0]["content"][0]["text"]
    assert first.startswith(BRIEF), "the brief is kept word for word"
    assert SUMMARY in first
    assert answered["messages"][1]["role"] == "assistant", "the kept turns follow"
    assert len(answered["messages"]) < len(summary_request["messages"])


def test_the_compaction_is_priced_like_any_other_request(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.respond_with(BuildAgent(steps=24, write_chars=3_600))
    result, _, events = _run(ms, tmp_path, LoudToolbox(6_000))

    per_turn = [e["usage"]["output_tokens"] for e in events if e["event"] == "assistant"]
    assert result.usage.output_tokens > sum(per_turn), "the summaries' tokens count too"


def test_compaction_keeps_the_thinking_blocks_of_the_kept_turns(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    agent = BuildAgent(steps=24, write_chars=3_600, thinks=True)
    ms.respond_with(agent)
    result, executor, _ = _run(ms, tmp_path, LoudToolbox(6_000), thinking_budget=1024)

    assert result.stop == "completed", result.detail  # the stand-in checks the signatures
    assert executor.context.compactions >= 1
    after = [r.json for r in ms.requests if not _asks_for_summary(r.json)][-1]
    kept = [m for m in after["messages"] if m["role"] == "assistant"]
    assert all(m["content"][0]["type"] == "thinking" for m in kept[:-1])
