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

    def get_delivery(self, delivery_id: str) -> Delivery | None:
        with Session(self.engine) as session:
            return session.get(Delivery, delivery_id)

    def count_deliveries(self) -> int:
        with Session(self.engine) as session:
            return session.scalar(select(func.count()).select_from(Delivery)) or 0


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
                check_job_fields(item.job)
                job_row = {
                    **job_defaults(now),
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
