"""Which delivery, job, repository and phase a log line belongs to, where that is known.

Set where the work happens (the webhook endpoint for a delivery; the worker for a job,
then for each phase) and read by the JSON log formatter (`bot.cli.logs`). A ContextVar,
so a delivery's fields stay with its request's task and a job's with the worker thread
running it; threads a job starts (live progress, cancel watching) do not carry them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class LogContext:
    """The fields a log line carries; None where the work has not said."""

    delivery_id: str | None = None
    job_id: int | None = None
    repository: str | None = None
    phase: str | None = None

    def fields(self) -> dict[str, str | int]:
        """The known fields, by name, as a JSON log line carries them."""
        return {name: value for name, value in asdict(self).items() if value is not None}


_NOTHING_KNOWN = LogContext()
_current: ContextVar[LogContext | None] = ContextVar("rolecall_log_context", default=None)


def current() -> LogContext:
    return _current.get() or _NOTHING_KNOWN


@contextmanager
def bound(
    *,
    delivery_id: str | None = None,
    job_id: int | None = None,
    repository: str | None = None,
    phase: str | None = None,
) -> Iterator[None]:
    """Lines logged inside carry these fields (besides the ones already set); restored after.

    A worker thread runs one job after another: leaving the block forgets the job, so the
    next one's lines never carry it.
    """
    token = _current.set(_with(delivery_id, job_id, repository, phase))
    try:
        yield
    finally:
        _current.reset(token)


def note(
    *,
    delivery_id: str | None = None,
    job_id: int | None = None,
    repository: str | None = None,
    phase: str | None = None,
) -> None:
    """Add fields learned along the way (the job's repository, its next phase).

    Only inside `bound`: its end restores what was there before, these included.
    """
    _current.set(_with(delivery_id, job_id, repository, phase))


def _with(
    delivery_id: str | None, job_id: int | None, repository: str | None, phase: str | None
) -> LogContext:
    known = current()
    return LogContext(
        delivery_id=known.delivery_id if delivery_id is None else delivery_id,
        job_id=known.job_id if job_id is None else job_id,
        repository=known.repository if repository is None else repository,
        phase=known.phase if phase is None else phase,
    )
