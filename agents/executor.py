"""The agent loop: the model proposes tool calls, the toolbox runs them, until it is done.

Shaped like mini-swe-agent's `DefaultAgent`: `run` loops over `step`, `step` is `query`
then `execute`, and every way out of the loop is an `AgentStop`: the model finished,
a limit was reached (checked at the top of `query`), the job was cancelled, or the
model API failed after the SDK's retries. `run` turns each into a `RunResult` and never
raises for them, so the caller can report honestly what happened. The transcript is
JSON lines, appended and flushed as each event happens, with the final line written in
`finally` whatever ended the run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, Literal, Protocol

import anthropic
from anthropic.types import Message, ToolUseBlock

from agents.model import ModelClient, ModelRef
from agents.pricing import Usage, cost_usd
from agents.text.redact import Redactor
from agents.tools.result import ToolResult

RunStop = Literal["completed", "turn_limit", "time_limit", "cost_limit", "cancelled", "model_error"]
LimitName = Literal["turn_limit", "time_limit", "cost_limit"]

# The answer to a tool call cut off by max_tokens: it is not run, and the model may retry.
_CUT_OFF = ToolResult(
    "Not run: your reply hit max_tokens before this call was complete. "
    "Send it again with less text around it.",
    is_error=True,
)


class Toolbox(Protocol):
    """What the loop needs from the tools (the real one is `agents.tools.toolbox`)."""

    def specs(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions, sent with every request."""
        ...

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        """Run one tool call. A failing tool returns `is_error=True`, never raises."""
        ...


@dataclass(frozen=True)
class Limits:
    """Bounds on one run. `max_cost_usd=None` means no cost bound."""

    max_turns: int = 50
    max_seconds: float = 1800
    max_cost_usd: Decimal | None = Decimal("5")


@dataclass(frozen=True)
class RunResult:
    """How a run ended, what it said last, and what it used."""

    summary: str
    turns: int
    usage: Usage
    cost_usd: Decimal | None
    stop: RunStop
    detail: str


class AgentStop(Exception):
    """Ends the loop. Subclasses say why; `detail` is one line for a person to read."""

    stop: RunStop = "completed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Completed(AgentStop):
    """The model answered without calling a tool: its text is the summary."""

    stop = "completed"


class LimitsExceeded(AgentStop):
    """A turn, time or cost limit was reached; `limit` names which."""

    def __init__(self, limit: LimitName, detail: str) -> None:
        super().__init__(detail)
        self.limit: LimitName = limit
        self.stop = limit


class Cancelled(AgentStop):
    """Someone asked the job to stop."""

    stop = "cancelled"


class ModelFailed(AgentStop):
    """The model API failed after the SDK's retries, or gave an answer we cannot continue."""

    stop = "model_error"


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
        self.messages: list[dict[str, Any]] = []
        self.turns = 0
        self.usage = Usage()
        self.cost: Decimal | None = Decimal(0)
        self.summary = ""
        self._tools: list[dict[str, Any]] = []
        self._system = ""
        self._started = 0.0
        self._transcript: IO[str] | None = None

    # -- the loop ----------------------------------------------------------------------

    def run(self, system: str, brief: str) -> RunResult:
        """Loop until an `AgentStop`; return how it ended. Never raises an `AgentStop`."""
        self._system = system
        self._tools = self.toolbox.specs()
        self.messages = [{"role": "user", "content": brief}]
        self._started = self.clock()
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
        try:
            message = self.client.create(
                self.model.id, self._system, self.messages, self._tools, self.max_tokens
            )
        except anthropic.APIError as error:
            raise ModelFailed(self._explain(error)) from error
        self._account(message)
        content = _content_params(message)
        if content:  # the API refuses an empty assistant message mid-conversation
            self.messages.append({"role": "assistant", "content": content})
        self._log(
            "assistant",
            turn=self.turns,
            id=message.id,
            stop_reason=message.stop_reason,
            content=content,
            usage=Usage.from_api(message.usage).as_dict(),
            cost_usd=_money(self.cost),
        )
        text = "\n\n".join(block.text for block in message.content if block.type == "text")
        if text.strip():
            self.summary = text
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
            return
        if reason == "pause_turn":
            return  # the API paused a long turn: sending the conversation back resumes it
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
            result = self.toolbox.call(call.name, dict(call.input))
            self._log(
                "tool_result",
                turn=self.turns,
                id=call.id,
                is_error=result.is_error,
                content=result.content,
            )
            results.append((call.id, result))
        return results

    def _log_start(self, system: str, brief: str) -> None:
        self._log(
            "start",
            model=str(self.model),
            limits={
                "max_turns": self.limits.max_turns,
                "max_seconds": self.limits.max_seconds,
                "max_cost_usd": _money(self.limits.max_cost_usd),
            },
            tools=[tool.get("name") for tool in self._tools],
            system=system,
            brief=brief,
        )

    def _log_final(self, outcome: AgentStop | None) -> None:
        """The transcript's last line, written whatever ended the run (None: it crashed)."""
        self._log(
            "final",
            stop=outcome.stop if outcome is not None else "crashed",
            detail=outcome.detail if outcome is not None else "the loop raised",
            turns=self.turns,
            usage=self.usage.as_dict(),
            cost_usd=_money(self.cost),
            summary=self.summary,
        )

    def _check_limits(self) -> None:
        if self.cancel.is_set():
            raise Cancelled(f"cancelled after {self.turns} turns")
        if self.turns >= self.limits.max_turns:
            raise LimitsExceeded(
                "turn_limit", f"stopped after {self.turns} turns (limit {self.limits.max_turns})"
            )
        elapsed = self.clock() - self._started
        if elapsed >= self.limits.max_seconds:
            raise LimitsExceeded(
                "time_limit",
                f"stopped after {elapsed:.0f} s (limit {self.limits.max_seconds:.0f} s)",
            )
        bound = self.limits.max_cost_usd
        if bound is not None and self.cost is not None and self.cost >= bound:
            raise LimitsExceeded("cost_limit", f"stopped at ${self.cost:.4f} (limit ${bound})")

    def _account(self, message: Message) -> None:
        turn_usage = Usage.from_api(message.usage)
        self.usage = self.usage + turn_usage
        if self.cost is None:
            return
        # Priced per response: some models bill by each request's prompt length.
        turn_cost = (
            cost_usd(self.model.id, turn_usage) if self.model.provider == "anthropic" else None
        )
        if turn_cost is None:
            self.cost = None
            self._log(
                "note",
                turn=self.turns,
                text=f"no price known for {self.model}: cost unknown, cost limit not enforced",
            )
        else:
            self.cost += turn_cost

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
        """One line saying what went wrong with the model API and what to do about it."""
        key_name = "ANTHROPIC_API_KEY" if self.model.provider == "anthropic" else "the API key"
        where = "ANTHROPIC_BASE_URL" if self.model.provider == "anthropic" else "its base URL"
        if isinstance(error, anthropic.APITimeoutError):
            return f"the model API did not answer in time; check {where} and the network"
        if isinstance(error, anthropic.APIConnectionError):
            return f"could not reach the model API ({self.model.provider}); check {where}"
        if not isinstance(error, anthropic.APIStatusError):
            return f"the model API answered something unusable: {error.message}"
        status = error.status_code
        said = error.api_message or error.message
        if status == 401:
            return f"the model API answered 401 ({said}): check {key_name}"
        if status == 403:
            return (
                f"the model API answered 403 ({said}): the key may not have access to {self.model}"
            )
        if status == 404:
            return f"the model API answered 404 ({said}): check the model name {str(self.model)!r}"
        if status == 413:
            return "the model API answered 413: the conversation is too large for one request"
        if status == 429:
            return f"the model API kept answering 429 (rate limited) after retries: {said}"
        if status == 529:
            return "the model API stayed overloaded (529) after retries; try again later"
        if status >= 500:
            return f"the model API kept failing ({status}) after retries: {said}"
        return f"the model API refused the request ({status}): {said}"

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


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _content_params(message: Message) -> list[dict[str, Any]]:
    """The assistant's blocks as request params, to send back on the next turn."""
    params: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            if block.text:
                params.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            params.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        else:  # thinking and other blocks go back exactly as received
            params.append(block.model_dump(mode="json", exclude_none=True))
    return params
