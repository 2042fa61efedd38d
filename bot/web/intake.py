"""Durable acknowledgement of webhooks at the rate GitHub can send them.

One fsynced commit per delivery caps a receiver at a few thousand deliveries a second
(DESIGN.md, performance notes). Here deliveries are committed in groups: one batch at a
time is written and committed, and every delivery submitted meanwhile waits for the
next one, so batches grow with the load. A request is answered only after the commit
that holds its delivery (and its job, if any) returned.

A batch starts once the event loop has gone round without a new delivery reaching the
intake (everything it had read has been submitted: a lone delivery is committed at
once), or `GROUP_WINDOW` after it was due if every round brings more, as it does under
a steady stream. Waiting that long for more, rather than committing whatever is there
as soon as the disk is free, is what keeps the cost per delivery down under load:
each commit costs the committer thread about 200 µs of CPU, and each time it wakes it
must take the GIL from the event loop's thread, which then spends its own time waking
it (measured as bench/intake_vs_probot.py loads it, 16 connections: 8 deliveries per
commit became 11–13, and the server's CPU per delivery fell by 13–19 %, its p50 latency
with it).

On SQLite the batch's rows are written on the event loop's thread, which takes tens of
microseconds and no fsync, and only the COMMIT, which waits for the disk, runs on the
committer thread (`bot.store.deliveries.IntakeConnection` says why). When another
connection holds the write lock, or anything about the fast way fails, the committer
writes the batch itself, waiting for the lock, splitting a batch a row of which the
ledger refuses (PostgreSQL always takes that way).

Jobs reach the queue after their commit, from a second thread, so a slow or unavailable
queue never holds up acknowledgements. If the queue loses a job id (or never got it),
`recover` (bot.store.recovery) puts it back at the next start: the ledger, not the
queue, is the truth.

Every row is fitted to the ledger's columns before it is submitted
(`bot.web.delivery_rows.fit_to_ledger`).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from bot.store.deliveries import (
    IntakeConnection,
    LedgerBusy,
    LedgerUnavailable,
    NewDelivery,
    Recorded,
)
from bot.store.ledger import Ledger
from bot.store.recovery import Enqueue

log = logging.getLogger("rolecall.intake")

MAX_BATCH = 512
# How long a due batch waits for more deliveries while every round of the event loop
# brings some (see the module's docstring): the most it adds to a delivery's answer.
GROUP_WINDOW = 0.005


class IntakeClosed(RuntimeError):
    """The intake is not accepting deliveries (starting up or shutting down)."""


class IntakeError(RuntimeError):
    """The ledger refused or could not take a delivery; nothing was recorded."""


class UnrecordableDelivery(IntakeError):
    """The ledger was there but refused this one delivery: retrying cannot help."""


# --- the batches ------------------------------------------------------------------------


@dataclass
class _Pending:
    delivery: NewDelivery
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Recorded]


_Answer = tuple["asyncio.Future[Recorded]", "Recorded | Exception"]


@dataclass
class _Work:
    """A batch for the committer: its rows already written (`written`), or not yet."""

    batch: list[_Pending]
    written: list[Recorded] | None = None


@dataclass
class IntakeStats:
    """Counters for the bench and the logs: how well commits are being grouped."""

    commits: int = 0
    deliveries: int = 0
    largest_batch: int = 0


class Intake:
    """Makes deliveries durable, several per commit, one batch at a time."""

    def __init__(
        self,
        ledger: Ledger,
        enqueue: Enqueue,
        *,
        max_batch: int = MAX_BATCH,
        group_window: float = GROUP_WINDOW,
    ) -> None:
        self.ledger = ledger
        self._enqueue = enqueue
        self._max_batch = max_batch
        self._group_window = group_window
        # Guards everything below it. `_idle` is notified when a batch is done.
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: list[_Pending] = []
        self._busy = False  # a batch is being written or committed
        self._flush_due = False  # an event loop watches for when to start the next batch
        self._submitted = 0  # deliveries submitted so far: a round that adds none is quiet
        self._accepting = False
        self._stopping = False
        self._connection: IntakeConnection | None = None
        self._work: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._handoff: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        # What the committer has settled for each event loop, until `_done` sends it.
        self._answers: dict[asyncio.AbstractEventLoop, list[_Answer]] = {}
        self._committer = threading.Thread(target=self._commit_loop, name="rolecall-intake")
        self._enqueuer = threading.Thread(target=self._enqueue_loop, name="rolecall-handoff")
        self.stats = IntakeStats()

    @property
    def running(self) -> bool:
        return self._accepting and self._committer.is_alive()

    def start(self) -> None:
        self.ledger.create_schema()
        self._connection = self.ledger.intake_connection()
        with self._lock:
            self._committer.start()
            self._enqueuer.start()
            self._accepting = True

    def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting, commit and answer what is waiting, hand off the last jobs."""
        with self._lock:
            if not self._accepting:
                return
            self._accepting = False
            self._stopping = True  # from here on only this method starts a batch
            self._idle.wait_for(lambda: not self._busy, timeout)
            rest, self._pending = self._pending, []
        if rest:
            self._work.put(_Work(rest))
        self._work.put(None)
        self._committer.join(timeout)
        self._handoff.put(None)
        self._enqueuer.join(timeout)
        if self._connection is not None:
            self._connection.close()

    async def submit(self, delivery: NewDelivery) -> Recorded:
        """Record one delivery; returns once it is committed (or raises IntakeError)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recorded] = loop.create_future()
        with self._lock:
            if not self._accepting:
                raise IntakeClosed("the intake is not running")
            self._pending.append(_Pending(delivery, loop, future))
            self._submitted += 1
            seen = self._submitted
            schedule, self._flush_due = not self._flush_due, True
        if schedule:
            loop.call_soon(self._flush_when_quiet, loop, seen, loop.time())
        return await future

    # --- on an event loop's thread ------------------------------------------------------

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the next batch with what is waiting, unless one is on its way."""
        with self._lock:
            if self._busy or self._stopping or not self._pending:
                return
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            self._busy = True
        self._work.put(_Work(batch, self._write(batch)))

    def _flush_when_quiet(self, loop: asyncio.AbstractEventLoop, seen: int, since: float) -> None:
        """Start the batch if the round since `seen` brought no delivery, or look again.

        A callback scheduled with `call_soon` runs after the requests the loop had ready
        when it was scheduled, and before those its next read brings: so the count
        changes from one look to the next while requests keep arriving.
        """
        with self._lock:
            due = (
                self._submitted == seen
                or self._stopping
                or len(self._pending) >= self._max_batch
                or loop.time() - since >= self._group_window
            )
            if due:
                self._flush_due = False
            seen = self._submitted
        if due:
            self._flush(loop)
        else:
            loop.call_soon(self._flush_when_quiet, loop, seen, since)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> None:
        """Have `loop` start the next batch when it is due (see `_flush_when_quiet`)."""
        with self._lock:
            schedule = bool(self._pending) and not self._flush_due and not self._stopping
            if schedule:
                self._flush_due = True
            seen = self._submitted
        if schedule:
            loop.call_soon(self._flush_when_quiet, loop, seen, loop.time())

    def _write(self, batch: Sequence[_Pending]) -> list[Recorded] | None:
        """Write the batch's rows on this thread; None leaves it all to the committer."""
        if self._connection is None:
            return None
        try:
            return self._connection.write([p.delivery for p in batch])
        except LedgerBusy:
            return None  # another writer holds the lock: the committer waits for it
        except Exception as exc:
            # Whatever it was, the committer's way retries, splits the batch, and says.
            log.warning("writing %d deliveries on the event loop failed: %s", len(batch), exc)
            return None

    # --- on the committer's thread ------------------------------------------------------

    def _commit_loop(self) -> None:
        while (work := self._work.get()) is not None:
            if work.written is None or not self._commit_written(work.batch, work.written):
                self._commit(work.batch)
            self._done()
            self._answers = {}

    def _commit_written(self, batch: Sequence[_Pending], written: list[Recorded]) -> bool:
        assert self._connection is not None
        try:
            self._connection.commit()
        except Exception:
            log.warning("a commit of %d deliveries failed; writing them again", len(batch))
            return False
        self._committed(batch, written)
        return True

    def _done(self) -> None:
        """The batch is settled: answer it and let the event loops start the next.

        One wake-up per event loop per batch: its answers and the start of its next batch
        travel together.
        """
        with self._lock:
            self._busy = False
            self._idle.notify_all()
            waiting = set() if self._stopping else {p.loop for p in self._pending}
        for loop in waiting | self._answers.keys():
            answers = self._answers.get(loop, [])
            try:
                loop.call_soon_threadsafe(self._answer, loop, answers)
            except RuntimeError:
                # The loop is closed: those requests are gone; what was recorded stands.
                if answers:
                    log.warning("%d answers dropped: their event loop is closed", len(answers))

    def _answer(self, loop: asyncio.AbstractEventLoop, answers: list[_Answer]) -> None:
        """On `loop`: resolve its requests' futures, then watch for its next batch."""
        for future, outcome in answers:
            if future.done():  # the request was cancelled (client went away)
                continue
            if isinstance(outcome, Exception):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)
        self._watch(loop)

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
        self._committed(batch, results)

    def _committed(self, batch: Sequence[_Pending], results: Sequence[Recorded]) -> None:
        self.stats.commits += 1
        self.stats.deliveries += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        self._settle(batch, results)
        job_ids = [r.job_id for r in results if r.job_id is not None]
        if job_ids:
            self._handoff.put(job_ids)

    def _settle(self, batch: Sequence[_Pending], outcomes: Sequence[Recorded | Exception]) -> None:
        """Keep each request's outcome for its event loop (`_done` sends them)."""
        for pending, outcome in zip(batch, outcomes, strict=True):
            self._answers.setdefault(pending.loop, []).append((pending.future, outcome))

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
