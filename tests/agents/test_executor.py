"""The agent loop against the model stand-in, through the real SDK.

The toolbox is a small honest implementation of the `Toolbox` protocol (an Echo tool
and a tool that always fails), a collaborator double, not an SDK mock.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.executor import Executor, Limits, RunResult
from agents.model import ModelClient, ModelRef, Provider, make_client
from agents.pricing import Usage, cost_usd
from agents.tools.result import ToolResult
from standins.model import ModelStandIn, Turn, text, tool_use

KEY = "test-key"
MODEL = ModelRef("anthropic", "claude-sonnet-5-5")
SYSTEM = "You are Rolecall's implementer. Work in small, tested steps. " * 80


class EchoToolbox:
    """Echo returns its text; Fail always fails; both record what they were asked."""

    def __init__(self, on_call: Callable[[str, dict[str, Any]], None] | None = None) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.on_call = on_call

    def specs(self) -> list[dict[str, Any]]:
        schema = {
            "type": "object",
            "properties": {"text": {"type": "string"}},
            "required": ["text"],
        }
        return [
            {"name": "Echo", "description": "Repeat the text back.", "input_schema": schema},
            {"name": "Fail", "description": "Always fails.", "input_schema": schema},
        ]

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        self.calls.append((name, tool_input))
        if self.on_call is not None:
            self.on_call(name, tool_input)
        if name == "Echo":
            return ToolResult(str(tool_input.get("text", "")))
        if name == "Fail":
            return ToolResult("Fail: it failed, as it always does", is_error=True)
        return ToolResult(f"unknown tool {name}", is_error=True)


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


def _client(ms: ModelStandIn, key: str = KEY) -> ModelClient:
    sdk = make_client(Provider("anthropic", ms.url, key), timeout=5)
    return ModelClient(sdk, sleep=lambda seconds: None)


def _run(
    ms: ModelStandIn,
    tmp_path: Path,
    *,
    limits: Limits | None = None,
    toolbox: EchoToolbox | None = None,
    model: ModelRef = MODEL,
    key: str = KEY,
    cancel: threading.Event | None = None,
    clock: Callable[[], float] | None = None,
) -> tuple[RunResult, list[dict[str, Any]]]:
    transcript = tmp_path / "transcripts" / "job-1.jsonl"
    client = _client(ms, key)
    options: dict[str, Any] = {"cancel": cancel}
    if clock is not None:
        options["clock"] = clock
    executor = Executor(
        client, model, toolbox or EchoToolbox(), limits or Limits(), transcript, **options
    )
    try:
        result = executor.run(SYSTEM, "Please echo 'hello' and report back.")
    finally:
        client.close()
    lines = transcript.read_text(encoding="utf-8").splitlines()
    return result, [json.loads(line) for line in lines]


def _events(transcript: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [record for record in transcript if record["event"] == name]


def test_two_step_agent_completes_and_the_model_saw_the_tool_result(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([text("Echoing."), tool_use("Echo", {"text": "hello"})]),
            "The tool said hello. Done.",
        ]
    )
    result, transcript = _run(ms, tmp_path)

    assert result.stop == "completed"
    assert result.summary == "The tool said hello. Done."
    assert result.turns == 2
    second = ms.requests[1].json
    answer = second["messages"][-1]
    assert answer["role"] == "user"
    call_id = second["messages"][-2]["content"][1]["id"]
    assert [
        {k: v for k, v in block.items() if k != "cache_control"} for block in answer["content"]
    ] == [{"type": "tool_result", "tool_use_id": call_id, "content": "hello", "is_error": False}]
    assert [record["event"] for record in transcript] == [
        "start",
        "request",
        "assistant",
        "tool_call",
        "tool_result",
        "request",
        "assistant",
        "final",
    ]
    final = transcript[-1]
    assert final["stop"] == "completed" and final["summary"] == result.summary


def test_all_calls_of_a_turn_are_answered_in_one_message_with_errors_flagged(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([tool_use("Echo", {"text": "one"}), tool_use("Fail", {"text": "two"})]),
            "One worked, one failed.",
        ]
    )
    toolbox = EchoToolbox()
    result, _ = _run(ms, tmp_path, toolbox=toolbox)
    assert result.stop == "completed"
    assert toolbox.calls == [("Echo", {"text": "one"}), ("Fail", {"text": "two"})]
    answer = ms.requests[1].json["messages"][-1]["content"]
    assert [(block["content"], block["is_error"]) for block in answer] == [
        ("one", False),
        ("Fail: it failed, as it always does", True),
    ]


def test_turn_limit_stops_the_run_and_the_transcript_has_every_turn(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.respond_with(lambda request: Turn([text("Again."), tool_use("Echo", {"text": "x"})]))
    result, transcript = _run(ms, tmp_path, limits=Limits(max_turns=3))
    assert result.stop == "turn_limit"
    assert result.turns == 3
    assert "3 turns" in result.detail
    assert result.summary == "Again."
    assert len(ms.requests) == 3
    assert len(_events(transcript, "assistant")) == 3
    assert len(_events(transcript, "tool_result")) == 3
    assert [r["turn"] for r in _events(transcript, "assistant")] == [1, 2, 3]
    assert transcript[-1]["event"] == "final" and transcript[-1]["stop"] == "turn_limit"


def test_cancel_event_stops_the_run(ms: ModelStandIn, tmp_path: Path) -> None:
    cancel = threading.Event()
    ms.respond_with(lambda request: Turn([tool_use("Echo", {"text": "working"})]))
    # Someone presses "stop" while the first tool call runs.
    toolbox = EchoToolbox(on_call=lambda name, tool_input: cancel.set())
    result, transcript = _run(ms, tmp_path, toolbox=toolbox, cancel=cancel)
    assert result.stop == "cancelled"
    assert result.turns == 1
    assert len(ms.requests) == 1
    assert transcript[-1]["stop"] == "cancelled"


def test_cancelled_before_start_sends_nothing(ms: ModelStandIn, tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    result, _ = _run(ms, tmp_path, cancel=cancel)
    assert result.stop == "cancelled"
    assert result.turns == 0
    assert ms.requests == []


def test_wrong_key_is_a_model_error_that_says_what_to_check(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    result, transcript = _run(ms, tmp_path, key="sk-ant-wrong-key-0000000000")
    assert result.stop == "model_error"
    assert "401" in result.detail and "ANTHROPIC_API_KEY" in result.detail
    assert transcript[-1]["stop"] == "model_error"
    assert "sk-ant-wrong" not in json.dumps(transcript)


def test_persistent_overload_is_a_model_error_after_retries(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.fail_next(status=529, times=20)
    result, _ = _run(ms, tmp_path)
    assert result.stop == "model_error"
    assert "529" in result.detail
    assert len(ms.requests) == 10  # the client's ten tries (agents.model_retry)


def test_unreachable_model_api_is_a_model_error(tmp_path: Path) -> None:
    with ModelStandIn(api_key=KEY) as gone:
        url = gone.url
    sdk = make_client(Provider("anthropic", url, KEY), timeout=2)
    client = ModelClient(sdk, sleep=lambda seconds: None)  # retried ten times, at once
    executor = Executor(client, MODEL, EchoToolbox(), Limits(), tmp_path / "t.jsonl")
    result = executor.run(SYSTEM, "Hi")
    client.close()
    assert result.stop == "model_error"
    assert "ANTHROPIC_BASE_URL" in result.detail


def test_system_and_tools_are_cache_marked_and_the_second_request_reads_the_cache(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script([Turn([tool_use("Echo", {"text": "hello"})]), "Done."])
    result, transcript = _run(ms, tmp_path)
    first = ms.requests[0].json
    assert first["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert first["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in first["tools"][0]
    usages = [record["usage"] for record in _events(transcript, "assistant")]
    assert usages[0]["cache_read_input_tokens"] == 0
    assert usages[0]["cache_creation_input_tokens"] > 0
    assert usages[1]["cache_read_input_tokens"] >= usages[0]["cache_creation_input_tokens"]
    assert result.usage.cache_read_input_tokens == usages[1]["cache_read_input_tokens"]


def test_cost_is_computed_from_usage_for_a_priced_model(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script([Turn([tool_use("Echo", {"text": "hello"})]), "Done."])
    result, transcript = _run(ms, tmp_path)
    per_turn = [
        cost_usd(MODEL.id, Usage(**record["usage"])) for record in _events(transcript, "assistant")
    ]
    assert all(cost is not None and cost > 0 for cost in per_turn)
    assert result.cost_usd == sum(cost for cost in per_turn if cost is not None)
    assert result.usage == sum(
        (Usage(**record["usage"]) for record in _events(transcript, "assistant")), Usage()
    )
    assert transcript[-1]["cost_usd"] == str(result.cost_usd)


@pytest.mark.parametrize(
    "model", [ModelRef("anthropic", "claude-unpriced-9"), ModelRef("ollama", "qwen2.5-coder:7b")]
)
def test_cost_is_unknown_for_an_unpriced_model(
    ms: ModelStandIn, tmp_path: Path, model: ModelRef
) -> None:
    ms.script([Turn([tool_use("Echo", {"text": "hello"})]), "Done."])
    result, transcript = _run(
        ms, tmp_path, model=model, limits=Limits(max_cost_usd=Decimal("0.000001"))
    )
    assert result.stop == "completed"  # an unknown cost cannot trip the cost limit
    assert result.cost_usd is None
    assert result.usage.output_tokens > 0
    assert transcript[-1]["cost_usd"] is None
    assert _events(transcript, "start")[0]["priced"] is False


def test_a_run_of_an_unpriced_model_that_fails_at_once_has_no_cost_either(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    """Not "$0.0000": nothing was priced because nothing can be."""
    ms.fail_next(status=401, message="invalid x-api-key")
    result, _ = _run(ms, tmp_path, model=ModelRef("ollama", "qwen2.5-coder:7b"))
    assert result.stop == "model_error"
    assert result.cost_usd is None


def test_cost_limit_stops_the_run(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.respond_with(lambda request: Turn([tool_use("Echo", {"text": "x"})]))
    result, _ = _run(ms, tmp_path, limits=Limits(max_cost_usd=Decimal("0.000001")))
    assert result.stop == "cost_limit"
    assert result.turns == 1
    assert result.cost_usd is not None and result.cost_usd >= Decimal("0.000001")


def test_time_limit_stops_the_run(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.respond_with(lambda request: Turn([tool_use("Echo", {"text": "x"})]))
    ticks = iter(range(0, 10_000, 400))  # each look at the clock is 400 s later
    result, _ = _run(
        ms, tmp_path, limits=Limits(max_seconds=1000), clock=lambda: float(next(ticks))
    )
    assert result.stop == "time_limit"
    assert result.turns == 2


def test_a_reply_cut_off_at_max_tokens_does_not_run_its_tool_call(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([tool_use("Echo", {"text": "half"})], stop_reason="max_tokens"),
            "Giving up politely.",
        ]
    )
    toolbox = EchoToolbox()
    result, _ = _run(ms, tmp_path, toolbox=toolbox)
    assert toolbox.calls == []
    answer = ms.requests[1].json["messages"][-1]["content"][0]
    assert answer["is_error"] is True and "max_tokens" in answer["content"]
    assert result.stop == "completed"


def test_secrets_in_tool_output_are_redacted_from_the_transcript(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    token = "ghp_" + "A1b2C3d4E5" * 4
    ms.script([Turn([tool_use("Echo", {"text": token})]), "Done."])
    _, transcript = _run(ms, tmp_path)
    assert token not in json.dumps(transcript)
    assert "[REDACTED]" in json.dumps(_events(transcript, "tool_result"))


def test_transcript_is_appended_as_the_run_goes(ms: ModelStandIn, tmp_path: Path) -> None:
    seen_lines: list[int] = []
    transcript = tmp_path / "transcripts" / "job-1.jsonl"

    def look(name: str, tool_input: dict[str, Any]) -> None:
        seen_lines.append(len(transcript.read_text(encoding="utf-8").splitlines()))

    ms.script([Turn([tool_use("Echo", {"text": "a"})]), "Done."])
    _run(ms, tmp_path, toolbox=EchoToolbox(on_call=look))
    # While the tool ran, start, request, assistant and tool_call were already on disk.
    assert seen_lines == [4]
