"""The agent loop: the model proposes tool calls, the toolbox runs them, until it is done.

Shaped like mini-swe-agent's `DefaultAgent`: `run` loops over `step`, `step` is `query`
then `execute`, and every way out of the loop is an `AgentStop`: the model finished,
a limit was reached (checked at the top of `query`; the time limit is also a deadline
no model call or command runs past), the job was cancelled, or the model API failed
after retries (agents.model_retry). `run` turns each into a `RunResult` (agents.outcome)
and never raises for them, so the caller can report honestly what happened. The
transcript is JSON lines, appended and flushed as each event happens, with the final
line written in `finally` whatever ended the run; `progress` is told how the run goes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

import anthropic
from anthropic.types import Message, ToolUseBlock

from agents.context_window import ContextFitter, window_for
from agents.model import DeadlineReached, ModelClient, ModelRef, RetryWait, content_params
from agents.model_errors import explain
from agents.outcome import (
    AgentStop,
    Cancelled,
    Completed,
    LimitsExceeded,
    ModelFailed,
    RunResult,
    RunStop,
)
from agents.pricing import Usage, cost_usd, has_price
from agents.progress import ProgressCallback, RunProgress, describe_step, report
from agents.run_limits import Limits, limit_reached, money
from agents.text.redact import Redactor
from agents.tools.result import ToolResult

# The limits (agents.run_limits), stops and result (agents.outcome), named for callers.
__all__ = ["Executor", "Limits", "RunResult", "RunStop", "Toolbox"]

# The answer to a tool call cut off by max_tokens: it is not run, and the model may retry.
_CUT_OFF = ToolResult(
    "Not run: your reply hit max_tokens before this call was complete. "
    "Send it again with less text around it.",
    is_error=True,
)
# How often an empty `pause_turn` is answered by sending the conversation again.
_EMPTY_PAUSES = 3


class Toolbox(Protocol):
    """What the loop needs from the tools (the real one is `agents.tools.toolbox`)."""

    def specs(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions, sent with every request."""
        ...

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        """Run one tool call. A failing tool returns `is_error=True`, never raises."""
        ...


@runtime_checkable
class TimedToolbox(Protocol):
    """A toolbox that stops commands at `deadline` (a `time.monotonic()` value)."""

    deadline: float | None


class Executor:
    """Runs one brief to completion (or to a limit) with the model and the toolbox."""

    def __init__(
        self,
        client: ModelClient,
        model: ModelRef,
        toolbox: Toolbox,
        limits: Limits,
        transcript_path: Path,
        *,
        cancel: threading.Event | None = None,
        max_tokens: int = 8192,
        redact: Callable[[str], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.toolbox = toolbox
        self.limits = limits
        self.transcript_path = transcript_path
        self.cancel = cancel or threading.Event()
        self.max_tokens = max_tokens
        # Invariant 6: the transcript is a log, so secret-shaped strings never reach it.
        self.redact = redact or Redactor()
        self.clock = clock
        self.progress = progress
        self.messages: list[dict[str, Any]] = []
        self.turns = 0
        self.usage = Usage()
        # Unknown from the start for a model without a price (a run that fails at once too).
        self.cost: Decimal | None = Decimal(0) if has_price(model.provider, model.id) else None
        self.summary = ""
        self._tools: list[dict[str, Any]] = []
        self._system = ""
        self._started = 0.0
        self._deadline = 0.0  # in time.monotonic(): what bounds each model and tool call
        self._time_left = limits.max_seconds
        self._step: str | None = None
        self._continuing = False  # the last reply was cut at max_tokens and asked to go on
        self._empty_pauses = 0
        self._transcript: IO[str] | None = None
        window = window_for(model.id, limits.context_window)
        room = max_tokens + (limits.thinking_budget or 0)  # the answer, thinking included
        self.context = ContextFitter(window, room, self._ask, self._log)

    # -- the loop ----------------------------------------------------------------------

    def run(self, system: str, brief: str) -> RunResult:
        """Loop until an `AgentStop`; return how it ended. Never raises an `AgentStop`."""
        self._system = system
        self._tools = self.toolbox.specs()
        self.messages = [{"role": "user", "content": brief}]
        self._started = self.clock()
        self._deadline = time.monotonic() + self.limits.max_seconds
        if isinstance(self.toolbox, TimedToolbox):
            self.toolbox.deadline = self._deadline
        self.transcript_path.parent.mkdir(parents=True, exist_ok=True)
        outcome: AgentStop | None = None
        with self.transcript_path.open("a", encoding="utf-8") as transcript:
            self._transcript = transcript
            try:
                self._log_start(system, brief)
                while True:
                    self.step()
            except AgentStop as stop:
                outcome = stop
                return self._result(stop)
            finally:
                self._log_final(outcome)
                self._transcript = None

    def step(self) -> None:
        """One turn: ask the model, then do what it asked."""
        self.execute(self.query())

    def query(self) -> Message:
        """Check the limits, then ask the model for its next turn."""
        self._check_limits()
        self.turns += 1
        self._log("request", turn=self.turns, messages=len(self.messages))
        budget = self.limits.thinking_budget
        try:  # fitting the window may ask for a summary: its failures are a turn's
            self.messages = self.context.fit(
                self.messages, self._system, self._tools, self.usage.prompt_tokens
            )
            message = self.client.create(
                self.model.id,
                self._system,
                self.messages,
                self._tools,
                self.max_tokens + (budget or 0),  # the answer's room beside the thinking
                thinking_budget=budget,
                time_left=self._time_left,
                on_retry=self._retrying,
            )
        except DeadlineReached as reached:
            raise self._out_of_time("waiting for the model API", reached.error) from reached
        except anthropic.APIError as error:
            raise ModelFailed(self._explain(error)) from error
        self._account(message)
        content = content_params(message)
        if content:  # the API refuses an empty assistant message mid-conversation
            self.messages.append({"role": "assistant", "content": content})
        self._log(
            "assistant",
            turn=self.turns,
            id=message.id,
            stop_reason=message.stop_reason,
            content=content,
            usage=Usage.from_api(message.usage).as_dict(),
            cost_usd=money(self.cost),
        )
        text = "\n\n".join(block.text for block in message.content if block.type == "text")
        if text.strip():  # a reply continued after max_tokens adds to the one it continues
            self.summary = self.summary + text if self._continuing else text
        self._continuing = False
        self._progress()
        return message

    def execute(self, message: Message) -> None:
        """Run the turn's tool calls and answer them all in one user message."""
        calls = [block for block in message.content if block.type == "tool_use"]
        reason = message.stop_reason
        if reason == "refusal":
            raise ModelFailed("the model declined to continue (stop_reason: refusal)")
        if reason == "model_context_window_exceeded":
            raise ModelFailed(
                "the conversation outgrew the model's context window; "
                "narrow the task or use a model with a larger window"
            )
        if reason == "max_tokens" and calls:
            # A call cut off mid-input must not run; tell the model and let it retry.
            self._answer([(call.id, _CUT_OFF) for call in calls])
            return
        if reason == "max_tokens":
            self.messages.append(
                {"role": "user", "content": "Your reply was cut off at max_tokens; continue."}
            )
            self._continuing = True
            return
        if reason == "pause_turn":
            # The API paused a long turn: sending the conversation back resumes it, but an
            # empty pause sends the very same request again, so only a few times.
            self._empty_pauses = 0 if message.content else self._empty_pauses + 1
            if self._empty_pauses > _EMPTY_PAUSES:
                raise ModelFailed(
                    f"the model API paused its turn {self._empty_pauses} times in a row "
                    "without answering anything; try again later"
                )
            return
        if not calls:
            raise Completed(f"the model finished after {self.turns} turns")
        self._answer(self._run_calls(calls))

    # -- helpers -----------------------------------------------------------------------

    def _run_calls(self, calls: list[ToolUseBlock]) -> list[tuple[str, ToolResult]]:
        """Run the turn's tool calls in order; a cancel stops before the next one."""
        results: list[tuple[str, ToolResult]] = []
        for call in calls:
            if self.cancel.is_set():
                raise Cancelled(f"cancelled during turn {self.turns}, before {call.name} ran")
            self._log("tool_call", turn=self.turns, id=call.id, name=call.name, input=call.input)
            self._step = describe_step(call.name, call.input, self.redact)
            self._progress()
            result = self.toolbox.call(call.name, dict(call.input))
            self._log(
                "tool_result",
                turn=self.turns,
                id=call.id,
                is_error=result.is_error,
                content=result.content,
            )
            results.append((call.id, result))
            if time.monotonic() >= self._deadline:  # the command was stopped at the deadline
                raise self._out_of_time(f"running {self._step}")
        return results

    def _log_start(self, system: str, brief: str) -> None:
        self._log(
            "start",
            model=str(self.model),
            limits=self.limits.as_record(),
            tools=[tool.get("name") for tool in self._tools],
            system=system,
            brief=brief,
            # None: no price is known for the model, so a token limit bounds the run.
            priced=self.cost is not None,
        )

    def _log_final(self, outcome: AgentStop | None) -> None:
        """The transcript's last line, written whatever ended the run (None: it crashed)."""
        self._log(
            "final",
            stop=outcome.stop if outcome is not None else "crashed",
            detail=outcome.detail if outcome is not None else "the loop raised",
            turns=self.turns,
            usage=self.usage.as_dict(),
            cost_usd=money(self.cost),
            summary=self.summary,
        )

    def _check_limits(self) -> None:
        if self.cancel.is_set():
            raise Cancelled(f"cancelled after {self.turns} turns")
        elapsed = self.clock() - self._started
        self._time_left = self.limits.max_seconds - elapsed
        reached = limit_reached(
            self.limits,
            turns=self.turns,
            elapsed=elapsed,
            cost=self.cost,
            usage=self.usage,
            model=str(self.model),
        )
        if reached is not None:
            raise reached

    def _out_of_time(self, doing: str, error: anthropic.APIError | None = None) -> AgentStop:
        """The time limit, reached during a model call or a command (`doing`)."""
        elapsed = self.clock() - self._started
        detail = f"stopped after {elapsed:.0f} s (limit {self.limits.max_seconds:.0f} s)"
        detail += f" while {doing}" + (f" ({self._explain(error)})" if error else "")
        return LimitsExceeded("time_limit", detail)

    def _retrying(self, wait: RetryWait) -> None:
        """The model client is about to wait before trying again: log it and tell."""
        self._log(
            "model_retry",
            turn=self.turns,
            attempt=wait.attempt,
            seconds=wait.seconds,
            reason=wait.reason,
            error=self._explain(wait.error),
        )
        self._progress(wait)

    def _progress(self, wait: RetryWait | None = None) -> None:
        if self.progress is None:
            return
        progress = RunProgress(
            turns=self.turns,
            usage=self.usage,
            cost_usd=self.cost,
            elapsed=self.clock() - self._started,
            step=self._step,
            retry_in=wait.seconds if wait is not None else None,
            retry_reason=wait.reason if wait is not None else None,
        )
        report(self.progress, progress)

    def _account(self, message: Message) -> None:
        turn_usage = Usage.from_api(message.usage)
        self.usage = self.usage + turn_usage
        # Priced per response: some models bill by each request's prompt length. The cost
        # is None from the start for a model without a price (`_log_start` says so).
        turn_cost = cost_usd(self.model.id, turn_usage) if self.cost is not None else None
        self.cost = None if turn_cost is None or self.cost is None else self.cost + turn_cost

    def _answer(self, results: list[tuple[str, ToolResult]]) -> None:
        self.messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": tool_use_id,
                        "content": result.content or "(no output)",
                        "is_error": result.is_error,
                    }
                    for tool_use_id, result in results
                ],
            }
        )

    def _explain(self, error: anthropic.APIError) -> str:
        """One line saying what went wrong with the model API (agents.model_errors)."""
        return explain(error, self.model)

    def _ask(self, messages: list[dict[str, Any]]) -> str:
        """A request between turns (the compaction's summary), sent like a turn's so it
        reads the conversation from the prompt cache, and priced like one."""
        budget = self.limits.thinking_budget
        message = self.client.create(
            self.model.id,
            self._system,
            messages,
            self._tools,
            self.max_tokens + (budget or 0),
            thinking_budget=budget,
            time_left=self._time_left,
            on_retry=self._retrying,
        )
        self._account(message)
        return "\n\n".join(block.text for block in message.content if block.type == "text")

    def _result(self, stop: AgentStop) -> RunResult:
        return RunResult(
            summary=self.summary,
            turns=self.turns,
            usage=self.usage,
            cost_usd=self.cost,
            stop=stop.stop,
            detail=stop.detail,
        )

    def _log(self, event: str, **fields: Any) -> None:
        """Append one transcript line now, so a crash still leaves what happened on disk."""
        if self._transcript is None:
            return
        record = {"event": event, "ts": time.time(), **fields}
        line = json.dumps(record, ensure_ascii=False, default=str)
        self._transcript.write(self.redact(line) + "\n")
        self._transcript.flush()
