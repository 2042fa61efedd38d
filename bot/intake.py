"""Durable acknowledgement of webhooks at the rate GitHub can send them.

One fsynced commit per delivery caps a receiver at a few thousand deliveries a second
(DESIGN.md, performance notes). Here ONE writer thread takes whatever deliveries are
waiting, records them all in one transaction (delivery and job rows together), commits
once, and only then answers each waiting request. While one commit is on its way to disk
the next batch gathers, so batches grow with the load and no request waits on a timer.

Jobs reach the queue after their commit, from a second thread, so a slow or unavailable
queue never holds up acknowledgements. If the queue loses a job id (or never got it),
`recover` puts it back at the next start: the ledger, not the queue, is the truth.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from bot.ledger import (
    JOB_FIELDS,
    DeliveryDecision,
    Ledger,
    LedgerUnavailable,
    NewDelivery,
    Recorded,
    runner_is_alive,
)
from handlers.decisions import Decision, Ignore, Reply, StartJob

log = logging.getLogger("rolecall.intake")

Enqueue = Callable[[int], None]

MAX_BATCH = 512


class IntakeClosed(RuntimeError):
    """The intake is not accepting deliveries (starting up or shutting down)."""


class IntakeError(RuntimeError):
    """The ledger refused or could not take a delivery; nothing was recorded."""


# --- from a decision to a ledger row -----------------------------------------------------

# The StartJob fields that are also Job columns (the rest stay in decision_json).
_START_JOB_COLUMNS = tuple(f.name for f in fields(StartJob) if f.name in JOB_FIELDS)


def delivery_record(
    delivery_id: str, event: str, payload: Mapping[str, Any], decision: Decision
) -> NewDelivery:
    """The ledger row (and job, if any) for a decision about one delivery.

    A Reply becomes a job of kind "reply" so that the polite answer is posted by a
    worker: the webhook answers fast and never talks to GitHub itself.
    """
    kind: DeliveryDecision
    job: dict[str, Any] | None = None
    if isinstance(decision, StartJob):
        kind = "job"
        job = {name: getattr(decision, name) for name in _START_JOB_COLUMNS}
    elif isinstance(decision, Reply):
        kind = "reply"
        job = {**target_from_payload(payload), "kind": "reply"}
    elif isinstance(decision, Ignore):
        kind = "ignored"
    else:
        raise TypeError(f"not a handlers decision: {decision!r}")
    if job is not None:
        job["decision_json"] = decision.to_dict()
    action = payload.get("action")
    return NewDelivery(
        id=delivery_id,
        event=event,
        action=action if isinstance(action, str) else None,
        decision=kind,
        reason=decision.reason,
        job=job,
    )


def ping_record(delivery_id: str, payload: Mapping[str, Any]) -> NewDelivery:
    zen = payload.get("zen")
    return NewDelivery(
        id=delivery_id,
        event="ping",
        action=None,
        decision="ping",
        reason=zen if isinstance(zen, str) else "ping",
    )


def _get(payload: Mapping[str, Any], *path: str) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def target_from_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Where a job acts, read from the few payload fields that say so.

    Only these fields are read on the request path; full parsing (githubkit, ~1 ms)
    belongs in the worker.
    """
    issue = _get(payload, "issue")
    pull = _get(payload, "pull_request")
    thread = issue if isinstance(issue, Mapping) else pull
    number = _get(thread, "number") if isinstance(thread, Mapping) else None
    installation = _get(payload, "installation", "id")
    comment = _get(payload, "comment", "id")
    return {
        "repo_full_name": _str_or_none(_get(payload, "repository", "full_name")),
        "installation_id": installation if isinstance(installation, int) else None,
        "issue_number": number if isinstance(number, int) else None,
        "is_pull_request": isinstance(pull, Mapping)
        or (isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping)),
        "comment_id": comment if isinstance(comment, int) else None,
        "sender_login": _str_or_none(_get(payload, "sender", "login")),
    }


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


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
            self._settle(batch, [IntakeError(f"could not record the delivery: {exc}")])
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


# --- after a restart ---------------------------------------------------------------------


@dataclass
class Recovery:
    """What `recover` found: jobs queued again, jobs resumed, jobs left to a live runner."""

    requeued: list[int] = field(default_factory=list)
    unqueued: list[int] = field(default_factory=list)  # the queue refused them
    resumed: list[int] = field(default_factory=list)  # interrupted mid-run, queued again
    left_running: list[int] = field(default_factory=list)


INTERRUPTED = "interrupted by a restart"


def recover(ledger: Ledger, enqueue: Enqueue) -> Recovery:
    """Bring every unfinished job back under control after a (re)start.

    Queued jobs are queued again (the queue may or may not still hold them; a job is
    claimed before it runs, so a second copy does nothing). Running jobs whose process
    is gone are queued again to resume: the worker reuses their tracking comment and
    finds their pull request by branch, so nothing is posted twice, and it fails them
    cleanly (saying so on GitHub) once they have been interrupted too often.
    """
    recovery = Recovery()

    def queue_again(job_id: int, into: list[int]) -> None:
        try:
            enqueue(job_id)
        except Exception:
            # The receiver must come up even when the queue is down: the job stays
            # queued in the ledger and the next start tries again.
            log.exception("job %s could not be queued again; it stays queued", job_id)
            recovery.unqueued.append(job_id)
        else:
            into.append(job_id)

    for job in ledger.unfinished_jobs():
        assert job.id is not None
        if job.state == "queued":
            queue_again(job.id, recovery.requeued)
            continue
        alive = runner_is_alive(job.runner)
        if alive is False:
            ledger.update_job(job.id, state="queued", outcome=INTERRUPTED, runner=None)
            queue_again(job.id, recovery.resumed)
        else:
            recovery.left_running.append(job.id)
    if recovery.requeued or recovery.resumed:
        log.info(
            "recovered: %d job(s) queued again, %d interrupted job(s) resumed",
            len(recovery.requeued),
            len(recovery.resumed),
        )
    if recovery.left_running:
        log.info(
            "job(s) %s are running in another live process; left alone",
            ", ".join(map(str, recovery.left_running)),
        )
    return recovery
