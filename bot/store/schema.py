"""The ledger's engine and schema: a driver for each URL, durable SQLite, tables kept current.

SQLite (the default, one file in the data dir) runs in WAL mode with `synchronous=FULL`,
so a commit is on disk when it returns. `postgresql://` URLs are mapped to the psycopg 3
driver. Tables are created and nullable columns added at start-up, so a ledger written
by an earlier Rolecall still opens.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, event, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import SQLModel

from bot.store.tables import TABLES


def sqlalchemy_url(url: str) -> str:
    """Map the URLs users write to the drivers Rolecall ships with (psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def prepare_sqlite(engine: Engine) -> None:
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


def create_tables(engine: Engine) -> None:
    """Create missing tables, add missing nullable columns, widen 32-bit id columns."""
    SQLModel.metadata.create_all(engine, tables=TABLES)
    add_missing_columns(engine)
    widen_id_columns(engine)


def widen_id_columns(engine: Engine) -> None:
    """Make the BIGINT columns that an older Rolecall created as INTEGER BIGINT.

    Only PostgreSQL needs it: SQLite's INTEGER holds 64 bits whatever it is declared as.
    """
    if engine.dialect.name != "postgresql":
        return
    inspector = inspect(engine)
    for table in TABLES:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"]: column["type"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            found = present.get(column.name)
            if isinstance(column.type, BigInteger) and not isinstance(found, BigInteger):
                alter = f"ALTER TABLE {table.name} ALTER COLUMN {column.name} TYPE BIGINT"
                with engine.begin() as conn:
                    conn.exec_driver_sql(alter)


def add_missing_columns(engine: Engine) -> None:
    """Add nullable columns that a ledger created by an older Rolecall lacks.

    `create_all` makes missing tables, never missing columns; without this an upgraded
    Rolecall would fail every query on an existing data dir. Only nullable columns are
    added, which needs no default and no rewrite of existing rows.
    """
    inspector = inspect(engine)
    for table in TABLES:
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
