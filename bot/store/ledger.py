"""The ledger: every delivery Rolecall acknowledged and every job it made, durably.

The ledger is the source of truth for invariant 7. A delivery row is written in the same
transaction as its job row, before GitHub gets its 202, so an acknowledged webhook is
always either a job or a recorded decision not to act, and the delivery id as primary key
makes a redelivery unable to create a second job. The queue (huey) only carries job ids;
whatever it loses, `bot.store.recovery.recover` puts back from here.

SQLite (the default, one file in the data dir) runs in WAL mode with `synchronous=FULL`,
so a commit is on disk when it returns. PostgreSQL is used when several machines share
the ledger; `postgresql://` URLs are mapped to the psycopg 3 driver. A running job is
leased to its worker (`LEASE`, bot.store.lease), so a job left by a machine that died is taken
over by a live worker. Tables are created and nullable columns added at start-up, so a
ledger written by an earlier Rolecall still opens.

`Ledger` is put together from modules by job: `tables` (the rows), `schema` (engine and
schema upkeep), `connection` (transactions), `deliveries` (the intake's write path),
`job_queries` (reading and updating jobs), `claims` and `runners` (who runs a job),
`phases` (when each phase of a job began) and `dashboard_queries` (what the dashboard
lists). The names callers use are importable from here.
"""

from __future__ import annotations

from bot.settings import Settings
from bot.store.claims import LEASE, ClaimVerbs
from bot.store.dashboard_queries import DashboardVerbs
from bot.store.deliveries import DeliveryVerbs, LedgerUnavailable, NewDelivery, Recorded
from bot.store.phases import PhaseVerbs
from bot.store.runners import runner_is_alive, this_runner
from bot.store.schema import sqlalchemy_url
from bot.store.tables import (
    FINISHED_STATES,
    JOB_FIELDS,
    JOB_STATES,
    UNFINISHED_STATES,
    Delivery,
    DeliveryDecision,
    IssueSlot,
    Job,
    JobKind,
    JobState,
    ThreadLock,
    UTCDateTime,
    utcnow,
)

__all__ = [
    "FINISHED_STATES",
    "JOB_FIELDS",
    "JOB_STATES",
    "LEASE",
    "UNFINISHED_STATES",
    "Delivery",
    "DeliveryDecision",
    "IssueSlot",
    "Job",
    "JobKind",
    "JobState",
    "Ledger",
    "LedgerUnavailable",
    "NewDelivery",
    "Recorded",
    "ThreadLock",
    "UTCDateTime",
    "open_ledger",
    "runner_is_alive",
    "sqlalchemy_url",
    "this_runner",
    "utcnow",
]


class Ledger(DeliveryVerbs, ClaimVerbs, PhaseVerbs, DashboardVerbs):
    """The deliveries and jobs tables behind one engine, with the verbs Rolecall uses."""


def open_ledger(settings: Settings) -> Ledger:
    """A new ledger for these settings, its schema ready; the caller closes it (`close`).

    Each call builds its own engine and connection pool: a process opens one ledger at
    its root and passes it to everything that needs it.
    """
    ledger = Ledger(settings.resolved_database_url())
    ledger.create_schema()
    return ledger
