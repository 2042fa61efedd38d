"""When to ask the model API again after a failure, and how long to wait first.

The SDK's own retries (a handful, over a few seconds) are too short for an overload
storm and invisible to the person watching a job, so `agents.model.ModelClient` runs
this policy itself with the SDK's retries off: it retries what the API says is worth
retrying (408, 409, 429, 5xx, 529, a dropped connection or a timeout, and an
`overloaded_error` that arrives inside a stream, which the SDK raises as a bare
`APIStatusError` with status 200 and `type` set), waits as `retry-after-ms` or
`retry-after` says or else backs off exponentially with jitter, tells its caller about
each wait (`RetryWait`), and gives up after `max_attempts` tries or `max_seconds`,
whichever comes first. A job's deadline ends the waiting too (`DeadlineReached`).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass

import anthropic

# Types the API may send in an `error` event inside a stream that are worth a new try.
_TRANSIENT_STREAM_TYPES = {
    "overloaded_error": "model overloaded",
    "rate_limit_error": "model rate-limited",
    "api_error": "model API error",
    "timeout_error": "model API timed out",
}
# The longest wait a server may ask for that is still honoured as such (an hour).
_LONGEST_SERVER_WAIT = 3600.0


@dataclass(frozen=True)
class RetryPolicy:
    """How long a model call keeps trying: about 10 tries or 5 minutes, 1 s doubling to 30 s."""

    max_attempts: int = 10
    max_seconds: float = 300.0
    first_wait: float = 1.0
    max_wait: float = 30.0


@dataclass(frozen=True)
class RetryWait:
    """One wait before the next try: which try failed, how long, and why, in a few words."""

    attempt: int
    seconds: float
    reason: str
    error: anthropic.APIError


class DeadlineReached(Exception):
    """The job's time ran out during a model call, or before its next try could start.

    `error` is the model API's last failure, if one made the call wait, for the report.
    """

    def __init__(self, error: anthropic.APIError | None = None) -> None:
        super().__init__("the job's time ran out while waiting for the model API")
        self.error = error


def retry_reason(error: anthropic.APIError) -> str | None:
    """A few words saying why `error` is worth another try, or None when it is not."""
    if isinstance(error, anthropic.APITimeoutError):
        return "model API timed out"
    if isinstance(error, anthropic.APIConnectionError):
        return "model API unreachable"
    if not isinstance(error, anthropic.APIStatusError):
        return None
    said = error.response.headers.get("x-should-retry")
    if said == "false":
        return None
    status = error.status_code
    if status < 400:  # an `error` event inside a stream that began with 200
        return _TRANSIENT_STREAM_TYPES.get(error.type or "")
    if status == 529 or error.type == "overloaded_error":
        return "model overloaded"
    if status == 429:
        return "model rate-limited"
    if status == 408:
        return "model API timed out"
    if status == 409 or status >= 500 or said == "true":
        return f"model API error {status}"
    return None


def server_wait(error: anthropic.APIError) -> float | None:
    """What `retry-after-ms` or `retry-after` asks for, in seconds; None when nothing usable."""
    if not isinstance(error, anthropic.APIStatusError):
        return None
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            parsed = email.utils.parsedate_tz(value) if scale == 1.0 else None
            if parsed is None:
                continue
            seconds = email.utils.mktime_tz(parsed) - time.time()
        if 0 < seconds <= _LONGEST_SERVER_WAIT:
            return seconds
    return None


def backoff(attempt: int, policy: RetryPolicy, jitter: Callable[[], float]) -> float:
    """The wait after failed try `attempt` (1-based): doubling, capped, less up to a quarter."""
    base = min(policy.first_wait * 2.0 ** (attempt - 1), policy.max_wait)
    return base * (1 - 0.25 * jitter())
