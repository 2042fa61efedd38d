"""One running and one pending role job per issue, kept in the ledger.

Two people asking for work on one issue must not get two agents racing on it, and a
third request should not pile up behind the second. So each issue has a slot: the job
running on it, and at most one job waiting. A job that finds the slot taken parks as
the pending one (replacing, and cancelling, any job already waiting); a job that ends
hands the slot to the pending job, which the caller then queues.

Every change is one write transaction (IMMEDIATE on SQLite, a row lock on PostgreSQL),
so two workers in different processes cannot both take a slot. A slot whose running job
has ended without handing it over (a crash) counts as free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from bot.store.ledger import Ledger
from bot.store.tables import FINISHED_STATES, IssueSlot, Job, utcnow
from handlers.command_names import CONTROL_COMMANDS

# Jobs that only answer or steer (help, status, cancel, retry, replies): they never take
# an issue's slot, and /cancel never stops them.
CONTROL_KINDS = frozenset({"reply", *CONTROL_COMMANDS})


_SLOTS = IssueSlot.__table__  # type: ignore[attr-defined]
_JOBS = Job.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Turn:
    """Whether a job may run now; if not, whom it waits for and whom it replaced."""

    runs: bool
    running_job_id: int | None = None
    superseded_job_id: int | None = None


@dataclass
class Cancellation:
    """What `/cancel` did: jobs told to stop while running, jobs stopped before starting."""

    signalled: list[int] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)


def holder(ledger: Ledger, job: Job) -> int | None:
    """The other job that holds `job`'s issue now, if any (a look, not a claim)."""
    with ledger.engine.connect() as conn:
        slot = _slot(conn, job)
        running = slot.running_job_id if slot is not None else None
        if running is None or running == job.id or not _unfinished(conn, running):
            return None
        return int(running)


def take_turn(ledger: Ledger, job: Job, *, waiting_note: str) -> Turn:
    """Take the issue's slot, or park `job` as its pending job (state queued).

    A job already pending is superseded: it ends as cancelled with an outcome naming
    `job`. Parking writes the job's state in the same transaction as the slot, so the
    job that ends next can hand over at once; the parked job's worker writes nothing
    more about it afterwards.
    """
    for attempt in range(3):
        try:
            with ledger.transaction() as conn:
                return _take_turn(conn, job, waiting_note)
        except IntegrityError:
            if attempt == 2:
                raise  # another process kept winning the race to create the slot row
    raise AssertionError("unreachable")


def _take_turn(conn: Connection, job: Job, waiting_note: str) -> Turn:
    slot = _slot(conn, job)
    if slot is None:
        conn.execute(
            insert(_SLOTS).values(
                repo_full_name=job.repo_full_name,
                issue_number=job.issue_number,
                running_job_id=job.id,
            )
        )
        return Turn(runs=True)
    running = slot.running_job_id
    if running is None or running == job.id or not _unfinished(conn, running):
        pending = None if slot.pending_job_id == job.id else slot.pending_job_id
        _set_slot(conn, job, running_job_id=job.id, pending_job_id=pending)
        return Turn(runs=True)
    superseded = slot.pending_job_id
    if superseded is not None and superseded != job.id and _state(conn, superseded) == "queued":
        conn.execute(
            update(_JOBS)
            .where(_JOBS.c.id == superseded, _JOBS.c.state == "queued")
            .values(
                state="cancelled",
                outcome=f"superseded by job {job.id}",
                finished_at=utcnow(),
            )
        )
    else:
        superseded = None
    _set_slot(conn, job, running_job_id=running, pending_job_id=job.id)
    # Waiting is no interrupted attempt: the restart guard counts claims from here on.
    conn.execute(
        update(_JOBS)
        .where(_JOBS.c.id == job.id)
        .values(state="queued", outcome=waiting_note, attempts=0)
    )
    return Turn(runs=False, running_job_id=int(running), superseded_job_id=superseded)


def release(ledger: Ledger, job: Job) -> int | None:
    """`job` has ended: hand its slot to the pending job and return that job's id.

    The caller queues the returned job; None when nothing waits (or `job` held nothing).
    A job that ends while pending (cancelled, failed before its turn) leaves the slot.
    """
    with ledger.transaction() as conn:
        slot = _slot(conn, job)
        if slot is None:
            return None
        if slot.pending_job_id == job.id:
            _set_slot(conn, job, running_job_id=slot.running_job_id, pending_job_id=None)
            return None
        if slot.running_job_id != job.id:
            return None
        pending = slot.pending_job_id
        if pending is not None and _state(conn, pending) == "queued":
            _set_slot(conn, job, running_job_id=pending, pending_job_id=None)
            return int(pending)
        _set_slot(conn, job, running_job_id=None, pending_job_id=None)
        return None


def cancel_issue(ledger: Ledger, repo_full_name: str, number: int, by: str) -> Cancellation:
    """Stop every unfinished job on an issue except control jobs.

    Running jobs get `cancel_requested_by` (their worker polls it and stops its agent);
    queued ones, which no worker holds, end as cancelled at once.
    """
    done = Cancellation()
    with ledger.transaction() as conn:
        rows = conn.execute(
            select(_JOBS.c.id, _JOBS.c.state).where(
                _JOBS.c.repo_full_name == repo_full_name,
                _JOBS.c.issue_number == number,
                _JOBS.c.state.in_(("queued", "running")),
                _JOBS.c.kind.not_in(CONTROL_KINDS),
            )
        ).all()
        for job_id, state in rows:
            if state == "queued":
                conn.execute(
                    update(_JOBS)
                    .where(_JOBS.c.id == job_id)
                    .values(
                        state="cancelled",
                        outcome=f"cancelled by @{by} before it started",
                        cancel_requested_by=by,
                        finished_at=utcnow(),
                    )
                )
                done.dropped.append(int(job_id))
            else:
                conn.execute(
                    update(_JOBS).where(_JOBS.c.id == job_id).values(cancel_requested_by=by)
                )
                done.signalled.append(int(job_id))
        conn.execute(
            update(_SLOTS)
            .where(
                _SLOTS.c.repo_full_name == repo_full_name,
                _SLOTS.c.issue_number == number,
                _SLOTS.c.pending_job_id.in_(done.dropped or [-1]),
            )
            .values(pending_job_id=None)
        )
    return done


def pending_job(ledger: Ledger, repo_full_name: str, number: int) -> int | None:
    """The job waiting on an issue, for `/status`."""
    with ledger.engine.connect() as conn:
        row = conn.execute(
            select(_SLOTS.c.pending_job_id).where(
                _SLOTS.c.repo_full_name == repo_full_name, _SLOTS.c.issue_number == number
            )
        ).first()
        if row is None or row[0] is None or _state(conn, row[0]) != "queued":
            return None
        return int(row[0])


# --- helpers ------------------------------------------------------------------------------------


def _slot(conn: Connection, job: Job) -> IssueSlot | None:
    row = conn.execute(
        select(_SLOTS)
        .where(
            _SLOTS.c.repo_full_name == job.repo_full_name,
            _SLOTS.c.issue_number == job.issue_number,
        )
        .with_for_update()
    ).first()
    return IssueSlot(**row._mapping) if row is not None else None


def _set_slot(
    conn: Connection, job: Job, *, running_job_id: int | None, pending_job_id: int | None
) -> None:
    conn.execute(
        update(_SLOTS)
        .where(
            _SLOTS.c.repo_full_name == job.repo_full_name,
            _SLOTS.c.issue_number == job.issue_number,
        )
        .values(running_job_id=running_job_id, pending_job_id=pending_job_id)
    )


def _state(conn: Connection, job_id: int) -> str | None:
    return conn.execute(select(_JOBS.c.state).where(_JOBS.c.id == job_id)).scalar()


def _unfinished(conn: Connection, job_id: int) -> bool:
    return _state(conn, job_id) not in (None, *FINISHED_STATES)
