"""Durable acknowledgement of webhooks at the rate GitHub can send them.

One fsynced commit per delivery caps a receiver at a few thousand deliveries a second
(DESIGN.md, performance notes). Here ONE writer thread takes whatever deliveries are
waiting, records them all in one transaction (delivery and job rows together), commits
once, and only then answers each waiting request. While one commit is on its way to disk
the next batch gathers, so batches grow with the load and no request waits on a timer.

Jobs reach the queue after their commit, from a second thread, so a slow or unavailable
queue never holds up acknowledgements. If the queue loses a job id (or never got it),
`recover` (bot.store.recovery) puts it back at the next start: the ledger, not the
queue, is the truth.

Every row is fitted to the ledger's columns before it is queued for the writer
(`bot.web.delivery_rows.fit_to_ledger`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.store.deliveries import LedgerUnavailable, NewDelivery, Recorded
from bot.store.ledger import Ledger
from bot.store.recovery import Enqueue

log = logging.getLogger("rolecall.intake")

MAX_BATCH = 512


class IntakeClosed(RuntimeError):
    """The intake is not accepting deliveries (starting up or shutting down)."""


class IntakeError(RuntimeError):
    """The ledger refused or could not take a delivery; nothing was recorded."""


class UnrecordableDelivery(IntakeError):
    """The ledger was there but refused this one delivery: retrying cannot help."""


# --- the writer --------------------------------------------------------------------------


@dataclass
class _Pending:
    delivery: NewDelivery
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Recorded]


@dataclass
class IntakeStats:
    """Counters for the bench and the logs: how well commits are being grouped."""

    commits: int = 0
    deliveries: int = 0
    largest_batch: int = 0


class Intake:
    """The single writer that makes deliveries durable, several per commit."""

    def __init__(self, ledger: Ledger, enqueue: Enqueue, *, max_batch: int = MAX_BATCH) -> None:
        self.ledger = ledger
        self._enqueue = enqueue
        self._max_batch = max_batch
        self._inbox: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._handoff: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._accepting = False
        self._writer = threading.Thread(target=self._write_loop, name="rolecall-intake")
        self._enqueuer = threading.Thread(target=self._enqueue_loop, name="rolecall-handoff")
        self.stats = IntakeStats()

    @property
    def running(self) -> bool:
        return self._accepting and self._writer.is_alive()

    def start(self) -> None:
        self.ledger.create_schema()
        with self._lock:
            self._writer.start()
            self._enqueuer.start()
            self._accepting = True

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting, commit and answer what is waiting, hand off the last jobs."""
        with self._lock:
            if not self._accepting:
                return
            self._accepting = False
            self._inbox.put(None)
        self._writer.join(timeout)
        self._handoff.put(None)
        self._enqueuer.join(timeout)

    async def submit(self, delivery: NewDelivery) -> Recorded:
        """Record one delivery; returns once it is committed (or raises IntakeError)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        with self._lock:
            if not self._accepting:
                raise IntakeClosed("the intake is not running")
            self._inbox.put(_Pending(delivery, loop, future))
        return await future

    def _write_loop(self) -> None:
        stopping = False
        while not stopping:
            first = self._inbox.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: Sequence[_Pending]) -> None:
        try:
            results = self.ledger.record_deliveries([p.delivery for p in batch])
        except LedgerUnavailable as exc:
            # The database is unreachable: every delivery in the batch gets a 503 and
            # GitHub shows them as failed, to be redelivered.
            log.error("ledger unavailable, %d deliveries refused: %s", len(batch), exc)
            self._settle(batch, [IntakeError(f"ledger unavailable: {exc}")] * len(batch))
            return
        except Exception as exc:
            if len(batch) > 1:
                # One bad row must not fail its neighbours: commit them one by one.
                for pending in batch:
                    self._commit([pending])
                return
            log.exception("delivery %s could not be recorded", batch[0].delivery.id)
            refused = UnrecordableDelivery(f"{exc.__class__.__name__}: {exc}")
            self._settle(batch, [refused])
            return
        self.stats.commits += 1
        self.stats.deliveries += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        self._settle(batch, results)
        job_ids = [r.job_id for r in results if r.job_id is not None]
        if job_ids:
            self._handoff.put(job_ids)

    @staticmethod
    def _settle(batch: Sequence[_Pending], outcomes: Sequence[Recorded | Exception]) -> None:
        # One wake-up per event loop per batch rather than one per request.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Recorded], Any]]]
        by_loop = {}
        for pending, outcome in zip(batch, outcomes, strict=True):
            by_loop.setdefault(pending.loop, []).append((pending.future, outcome))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, items)
            except RuntimeError:
                # The loop is closed: those requests are gone; what was recorded stands.
                log.warning("%d answers dropped: their event loop is closed", len(items))

    def _enqueue_loop(self) -> None:
        while (job_ids := self._handoff.get()) is not None:
            for job_id in job_ids:
                self._enqueue_one(job_id)

    def _enqueue_one(self, job_id: int) -> None:
        try:
            self._enqueue(job_id)
        except Exception:
            log.exception(
                "job %s is recorded but could not be queued; it stays queued in the "
                "ledger and is queued again at the next start",
                job_id,
            )


def _resolve(items: list[tuple[asyncio.Future[Recorded], Recorded | Exception]]) -> None:
    for future, outcome in items:
        if future.done():  # the request was cancelled (client went away)
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
