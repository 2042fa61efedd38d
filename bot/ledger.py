"""The ledger: every delivery Rolecall acknowledged and every job it made, durably.

The ledger is the source of truth for invariant 7. A delivery row is written in the same
transaction as its job row, before GitHub gets its 202, so an acknowledged webhook is
always either a job or a recorded decision not to act, and the delivery id as primary key
makes a redelivery unable to create a second job. The queue (huey) only carries job ids;
whatever it loses, `bot.intake.recover` puts back from here.

SQLite (the default, one file in the data dir) runs in WAL mode with `synchronous=FULL`,
so a commit is on disk when it returns. PostgreSQL is used when several machines share
the ledger; `postgresql://` URLs are mapped to the psycopg 3 driver. A running job is
leased to its worker (`LEASE`, bot.lease), so a job left by a machine that died is taken
over by a live worker. Tables are created and nullable columns added at start-up, so a
ledger written by an earlier Rolecall still opens.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import JSON, BigInteger, Column, Text, event, func, inspect, select, update
from sqlalchemy import DateTime as SADateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session, SQLModel, create_engine

from bot.settings import Settings

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

# How long a running job stays its worker's without a word from it. The worker renews
# the lease every few seconds while the job runs (bot.lease); a job whose lease ran out
# was left by a worker that is gone (a machine that died), and a live worker takes it
# over. Long against the renewal interval, so a slow ledger or a busy machine never
# loses a job it is still running.
LEASE = timedelta(seconds=60)


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
            raise ValueError("the ledger stores aware datetimes only (use bot.ledger.utcnow)")
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
    # 32-bit INTEGER, or real deliveries would be refused (see _widen_id_columns).
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
    # jobs count towards its cap (bot.loopbreaker).
    admitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A note a thread gets at most once per window ("reader refusal", "loop breaker")
    # that this job posted or is posting, and when it claimed it (bot.loopbreaker).
    thread_note: str | None = Field(default=None, max_length=32)
    noted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class IssueSlot(SQLModel, table=True):
    """Which job runs on an issue (or pull request) and which one waits for it (bot.slots)."""

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
_TABLES = [
    Delivery.__table__,  # type: ignore[attr-defined]
    Job.__table__,  # type: ignore[attr-defined]
    IssueSlot.__table__,  # type: ignore[attr-defined]
    ThreadLock.__table__,  # type: ignore[attr-defined]
]


@dataclass(frozen=True)
class NewDelivery:
    """A delivery to record; `job` holds the Job columns when the decision makes one."""

    id: str
    event: str
    action: str | None
    decision: DeliveryDecision
    reason: str
    job: Mapping[str, Any] | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class Recorded:
    """What recording a delivery did: a new row (and maybe a job), or nothing (duplicate)."""

    delivery_id: str
    duplicate: bool
    decision: DeliveryDecision
    reason: str
    job_id: int | None = None


def _process_start(pid: int) -> str | None:
    """When a process started (clock ticks since boot), or None if it does not exist.

    With the pid this names one process for good: a pid reused after a restart (pid 1
    in every container) has a different start time. Where /proc is missing the pid alone
    has to do, and "0" stands for the start time.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "0"
    return stat.rsplit(")", 1)[1].split()[19]


def this_runner() -> str:
    """How this process names itself in `Job.runner`: host, pid and start time."""
    return f"{socket.gethostname()}:{os.getpid()}:{_process_start(os.getpid())}"


def runner_is_alive(runner: str | None) -> bool | None:
    """Whether the process named by `Job.runner` still runs; None when it cannot be told.

    Only processes on this host can be checked; for another machine's worker the job's
    lease tells (see `Ledger.take_over`).
    """
    if runner is None:
        return False
    parts = runner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, start = parts
    if host != socket.gethostname():
        return None
    return _process_start(int(pid)) == start


def sqlalchemy_url(url: str) -> str:
    """Map the URLs users write to the drivers Rolecall ships with (psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _prepare_sqlite(engine: Engine) -> None:
    """WAL + synchronous=FULL for durable commits; explicit BEGIN for write transactions.

    pysqlite opens transactions lazily and as DEFERRED: a transaction that reads and then
    writes can fail at once with SQLITE_BUSY when another process committed in between,
    whatever the busy timeout. Writers here begin IMMEDIATE instead, so they queue on the
    write lock and never fail halfway.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("rolecall_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Ledger:
    """The deliveries and jobs tables behind one engine, with the verbs Rolecall uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}
            )
            _prepare_sqlite(self.engine)
        else:
            self.engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
        self._schema_ready = False
        self._writer = _BatchWriter(self.engine)

    def create_schema(self) -> None:
        """Create the tables if they are missing (idempotent, cheap after the first call)."""
        if not self._schema_ready:
            SQLModel.metadata.create_all(self.engine, tables=_TABLES)
            _add_missing_columns(self.engine)
            _widen_id_columns(self.engine)
            self._schema_ready = True

    def close(self) -> None:
        self.engine.dispose()

    def transaction(self) -> AbstractContextManager[Connection]:
        """One write transaction (IMMEDIATE on SQLite), for verbs that read, then write."""
        return self._write()

    @contextmanager
    def thread_transaction(self, repo_full_name: str, number: int) -> Iterator[Connection]:
        """A write transaction holding one thread's lock, for decisions that count its jobs.

        On SQLite an IMMEDIATE transaction already lets one writer in at a time; on
        PostgreSQL the thread's `thread_lock` row is locked, so decisions about one
        thread take turns while other threads go on.
        """
        locks = ThreadLock.__table__  # type: ignore[attr-defined]
        key = {"repo_full_name": repo_full_name, "issue_number": number}
        with self._write() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            conn.execute(dialect.insert(locks).values(**key).on_conflict_do_nothing())
            conn.execute(
                select(locks.c.issue_number)
                .where(locks.c.repo_full_name == repo_full_name, locks.c.issue_number == number)
                .with_for_update()
            )
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            conn = conn.execution_options(rolecall_write=True)
            with conn.begin():
                yield conn

    # --- intake --------------------------------------------------------------------------

    def record_deliveries(self, batch: Sequence[NewDelivery]) -> list[Recorded]:
        """Record a batch in ONE transaction; deliveries already present are duplicates.

        This is the one hot write path (the intake writer calls it for every group of
        deliveries), so it talks to the DBAPI connection directly: the ORM and Core cost
        about 0.4 ms of CPU per batch, which the writer holds while the event loop needs
        it. Values still go through the columns' own SQLAlchemy bind processors.

        Duplicates within this process are found by one SELECT, since there is one
        writer. Another process sharing the database (PostgreSQL) may insert the same
        delivery id between that SELECT and the INSERT: the primary key then refuses it,
        the batch rolls back and is tried again, and the retry sees the row.
        """
        for _retry in range(2):
            try:
                return self._record_once(batch)
            except self._writer.integrity_error:
                continue  # another receiver won a race for a delivery id; the retry sees it
        return self._record_once(batch)

    def _record_once(self, batch: Sequence[NewDelivery]) -> list[Recorded]:
        writer = self._writer
        try:
            raw = self.engine.raw_connection()
        except (OperationalError, InterfaceError) as exc:
            raise LedgerUnavailable(str(exc.orig or exc)) from exc
        try:
            cursor = raw.cursor()
            try:
                if self.is_sqlite:
                    cursor.execute("BEGIN IMMEDIATE")
                recorded = writer.record(cursor, batch)
                raw.commit()
                return recorded
            except writer.unavailable_errors as exc:
                raise LedgerUnavailable(str(exc)) from exc
            finally:
                cursor.close()
        except BaseException:
            with suppress(Exception):
                raw.rollback()
            raise
        finally:
            raw.close()

    # --- what workers and the CLI use ------------------------------------------------------

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        with Session(self.engine) as session:
            return session.get(Delivery, delivery_id)

    def get_job(self, job_id: int) -> Job | None:
        with Session(self.engine) as session:
            return session.get(Job, job_id)

    def update_job(self, job_id: int, **fields: Any) -> Job:
        """Set some columns of one job and return it; unknown column names are refused.

        Moving a job to a finished state stamps `finished_at` unless it is given, so
        every finished job says when it finished.
        """
        _check_job_fields(fields)
        if "id" in fields:
            raise TypeError("a job's id cannot change")
        if "state" in fields and fields["state"] not in UNFINISHED_STATES:
            fields.setdefault("finished_at", utcnow())
        job_table = Job.__table__  # type: ignore[attr-defined]
        with self._write() as conn:
            result = conn.execute(
                update(job_table).where(job_table.c.id == job_id).values(**fields)
            )
            if result.rowcount == 0:
                raise LookupError(f"no job {job_id} in the ledger")
        job = self.get_job(job_id)
        assert job is not None
        return job

    def claim_job(self, job_id: int, runner: str | None = None) -> Job | None:
        """Move a queued job to running for this process; None if it was not queued.

        The queue may hold a job id twice (recovery re-enqueues what the queue may still
        hold); only the claim that wins runs the job, so no job runs twice. The claim
        comes with a lease (LEASE) that the runner must renew while it runs.
        """
        job_table = Job.__table__  # type: ignore[attr-defined]
        now = utcnow()
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(job_table.c.id == job_id, job_table.c.state == "queued")
                .values(
                    state="running",
                    started_at=now,
                    runner=runner or this_runner(),
                    lease_expires_at=now + LEASE,
                    attempts=job_table.c.attempts + 1,
                )
            )
            if result.rowcount == 0:
                return None
        return self.get_job(job_id)

    def renew_lease(self, job_id: int, runner: str | None = None) -> bool:
        """Extend a running job's lease for its runner; False if it is not running for it.

        Conditional on the runner: a worker whose job was taken over (it went silent for
        longer than the lease) cannot take it back by renewing.
        """
        job_table = Job.__table__  # type: ignore[attr-defined]
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(
                    job_table.c.id == job_id,
                    job_table.c.state == "running",
                    job_table.c.runner == (runner or this_runner()),
                )
                .values(lease_expires_at=utcnow() + LEASE)
            )
        return bool(result.rowcount == 1)

    def take_over(self, job: Job, *, outcome: str) -> bool:
        """Queue a running job again when its worker is gone; True if this call did it.

        Gone means: on this host, its process has ended; on another host, it has not
        renewed its lease in time. (A job an older Rolecall runs on another host has no
        lease and is left to that host.) One conditional UPDATE moves it, matching the
        runner that was seen and, for another host, a lease still expired: of two workers
        taking over at once exactly one wins, and a worker that renews in time keeps its
        job. The caller queues the job; it resumes through the usual path.
        """
        if job.id is None or job.state != "running":
            return False
        alive = runner_is_alive(job.runner)
        if alive:
            return False
        job_table = Job.__table__  # type: ignore[attr-defined]
        runner = job_table.c.runner
        conditions = [
            job_table.c.id == job.id,
            job_table.c.state == "running",
            runner.is_(None) if job.runner is None else runner == job.runner,
        ]
        if alive is None:  # another host's worker: only its lease can tell
            conditions.append(job_table.c.lease_expires_at < utcnow())
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(*conditions)
                .values(state="queued", outcome=outcome, runner=None, lease_expires_at=None)
            )
        return bool(result.rowcount == 1)

    def list_jobs(self, *, limit: int = 100, state: JobState | None = None) -> list[Job]:
        """The most recent jobs first."""
        with Session(self.engine) as session:
            query = select(Job).order_by(Job.id.desc()).limit(limit)  # type: ignore[union-attr]
            if state is not None:
                query = query.where(Job.state == state)  # type: ignore[arg-type]
            return list(session.scalars(query).all())

    def jobs_for_issue(
        self, repo_full_name: str, number: int, *, limit: int = 20, admitted_only: bool = False
    ) -> list[Job]:
        """One issue's (or pull request's) jobs, the most recent first.

        `admitted_only`: only jobs admitted to run for someone with write access
        (`Job.admitted_at`), however many requests of others there are.
        """
        with Session(self.engine) as session:
            query = (
                select(Job)
                .where(Job.repo_full_name == repo_full_name, Job.issue_number == number)  # type: ignore[arg-type]
                .order_by(Job.id.desc())  # type: ignore[union-attr]
                .limit(limit)
            )
            if admitted_only:
                query = query.where(Job.admitted_at.is_not(None))  # type: ignore[union-attr]
            return list(session.scalars(query).all())

    def unfinished_jobs(self) -> list[Job]:
        """Jobs still queued or running, oldest first (what a restart must look at)."""
        with Session(self.engine) as session:
            query = (
                select(Job)
                .where(Job.state.in_(UNFINISHED_STATES))  # type: ignore[attr-defined]
                .order_by(Job.id)  # type: ignore[arg-type]
            )
            return list(session.scalars(query).all())

    def count_jobs_by_state(self) -> dict[str, int]:
        with Session(self.engine) as session:
            query = select(Job.state, func.count()).group_by(Job.state)  # type: ignore[call-overload]
            rows = session.execute(query).all()
        return {state: count for state, count in rows}

    def count_deliveries(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Delivery)) or 0

    def ping(self) -> None:
        """Raise if the database cannot be reached (for `rolecall doctor`)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")


class LedgerUnavailable(Exception):
    """The database could not be reached or refused to work; nothing was recorded."""


class _BatchWriter:
    """The SQL of `record_deliveries` for one dialect, with each column's bind processor."""

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        dbapi = dialect.loaded_dbapi
        self.integrity_error: type[Exception] = dbapi.IntegrityError
        self.unavailable_errors: tuple[type[Exception], ...] = (
            dbapi.OperationalError,
            dbapi.InterfaceError,
        )
        # Named parameters in the style each driver accepts (sqlite3 ":x", psycopg "%(x)s").
        colon = dialect.name == "sqlite"
        self._mark: Callable[[str], str] = (
            (lambda name: f":{name}") if colon else (lambda name: f"%({name})s")
        )
        delivery = Delivery.__table__  # type: ignore[attr-defined]
        job = Job.__table__  # type: ignore[attr-defined]
        self._delivery_columns = [c.name for c in delivery.columns]
        self._job_columns = [c.name for c in job.columns if c.name != "id"]
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for column in [*delivery.columns, *job.columns]:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[column.name] = processor
        self._insert_delivery = self._insert("delivery", self._delivery_columns, "")
        self._insert_job = self._insert("job", self._job_columns, " RETURNING id")

    def _insert(self, table: str, columns: list[str], suffix: str) -> str:
        marks = ", ".join(self._mark(name) for name in columns)
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"  # noqa: S608

    def _bind(self, row: Mapping[str, Any], columns: list[str]) -> dict[str, Any]:
        bound = {}
        for name in columns:
            value = row.get(name)
            processor = self._processors.get(name)
            bound[name] = processor(value) if processor is not None and value is not None else value
        return bound

    def record(self, cursor: Any, batch: Sequence[NewDelivery]) -> list[Recorded]:
        ids = list(dict.fromkeys(item.id for item in batch))
        marks = ", ".join(self._mark(f"id{n}") for n in range(len(ids)))
        cursor.execute(
            f"SELECT id FROM delivery WHERE id IN ({marks})",  # noqa: S608
            {f"id{n}": delivery_id for n, delivery_id in enumerate(ids)},
        )
        existing = {row[0] for row in cursor.fetchall()}
        now = utcnow()
        recorded: list[Recorded] = []
        delivery_rows: list[dict[str, Any]] = []
        for item in batch:
            if item.id in existing:
                recorded.append(Recorded(item.id, True, item.decision, item.reason))
                continue
            existing.add(item.id)  # a second copy later in this batch is a duplicate
            job_id = None
            if item.job is not None:
                _check_job_fields(item.job)
                job_row = {
                    **_job_defaults(now),
                    **item.job,
                    "delivery_id": item.id,
                    "state": "queued",
                }
                cursor.execute(self._insert_job, self._bind(job_row, self._job_columns))
                job_id = int(cursor.fetchone()[0])
            delivery_rows.append(
                self._bind(
                    {
                        "id": item.id,
                        "event": item.event,
                        "action": item.action,
                        "received_at": item.received_at or now,
                        "decision": item.decision,
                        "reason": item.reason,
                        "job_id": job_id,
                    },
                    self._delivery_columns,
                )
            )
            recorded.append(Recorded(item.id, False, item.decision, item.reason, job_id))
        if delivery_rows:
            cursor.executemany(self._insert_delivery, delivery_rows)
        return recorded


def _widen_id_columns(engine: Engine) -> None:
    """Make the BIGINT columns that an older Rolecall created as INTEGER BIGINT.

    Only PostgreSQL needs it: SQLite's INTEGER holds 64 bits whatever it is declared as.
    """
    if engine.dialect.name != "postgresql":
        return
    inspector = inspect(engine)
    for table in _TABLES:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            found = present.get(column.name)
            if isinstance(column.type, BigInteger) and not isinstance(found, BigInteger):
                alter = f"ALTER TABLE {table.name} ALTER COLUMN {column.name} TYPE BIGINT"
                with engine.begin() as conn:
                    conn.exec_driver_sql(alter)


def _add_missing_columns(engine: Engine) -> None:
    """Add nullable columns that a ledger created by an older Rolecall lacks.

    `create_all` makes missing tables, never missing columns; without this an upgraded
    Rolecall would fail every query on an existing data dir. Only nullable columns are
    added, which needs no default and no rewrite of existing rows.
    """
    inspector = inspect(engine)
    for table in _TABLES:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or not column.nullable:
                continue
            kind = column.type.compile(engine.dialect)
            alter = f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql(alter)
            except (OperationalError, ProgrammingError):
                # Another process added it first; anything else shows at the first query.
                inspector = inspect(engine)
                if column.name not in {c["name"] for c in inspector.get_columns(table.name)}:
                    raise


def _job_defaults(now: datetime) -> dict[str, Any]:
    """The Job defaults that live in Python: a raw INSERT does not apply the model's."""
    return {
        "kind": "job",
        "is_pull_request": False,
        "decision_json": {},
        "created_at": now,
        "attempts": 0,
    }


def _check_job_fields(fields: Mapping[str, Any]) -> None:
    unknown = set(fields) - JOB_FIELDS
    if unknown:
        raise TypeError(f"Job has no field(s) {', '.join(sorted(unknown))}")


_LEDGERS: dict[str, Ledger] = {}
_LEDGERS_LOCK = threading.Lock()


def open_ledger(settings: Settings) -> Ledger:
    """The ledger for these settings, one engine per database URL per process.

    Workers call this once per job; sharing the engine keeps its connection pool and
    skips schema creation after the first time.
    """
    url = settings.resolved_database_url()
    with _LEDGERS_LOCK:
        ledger = _LEDGERS.get(url)
        if ledger is None:
            ledger = Ledger(url)
            _LEDGERS[url] = ledger
    ledger.create_schema()
    return ledger


def close_ledgers() -> None:
    """Dispose every engine `open_ledger` made (at shutdown, and between tests)."""
    with _LEDGERS_LOCK:
        for ledger in _LEDGERS.values():
            ledger.close()
        _LEDGERS.clear()
