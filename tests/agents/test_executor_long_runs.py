"""Long runs through the real SDK against the model stand-in: faults, deadlines, progress.

What a user of a long run sees: an overload storm is waited out (and each wait is
reported), a failure that outlasts the retries is named for what it was, the time limit
stops a slow model call or command, thinking blocks survive the tool loop, the summary
is the whole final message, and a run whose cost cannot be known is bounded by tokens.
The toolboxes are small honest implementations of the executor's `Toolbox` protocol.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agents.executor import Executor, Limits, RunResult
from agents.model import ModelClient, ModelRef, Provider, RetryPolicy, make_client
from agents.pricing import Usage, cost_usd
from agents.progress import RunProgress
from agents.tools.result import ToolResult
from standins.model import ModelStandIn, Turn, text, thinking, tool_use

KEY = "test-key"
MODEL = ModelRef("anthropic", "claude-sonnet-4-5")
SYSTEM = "You are Rolecall's implementer. Work in small, tested steps. " * 80
BRIEF = "Please echo 'hello' and report back."
TOKEN = "ghp_" + "A1b2C3d4E5" * 4


class EchoToolbox:
    """Echo returns its text; Slow runs until the deadline, as a killed command does."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.deadline: float | None = None

    def specs(self) -> list[dict[str, Any]]:
        schema = {"type": "object", "properties": {"text": {"type": "string"}}}
        return [
            {"name": name, "description": f"The {name} tool.", "input_schema": schema}
            for name in ("Echo", "Slow")
        ]

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        self.calls.append((name, tool_input))
        if name == "Slow" and self.deadline is not None:
            time.sleep(max(0.0, self.deadline - time.monotonic()))
            return ToolResult("Command stopped when the job's time limit was reached.", True)
        return ToolResult(str(tool_input.get("text", "")))


class Waits:
    """The model client's sleep and clock: each wait is recorded and moves the clock."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.now = 0.0

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []  # the stand-in itself never failed


def _run(
    ms: ModelStandIn,
    tmp_path: Path,
    *,
    limits: Limits | None = None,
    model: ModelRef = MODEL,
    retry: RetryPolicy | None = None,
    waits: Waits | None = None,
    progress: list[RunProgress] | None = None,
    toolbox: EchoToolbox | None = None,
    timeout: float = 10,
    real_clock: bool = False,
) -> tuple[RunResult, list[dict[str, Any]]]:
    transcript = tmp_path / "transcript.jsonl"
    waits = waits if waits is not None else Waits()
    client = ModelClient(
        make_client(Provider("anthropic", ms.url, KEY), timeout=timeout),
        retry=retry,
        sleep=waits,
        clock=time.monotonic if real_clock else waits.clock,
    )
    executor = Executor(
        client,
        model,
        toolbox or EchoToolbox(),
        limits or Limits(),
        transcript,
        progress=progress.append if progress is not None else None,
    )
    try:
        result = executor.run(SYSTEM, BRIEF)
    finally:
        client.close()
    lines = transcript.read_text(encoding="utf-8").splitlines()
    return result, [json.loads(line) for line in lines]


def _events(transcript: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [record for record in transcript if record["event"] == name]


# -- model API faults -----------------------------------------------------------------


def test_an_overload_storm_is_waited_out_with_growing_waits(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.fail_next(status=529, times=5)
    ms.script([Turn([tool_use("Echo", {"text": "hello"})]), "Done."])
    waits, progress = Waits(), []
    result, transcript = _run(ms, tmp_path, waits=waits, progress=progress)

    assert result.stop == "completed"
    assert len(ms.requests) == 7  # five 529s, then the two turns
    assert len(waits.seconds) == 5
    assert waits.seconds == sorted(waits.seconds), "each wait is longer than the one before"
    assert 0.5 <= waits.seconds[0] <= 1 and 8 <= waits.seconds[-1] <= 16
    retries = [p for p in progress if p.retry_in is not None]
    assert [p.retry_in for p in retries] == waits.seconds
    assert retries[0].retry_note == f"model overloaded, retrying in {waits.seconds[0]:.0f} s"
    assert [r["reason"] for r in _events(transcript, "model_retry")] == ["model overloaded"] * 5


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({"retry-after": "7"}, 7.0), ({"retry-after-ms": "1500", "retry-after": "2"}, 1.5)],
)
def test_the_wait_the_api_asks_for_is_honoured(
    ms: ModelStandIn, tmp_path: Path, headers: dict[str, str], expected: float
) -> None:
    ms.fail_next(status=429, headers=headers)
    ms.script(["Done."])
    waits, progress = Waits(), []
    result, _ = _run(ms, tmp_path, waits=waits, progress=progress)
    assert result.stop == "completed"
    assert waits.seconds == [expected]
    assert progress[0].retry_reason == "model rate-limited"


def test_an_overload_that_outlasts_ten_tries_is_named_as_such(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.fail_next(status=529, times=50)
    waits = Waits()
    result, transcript = _run(ms, tmp_path, waits=waits)
    assert result.stop == "model_error"
    assert "stayed overloaded" in result.detail
    assert len(ms.requests) == 10
    assert len(waits.seconds) == 9
    assert max(waits.seconds) <= 30
    assert transcript[-1]["stop"] == "model_error"


def test_retries_give_up_when_they_would_take_more_than_five_minutes(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.fail_next(status=503, headers={"retry-after": "120"}, times=50)
    waits = Waits()
    result, _ = _run(ms, tmp_path, waits=waits)
    # The third wait is what would pass five minutes: 120 + 120 + 120 > 300.
    assert waits.seconds == [120.0, 120.0]
    assert len(ms.requests) == 3
    assert result.stop == "model_error" and "503" in result.detail


def test_an_overload_inside_the_stream_is_retried_and_named_as_an_overload(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.fail_next(status=529, mid_stream=True, times=10)
    result, _ = _run(ms, tmp_path, retry=RetryPolicy(max_attempts=3))
    assert len(ms.requests) == 3
    assert result.stop == "model_error"
    assert "stayed overloaded" in result.detail
    assert "(200)" not in result.detail and "refused" not in result.detail


def test_a_refused_request_is_not_retried(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.fail_next(status=400, message="messages: bad")
    waits = Waits()
    result, _ = _run(ms, tmp_path, waits=waits)
    assert result.stop == "model_error" and "400" in result.detail
    assert waits.seconds == [] and len(ms.requests) == 1


# -- the time limit is a deadline -------------------------------------------------------


def test_a_model_call_that_stalls_is_stopped_at_the_deadline(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.stall_next(seconds=60)
    ms.script(["never"])
    result, transcript = _run(
        ms, tmp_path, limits=Limits(max_seconds=1), timeout=600, real_clock=True
    )
    assert result.stop == "time_limit"
    assert "model API" in result.detail
    assert transcript[-1]["stop"] == "time_limit"


def test_a_model_stream_that_stalls_halfway_is_cut_at_the_deadline(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.stall_next(seconds=60, mid_stream=True)
    ms.script(["never"])
    result, _ = _run(ms, tmp_path, limits=Limits(max_seconds=1), timeout=600, real_clock=True)
    assert result.stop == "time_limit"
    assert "model API" in result.detail


def test_no_retry_waits_past_the_deadline(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.fail_next(status=529, headers={"retry-after": "30"}, times=5)
    waits = Waits()
    result, _ = _run(ms, tmp_path, waits=waits, limits=Limits(max_seconds=10))
    assert waits.seconds == []
    assert result.stop == "time_limit"
    assert "overloaded" in result.detail


def test_a_command_running_at_the_deadline_ends_the_run(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script([Turn([tool_use("Slow", {"text": "make test"})]), "never"])
    toolbox = EchoToolbox()
    result, transcript = _run(
        ms, tmp_path, toolbox=toolbox, limits=Limits(max_seconds=1), real_clock=True
    )
    assert toolbox.calls == [("Slow", {"text": "make test"})]
    assert toolbox.deadline is not None
    assert result.stop == "time_limit"
    assert "Slow: make test" in result.detail
    assert len(ms.requests) == 1
    assert _events(transcript, "tool_result")[0]["is_error"] is True


# -- progress -----------------------------------------------------------------------------


def test_progress_is_reported_after_each_response_and_before_each_tool_call(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([tool_use("Echo", {"text": f"deploy --token {TOKEN} " + "x" * 80})]),
            "Done.",
        ]
    )
    progress: list[RunProgress] = []
    result, _ = _run(ms, tmp_path, progress=progress)
    assert result.stop == "completed"
    assert [(p.turns, p.retry_in) for p in progress] == [(1, None), (1, None), (2, None)]
    after_first, before_call, after_second = progress
    assert after_first.step is None
    assert after_first.usage.output_tokens > 0 and after_first.cost_usd is not None
    assert before_call.step is not None and before_call.step.startswith("Echo: deploy --token")
    assert TOKEN not in before_call.step and len(before_call.step) <= 60
    assert after_second.usage == result.usage and after_second.cost_usd == result.cost_usd
    assert after_second.elapsed >= after_first.elapsed >= 0


def test_a_failing_progress_callback_never_stops_the_run(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script([Turn([tool_use("Echo", {"text": "hello"})]), "Done."])
    transcript = tmp_path / "t.jsonl"
    client = ModelClient(make_client(Provider("anthropic", ms.url, KEY), timeout=10))

    def broken(progress: RunProgress) -> None:
        raise RuntimeError("the tracking comment could not be edited")

    executor = Executor(client, MODEL, EchoToolbox(), Limits(), transcript, progress=broken)
    result = executor.run(SYSTEM, BRIEF)
    client.close()
    assert result.stop == "completed" and result.turns == 2


# -- extended thinking --------------------------------------------------------------------


def test_thinking_is_requested_kept_through_the_tool_loop_and_priced(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    plan = "Echo first, then report what it said. " * 40
    ms.script(
        [
            Turn([thinking(plan), text("Echoing."), tool_use("Echo", {"text": "hello"})]),
            Turn([thinking("It said hello."), text("The tool said hello.")]),
        ]
    )
    result, transcript = _run(ms, tmp_path, limits=Limits(thinking_budget=4096))

    assert result.stop == "completed"  # the stand-in checked the signature it was sent back
    first, second = (request.json for request in ms.requests)
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    assert first["max_tokens"] > 4096
    sent_back = second["messages"][1]["content"][0]
    assert sent_back["type"] == "thinking" and sent_back["thinking"] == plan
    assert sent_back["signature"]
    usages = [Usage(**record["usage"]) for record in _events(transcript, "assistant")]
    assert usages[0].output_tokens >= len(plan) // 4  # thinking is billed as output
    assert result.cost_usd == sum(cost_usd(MODEL.id, usage) or 0 for usage in usages)
    assert result.summary == "The tool said hello."


def test_without_a_budget_no_thinking_is_requested(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script(["Done."])
    _run(ms, tmp_path)
    assert "thinking" not in ms.requests[0].json


# -- the final message, pauses and unknown prices -----------------------------------------


def test_the_summary_is_the_whole_message_continued_after_max_tokens(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([text("Fixed the parser; the first half of the summary")], "max_tokens"),
            Turn([text(" and its second half, with the test results.")]),
        ]
    )
    result, transcript = _run(ms, tmp_path)
    assert result.stop == "completed"
    assert result.summary == (
        "Fixed the parser; the first half of the summary and its second half, "
        "with the test results."
    )
    assert transcript[-1]["summary"] == result.summary


def test_a_new_message_after_a_continued_one_replaces_the_summary(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.script(
        [
            Turn([text("Half of a plan")], "max_tokens"),
            Turn([text(" and the rest."), tool_use("Echo", {"text": "hi"})]),
            "All done.",
        ]
    )
    result, _ = _run(ms, tmp_path)
    assert result.summary == "All done."


def test_empty_pauses_are_resent_a_few_times_then_stop_the_run(
    ms: ModelStandIn, tmp_path: Path
) -> None:
    ms.respond_with(lambda request: Turn([], stop_reason="pause_turn"))
    result, _ = _run(ms, tmp_path, limits=Limits(max_turns=50))
    assert result.stop == "model_error"
    assert "paused its turn 4 times" in result.detail
    assert len(ms.requests) == 4


def test_a_pause_with_content_is_resumed(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script([Turn([text("Searching…")], stop_reason="pause_turn"), "Found it."])
    result, _ = _run(ms, tmp_path)
    assert result.stop == "completed" and result.summary == "Found it."


def test_a_run_with_no_known_price_is_bounded_by_tokens(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.respond_with(lambda request: Turn([tool_use("Echo", {"text": "again"})]))
    limits = Limits(max_cost_usd=Decimal("0.000001"), max_total_tokens=3000)
    result, transcript = _run(ms, tmp_path, model=ModelRef("ollama", "qwen"), limits=limits)
    assert result.stop == "token_limit"
    assert result.cost_usd is None
    assert "3,000" in result.detail and "no price is known" in result.detail
    assert transcript[-1]["stop"] == "token_limit"


def test_a_priced_run_is_bounded_by_cost_not_tokens(ms: ModelStandIn, tmp_path: Path) -> None:
    ms.script([Turn([tool_use("Echo", {"text": "a"})]), "Done."])
    result, _ = _run(ms, tmp_path, limits=Limits(max_total_tokens=10))
    assert result.stop == "completed"
