"""How an agent run that did not complete ends its job: the state, and words to act on."""

from __future__ import annotations

from agents.run import RunResult
from bot.jobs.context import JobStopped


def stop_of(result: RunResult, cancelled_by: str | None) -> JobStopped | None:
    """None when the run completed; else the `JobStopped` that ends the job."""
    if result.stop == "completed":
        return None
    if result.stop == "cancelled" and cancelled_by:
        return JobStopped(f"Cancelled by @{cancelled_by}.", state="cancelled")
    state = "cancelled" if result.stop == "cancelled" else "failed"
    return JobStopped(_reason(result), state=state)


def _reason(result: RunResult) -> str:
    if result.stop == "turn_limit":
        return f"The agent stopped at the turn limit ({result.turns} turns) before finishing."
    if result.stop == "time_limit":
        return "The agent stopped at the time limit before finishing."
    if result.stop == "cost_limit":
        return "The agent stopped at the cost limit before finishing."
    if result.stop == "token_limit":
        return (
            "The agent stopped at the token limit before finishing (its model has no known "
            "price, so ROLECALL_MAX_TOKENS bounds it instead of the cost limit)."
        )
    if result.stop == "cancelled":
        return "The job was cancelled."
    return _sentence(result.detail)  # the model API's failure, said whole (agents.model_errors)


def _sentence(line: str) -> str:
    """`line` as a sentence: a capital first letter, a full stop at the end."""
    line = line.strip() or "the model API failed"
    return line[0].upper() + line[1:] + ("" if line.endswith((".", "!", "?")) else ".")
