"""Recording deliveries: the one hot write path of the ledger, and reading them back.

A delivery row is written in the same transaction as its job row, before GitHub gets
its 202, so an acknowledged webhook is always either a job or a recorded decision not to
act, and the delivery id as primary key makes a redelivery unable to create a second
job. The intake (`bot.web.intake`) records deliveries in batches through `DeliveryVerbs`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from bot.store.connection import LedgerBase
from bot.store.tables import (
    Delivery,
    DeliveryDecision,
    Job,
    check_job_fields,
    job_defaults,
    utcnow,
)


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


class LedgerUnavailable(Exception):
    """The database could not be reached or refused to work; nothing was recorded."""


class LedgerBusy(Exception):
    """Another connection holds the write lock right now; nothing was written."""


class DeliveryVerbs(LedgerBase):
    """Record deliveries (and their jobs) in batches; read and count them."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._writer = _BatchWriter(self.engine)

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

    def intake_connection(self) -> IntakeConnection | None:
        """A connection of the intake's own, on SQLite (None elsewhere); see the class."""
        if not self.is_sqlite:
            return None
        return IntakeConnection(self.engine.raw_connection(), self._writer)

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        with Session(self.engine) as session:
            return session.get(Delivery, delivery_id)

    def count_deliveries(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Delivery)) or 0


class IntakeConnection:
    """The intake's own SQLite connection: rows written on one thread, committed on another.

    Writing a batch's rows takes a few tens of microseconds and no fsync, so the intake
    does it on the event loop's thread (`write`), and only the COMMIT, which waits for the
    disk, on a thread of its own (`commit`). In CPython that split matters: every SQLite
    call releases the GIL and takes it back, and a writer thread that does the whole
    transaction fights the event loop for the GIL a dozen times per batch.

    `write` never waits for the write lock (busy timeout 0): when another connection
    holds it, it raises `LedgerBusy` at once and the caller writes the batch on its own
    thread instead (`DeliveryVerbs.record_deliveries`, which waits). A batch is written
    and committed by one caller at a time; the connection is kept until `close`.
    """

    def __init__(self, raw: Any, writer: _BatchWriter) -> None:
        self._raw = raw
        self._writer = writer
        cursor = raw.cursor()
        try:
            cursor.execute("PRAGMA busy_timeout=0")
        finally:
            cursor.close()

    def write(self, batch: Sequence[NewDelivery]) -> list[Recorded]:
        """BEGIN and write `batch`, not committed; `LedgerBusy` when the lock is taken."""
        cursor = self._raw.cursor()
        try:
            try:
                cursor.execute("BEGIN IMMEDIATE")
            except self._writer.unavailable_errors as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise LedgerBusy(str(exc)) from exc
                raise LedgerUnavailable(str(exc)) from exc
            try:
                return self._writer.record(cursor, batch)
            except BaseException:
                self.rollback()
                raise
        finally:
            cursor.close()

    def commit(self) -> None:
        """Make the batch `write` wrote durable (the fsync happens here)."""
        try:
            self._raw.commit()
        except BaseException:
            self.rollback()
            raise

    def rollback(self) -> None:
        with suppress(Exception):
            self._raw.rollback()

    def close(self) -> None:
        # Its busy timeout is not the pool's: it is not handed to anyone else.
        with suppress(Exception):
            self._raw.invalidate()


_DELIVERY_ROW = frozenset({"id", "event", "action", "received_at", "decision", "reason", "job_id"})


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
        if set(self._delivery_columns) != _DELIVERY_ROW:
            # `record` writes each row's values by name, the fastest way the driver takes.
            raise RuntimeError(f"delivery columns {self._delivery_columns}: update record()")
        self._job_columns = [c.name for c in job.columns if c.name != "id"]
        self._processors: dict[str, Callable[[Any], Any]] = {}
        for column in [*delivery.columns, *job.columns]:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[column.name] = processor
        self._insert_delivery = self._insert("delivery", self._delivery_columns, "")
        self._insert_job = self._insert("job", self._job_columns, " RETURNING id")
        # Each table's columns with their bind processors, and the duplicate lookup for
        # each batch size seen: this runs for every batch (on the event loop's thread).
        self._delivery_binds = self._binds(self._delivery_columns)
        self._job_binds = self._binds(self._job_columns)
        # The delivery columns whose values a processor turns into what the driver takes
        # (`received_at`): the batch's shared time is processed once, not once a row.
        self._delivery_processors = [
            (name, processor) for name, processor in self._delivery_binds if processor is not None
        ]
        self._lookups: dict[int, str] = {}
        self._id_names: list[str] = []

    def _insert(self, table: str, columns: list[str], suffix: str) -> str:
        marks = ", ".join(self._mark(name) for name in columns)
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}){suffix}"  # noqa: S608

    def _binds(self, columns: list[str]) -> list[tuple[str, Callable[[Any], Any] | None]]:
        return [(name, self._processors.get(name)) for name in columns]

    @staticmethod
    def _bind(
        row: Mapping[str, Any], binds: list[tuple[str, Callable[[Any], Any] | None]]
    ) -> dict[str, Any]:
        bound = {}
        for name, processor in binds:
            value = row.get(name)
            bound[name] = processor(value) if processor is not None and value is not None else value
        return bound

    def _lookup(self, count: int) -> str:
        """SELECT the delivery ids among `count` given ones."""
        sql = self._lookups.get(count)
        if sql is None:
            marks = ", ".join(self._mark(f"id{n}") for n in range(count))
            sql = f"SELECT id FROM delivery WHERE id IN ({marks})"  # noqa: S608
            self._lookups[count] = sql
            self._id_names.extend(f"id{n}" for n in range(len(self._id_names), count))
        return sql

    def record(self, cursor: Any, batch: Sequence[NewDelivery]) -> list[Recorded]:
        ids = list(dict.fromkeys(item.id for item in batch))
        cursor.execute(self._lookup(len(ids)), dict(zip(self._id_names, ids, strict=False)))
        existing = {row[0] for row in cursor.fetchall()}
        now = utcnow()
        now_bound = {name: processor(now) for name, processor in self._delivery_processors}
        recorded: list[Recorded] = []
        delivery_rows: list[dict[str, Any]] = []
        for item in batch:
            if item.id in existing:
                recorded.append(Recorded(item.id, True, item.decision, item.reason))
                continue
            existing.add(item.id)  # a second copy later in this batch is a duplicate
            job_id = None
            if item.job is not None:
                check_job_fields(item.job)
                job_row = {
                    **job_defaults(now),
                    **item.job,
                    "delivery_id": item.id,
                    "state": "queued",
                }
                cursor.execute(self._insert_job, self._bind(job_row, self._job_binds))
                job_id = int(cursor.fetchone()[0])
            row = {
                "id": item.id,
                "event": item.event,
                "action": item.action,
                "received_at": item.received_at or now,
                "decision": item.decision,
                "reason": item.reason,
                "job_id": job_id,
            }
            for name, processor in self._delivery_processors:
                value = row[name]
                if value is now:
                    row[name] = now_bound[name]
                elif value is not None:
                    row[name] = processor(value)
            delivery_rows.append(row)
            recorded.append(Recorded(item.id, False, item.decision, item.reason, job_id))
        if delivery_rows:
            cursor.executemany(self._insert_delivery, delivery_rows)
        return recorded
