"""What a running agent is doing, for whoever shows it (the worker's tracking comment).

The executor reports a `RunProgress` after each model response, before each tool call
and before each wait for the model API; `step` names the current or last tool call in a
few words and `retry_note` the wait. Reporting is best-effort: a callback that raises is
logged and the run goes on (`report`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from agents.pricing import Usage

log = logging.getLogger(__name__)

STEP_CHARS = 60
# The input field that says best what a call of each tool does.
_MAIN_FIELD = {
    "Bash": "command",
    "Read": "file_path",
    "Write": "file_path",
    "Edit": "file_path",
    "Glob": "pattern",
    "Grep": "pattern",
    "WebFetch": "url",
}


@dataclass(frozen=True)
class RunProgress:
    """A run so far: turns, tokens, cost (None when unknown), seconds, and what it does now.

    `retry_in` is set, with `retry_reason` ("model overloaded"), while the model API is
    being retried.
    """

    turns: int
    usage: Usage
    cost_usd: Decimal | None
    elapsed: float
    step: str | None = None
    retry_in: float | None = None
    retry_reason: str | None = None

    @property
    def retry_note(self) -> str | None:
        """ "model overloaded, retrying in 8 s", or None when not waiting to retry."""
        if self.retry_in is None:
            return None
        return f"{self.retry_reason or 'model API failed'}, retrying in {self.retry_in:.0f} s"


ProgressCallback = Callable[[RunProgress], None]


def describe_step(name: str, tool_input: Mapping[str, Any], redact: Callable[[str], str]) -> str:
    """A tool call in a few words ("Bash: pytest -q"), redacted, one line, at most 60 chars."""
    field = _MAIN_FIELD.get(name)
    value = tool_input.get(field) if field is not None else None
    if value is None:
        value = next((v for v in tool_input.values() if isinstance(v, str) and v.strip()), None)
    words = " ".join(redact(str(value)).split()) if value is not None else ""
    text = f"{name}: {words}" if words else name
    return text if len(text) <= STEP_CHARS else text[: STEP_CHARS - 1].rstrip() + "…"


def report(callback: ProgressCallback | None, progress: RunProgress) -> None:
    """Hand `progress` to `callback`; whatever it raises is logged, never passed on."""
    if callback is None:
        return
    try:
        callback(progress)
    except Exception:
        log.exception("the progress callback failed; the run goes on")
