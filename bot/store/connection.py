"""One ledger database: its engine, its schema, and the transactions the verbs run in.

The base of `bot.store.ledger.Ledger`; the verbs (`bot.store.deliveries`,
`bot.store.job_queries`, `bot.store.claims`) build on it. On SQLite a write transaction
begins IMMEDIATE (`bot.store.schema.prepare_sqlite`), so a writer that reads first
queues on the write lock instead of failing halfway.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import create_engine

from bot.store.schema import create_tables, prepare_sqlite, sqlalchemy_url
from bot.store.tables import ThreadLock


class LedgerBase:
    """One database behind one engine: schema, transactions, and a ping for `doctor`."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(
                url, connect_args={"check_same_thread": False, "timeout": 30}
            )
            prepare_sqlite(self.engine)
        else:
            self.engine = create_engine(sqlalchemy_url(url), pool_pre_ping=True)
        self._schema_ready = False

    def create_schema(self) -> None:
        """Create the tables if they are missing (idempotent, cheap after the first call)."""
        if not self._schema_ready:
            create_tables(self.engine)
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

    def ping(self) -> None:
        """Raise if the database cannot be reached (for `rolecall doctor`)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
