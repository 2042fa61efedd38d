"""The gauges every process shares, read from the ledger when `/metrics` is scraped.

Jobs by state, role and kind, and the queue's depth (jobs `queued` in the ledger), are
the same whichever process answers the scrape: the ledger holds them, not a counter in
one process, so they stay right with `rolecall worker`s elsewhere and across restarts.

A job's role is the word its trigger used (`/anything` makes a job), so anyone who can
comment could add label values without end. The `role` label is therefore set only for
jobs admitted to run for someone with write access (`Job.admitted_at`); every other job
counts under `role=""`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import case, func, select
from sqlalchemy.exc import SQLAlchemyError

from bot.store.ledger import Job, Ledger

log = logging.getLogger("rolecall.metrics")

JobCount = tuple[str, str | None, str, int]
"""(state, role or None, kind, jobs)."""


class LedgerGauges(Collector):
    """`rolecall_jobs`, `rolecall_queue_depth` and `rolecall_ledger_up`, read per scrape."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def describe(self) -> Iterable[Metric]:
        """The names this collector serves, for the registry: registering reads no ledger."""
        return [*_families([]), _ledger_up_family()]

    def collect(self) -> Iterable[Metric]:
        try:
            counts = self._count()
        except SQLAlchemyError as exc:
            # A scrape is not the place to fail loudly: the gauge says the ledger is down.
            log.warning("metrics: could not read the ledger: %s", exc)
            return [_ledger_up(False)]
        return [*_families(counts), _ledger_up(True)]

    def _count(self) -> list[JobCount]:
        admitted = Job.admitted_at.is_not(None)  # type: ignore[union-attr]
        role = case((admitted, Job.role), else_=None).label("role")
        query = select(Job.state, role, Job.kind, func.count()).group_by(  # type: ignore[call-overload]
            Job.state, role, Job.kind
        )
        with self._ledger.engine.connect() as conn:
            return [(state, role, kind, count) for state, role, kind, count in conn.execute(query)]


def _families(counts: list[JobCount]) -> Iterator[Metric]:
    jobs = GaugeMetricFamily(
        "rolecall_jobs",
        "Jobs in the ledger (every process's), by state, role (once admitted) and kind",
        labels=["state", "role", "kind"],
    )
    queued = 0
    for state, role, kind, count in counts:
        jobs.add_metric([state, role or "", kind], count)
        if state == "queued":
            queued += count
    yield jobs
    yield GaugeMetricFamily(
        "rolecall_queue_depth", "Jobs waiting to run (queued in the ledger)", value=queued
    )


def _ledger_up_family() -> GaugeMetricFamily:
    return GaugeMetricFamily(
        "rolecall_ledger_up", "1 when the last scrape could read the ledger, else 0"
    )


def _ledger_up(up: bool) -> GaugeMetricFamily:
    family = _ledger_up_family()
    family.add_metric([], 1 if up else 0)
    return family
