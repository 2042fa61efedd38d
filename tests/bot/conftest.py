"""Ledger fixtures the bot tests share: every ledger test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from bot.store.ledger import Ledger

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Ledger]:
    # A directory that does not exist yet: the ledger must create it, as on first start.
    ledger = Ledger(f"sqlite:///{tmp_path / 'data' / 'rolecall.db'}")
    ledger.create_schema()
    yield ledger
    ledger.close()


@pytest.fixture
def postgres_ledger() -> Iterator[Ledger]:
    """A ledger in a schema of its own, dropped afterwards, so tests never see each other."""
    schema = f"rolecall_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    ledger = Ledger(f"{POSTGRES}?options=-csearch_path%3D{schema}")
    ledger.create_schema()
    try:
        yield ledger
    finally:
        ledger.close()
        with psycopg.connect(POSTGRES, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger(request: pytest.FixtureRequest) -> Ledger:
    name = "sqlite_ledger" if request.param == "sqlite" else "postgres_ledger"
    found: Ledger = request.getfixturevalue(name)
    return found
