"""The ledger's tables and the values they hold: deliveries, jobs, issue slots, thread locks.

Everything that reads or writes the ledger shares these definitions (the SQLModel
tables, the job states, the Job columns a caller may set); the verbs live in
`bot.store.ledger` and the modules it is built from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, Column, Text
from sqlalchemy import DateTime as SADateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

DeliveryDecision = Literal["job", "ignored", "reply", "ping"]
JobState = Literal[
    "queued", "running", "succeeded", "failed", "cancelled", "no_changes", "refused", "skipped"
]
JobKind = str  # "reply", or whatever kind the handlers' StartJob names ("implement", …)

UNFINISHED_STATES: tuple[JobState, ...] = ("queued", "running")
# "refused": the worker's live permission check said no (the sender cannot write).
# "skipped": the worker looked and found nothing to do (a review that only says thanks),
# and ended the job before posting anything.
FINISHED_STATES: tuple[JobState, ...] = (
    "succeeded",
    "failed",
    "cancelled",
    "no_changes",
    "refused",
    "skipped",
)
JOB_STATES: tuple[JobState, ...] = UNFINISHED_STATES + FINISHED_STATES


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend.

    SQLite stores no offset and hands back naive values while PostgreSQL hands back
    aware ones; normalising here keeps comparisons and `isoformat()` the same everywhere.
    """

    impl = SADateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the ledger stores aware datetimes only (use bot.store.ledger.utcnow)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Delivery(SQLModel, table=True):
    """One acknowledged webhook delivery and what Rolecall decided about it."""

    id: str = Field(primary_key=True, max_length=64)  # X-GitHub-Delivery
    event: str = Field(max_length=64)
    action: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decision: str = Field(max_length=16)  # a DeliveryDecision
    reason: str = Field(default="", sa_type=Text)
    job_id: int | None = Field(default=None, index=True)


class Job(SQLModel, table=True):
    """One unit of work for a worker: its target, its progress and what it cost."""

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: str | None = Field(default=None, max_length=64, index=True)
    kind: str = Field(max_length=32)
    role: str | None = Field(default=None, max_length=200)
    repo_full_name: str | None = Field(default=None, max_length=300)
    # GitHub's ids are int64 (comment ids are past 2**31): BIGINT, not PostgreSQL's
    # 32-bit INTEGER, or real deliveries would be refused (see bot.store.schema.widen_id_columns).
    installation_id: int | None = Field(default=None, sa_type=BigInteger)
    issue_number: int | None = Field(default=None, sa_type=BigInteger)
    is_pull_request: bool = False
    comment_id: int | None = Field(default=None, sa_type=BigInteger)
    sender_login: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, sa_type=Text)
    trigger_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_json: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    state: str = Field(default="queued", max_length=16, index=True)  # a JobState
    phase: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    model: str | None = Field(default=None, max_length=100)
    turns: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    cost_usd: float | None = None  # None when the price of the model is not known
    pr_url: str | None = Field(default=None, max_length=500)
    # The branch the job works on, and the agent's last summary: what `/continue` resumes.
    branch: str | None = Field(default=None, max_length=255)
    summary: str | None = Field(default=None, sa_type=Text)
    tracking_comment_id: int | None = Field(default=None, sa_type=BigInteger)
    transcript_path: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0
    # "host:pid" of the process running the job, so a restart can tell its own
    # interrupted jobs from jobs another live process is still running.
    runner: str | None = Field(default=None, max_length=300)
    # Who asked (`/cancel`) to stop this job while it runs; the worker polls it, so a
    # job is cancellable from any process sharing the ledger.
    cancel_requested_by: str | None = Field(default=None, max_length=100)
    # Until when the running job is its runner's (see LEASE): renewed while it runs.
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the loop breaker let this job run for someone with write access; only such
    # jobs count towards its cap (bot.jobs.loopbreaker).
    admitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A note a thread gets at most once per window ("reader refusal", "loop breaker")
    # that this job posted or is posting, and when it claimed it (bot.jobs.loopbreaker).
    thread_note: str | None = Field(default=None, max_length=32)
    noted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class JobPhase(SQLModel, table=True):
    """When a job's worker began one of its phases (bot.store.phases), for the dashboard.

    A phase ends where the next one begins, or where the job finished.
    """

    __tablename__ = "job_phase"

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True)
    phase: str = Field(max_length=32)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IssueSlot(SQLModel, table=True):
    """Which job runs on an issue (or pull request) and which one waits for it (bot.store.slots)."""

    __tablename__ = "issue_slot"

    repo_full_name: str = Field(primary_key=True, max_length=300)
    issue_number: int = Field(primary_key=True)
    running_job_id: int | None = None
    pending_job_id: int | None = None


class ThreadLock(SQLModel, table=True):
    """One row per thread (issue or pull request), locked by decisions that count its jobs.

    The loop breaker and the once-per-window notes read a thread's jobs and then mark
    one; holding this row while they do makes two workers deciding at once decide in
    turn (see `Ledger.thread_transaction`).
    """

    __tablename__ = "thread_lock"

    repo_full_name: str = Field(primary_key=True, max_length=300)
    issue_number: int = Field(primary_key=True)


JOB_FIELDS = frozenset(Job.model_fields)
TABLES = [
    Delivery.__table__,  # type: ignore[attr-defined]
    Job.__table__,  # type: ignore[attr-defined]
    IssueSlot.__table__,  # type: ignore[attr-defined]
    JobPhase.__table__,  # type: ignore[attr-defined]
    ThreadLock.__table__,  # type: ignore[attr-defined]
]


def job_defaults(now: datetime) -> dict[str, Any]:
    """The Job defaults that live in Python: a raw INSERT does not apply the model's."""
    return {
        "kind": "job",
        "is_pull_request": False,
        "decision_json": {},
        "created_at": now,
        "attempts": 0,
    }


def check_job_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - JOB_FIELDS
    if unknown:
        raise TypeError(f"Job has no field(s) {', '.join(sorted(unknown))}")
