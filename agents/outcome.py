"""How an agent run ends: the stop names, the exceptions that end the loop, the result.

Every way out of `agents.executor.Executor`'s loop is an `AgentStop` whose `stop` names
it; `RunResult` is what the caller gets, whatever the stop. The worker words each stop
for people (bot/jobs/stops.py), so a new stop name needs wording there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from agents.pricing import Usage

RunStop = Literal[
    "completed",
    "turn_limit",
    "time_limit",
    "cost_limit",
    "token_limit",
    "cancelled",
    "model_error",
]
# `token_limit` bounds a run whose cost cannot be known (no price for its model).
LimitName = Literal["turn_limit", "time_limit", "cost_limit", "token_limit"]


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
    """A turn, time, cost or token limit was reached; `limit` names which."""

    def __init__(self, limit: LimitName, detail: str) -> None:
        super().__init__(detail)
        self.limit: LimitName = limit
        self.stop = limit


class Cancelled(AgentStop):
    """Someone asked the job to stop."""

    stop = "cancelled"


class ModelFailed(AgentStop):
    """The model API failed after retries, or gave an answer we cannot continue."""

    stop = "model_error"
