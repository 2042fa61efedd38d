"""The SQLite ledger read with the standard library, read-only: what `rolecall jobs` uses.

`rolecall jobs` must start fast and must never create or change a database: SQLModel and
SQLAlchemy alone take longer to import than the whole command may (bench/startup.py),
and opening a ledger through `bot.store.ledger` creates the file, its directory and its
tables when they are missing. Here `sqlite3` opens the file with `mode=ro`, so a
missing ledger is an error, never an empty new one, and no side file is left behind.

Rows come back as `Job.model_dump(mode="json")` gives them (bot.store.tables): the
columns the table has, with its datetimes, booleans and JSON decoded the same way, so
`rolecall jobs --json` prints the same whichever way the ledger was read
(tests/bot/test_cli.py holds the two to that). PostgreSQL ledgers are read through
`bot.store.ledger` as before.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SQLITE_PREFIX = "sqlite:///"
# How long a read waits for a writer's lock (rolecall serve commits in small groups).
_BUSY_SECONDS = 10


class LedgerFileError(Exception):
    """The file exists but cannot be read as a Rolecall ledger; the message says why."""


def sqlite_file(url: str) -> Path | None:
    """The file a `sqlite:///PATH` ledger URL names (relative to this directory when
    PATH is), or None for another database."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    return Path(url.removeprefix(SQLITE_PREFIX).split("?", 1)[0])


def read_jobs(path: Path, *, limit: int) -> list[dict[str, Any]]:
    """The most recent `limit` jobs in the ledger at `path`, newest first, as JSON values.

    `path` must exist (the caller says where it looked when it does not).
    """
    uri = f"{path.absolute().as_uri()}?{_read_only_params(path)}"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=_BUSY_SECONDS)
    except sqlite3.Error as exc:
        raise LedgerFileError(f"cannot open {path}: {exc}") from None
    try:
        columns = connection.execute("PRAGMA table_info(job)").fetchall()
        if not columns:
            raise LedgerFileError(f"{path} holds no jobs table: it is not a Rolecall ledger")
        kinds = {name: str(kind).upper() for _, name, kind, *_ in columns}
        names = ", ".join(f'"{name}"' for name in kinds)
        rows = connection.execute(
            f"SELECT {names} FROM job ORDER BY id DESC LIMIT ?",  # noqa: S608 (names from the schema)
            (max(0, limit),),
        ).fetchall()
    except sqlite3.Error as exc:
        raise LedgerFileError(f"cannot read {path}: {exc}") from None
    finally:
        connection.close()
    return [
        {
            name: _json_value(value, kind)
            for (name, kind), value in zip(kinds.items(), row, strict=True)
        }
        for row in rows
    ]


def _read_only_params(path: Path) -> str:
    """How to open the ledger without leaving a file behind.

    The ledger runs in WAL mode: a reader opening it makes its `-wal` and `-shm` files
    when they are missing, and a read-only one cannot remove them again. They are
    missing only when no process has the ledger open; then nothing is being written
    (a writer changes the file itself only at a checkpoint, after it has the WAL), and
    the file is read as it is (`immutable=1`: no lock, no side files). Otherwise the
    reader shares the side files the writer made, as any reader does.
    """
    if Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists():
        return "mode=ro"
    return "mode=ro&immutable=1"


def _json_value(value: Any, kind: str) -> Any:
    """One column's value as pydantic's JSON mode gives it for the Job field."""
    if value is None:
        return None
    if kind.startswith(("DATETIME", "TIMESTAMP")):
        return _utc_iso(value)
    if kind.startswith("BOOL"):
        return bool(value)
    if kind.startswith("JSON"):
        return json.loads(value) if isinstance(value, str | bytes) else value
    if kind.startswith(("FLOAT", "REAL", "DOUBLE", "NUMERIC")):
        return float(value)
    return value


def _utc_iso(value: Any) -> Any:
    """SQLite holds the ledger's UTC datetimes without an offset (bot.store.tables.UTCDateTime);
    pydantic writes an aware UTC datetime as ISO 8601 with `Z`."""
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat().replace("+00:00", "Z")
