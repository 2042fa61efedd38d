"""Durable acknowledgement of webhooks at the rate GitHub can send them.

One fsynced commit per delivery caps a receiver at a few thousand deliveries a second
(DESIGN.md, performance notes). Here ONE writer thread takes whatever deliveries are
waiting, records them all in one transaction (delivery and job rows together), commits
once, and only then answers each waiting request. While one commit is on its way to disk
the next batch gathers, so batches grow with the load and no request waits on a timer.

Jobs reach the queue after their commit, from a second thread, so a slow or unavailable
queue never holds up acknowledgements. If the queue loses a job id (or never got it),
`recover` puts it back at the next start: the ledger, not the queue, is the truth.

Every row is fitted to the ledger's columns before it is queued for the writer
(`fit_to_ledger`), so the database never refuses a delivery for what is in it: a
refusal could only become a 5xx, and GitHub would show a delivery that no redelivery
can fix.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from sqlalchemy import Table

from bot.ledger import (
    JOB_FIELDS,
    Delivery,
    DeliveryDecision,
    Job,
    Ledger,
    LedgerUnavailable,
    NewDelivery,
    Recorded,
)
from handlers.decisions import Decision, Ignore, Reply, StartJob

log = logging.getLogger("rolecall.intake")

Enqueue = Callable[[int], None]

MAX_BATCH = 512


class IntakeClosed(RuntimeError):
    """The intake is not accepting deliveries (starting up or shutting down)."""


class IntakeError(RuntimeError):
    """The ledger refused or could not take a delivery; nothing was recorded."""


class UnrecordableDelivery(IntakeError):
    """The ledger was there but refused this one delivery: retrying cannot help."""


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
    return fit_to_ledger(
        NewDelivery(
            id=delivery_id,
            event=event,
            action=action if isinstance(action, str) else None,
            decision=kind,
            reason=decision.reason,
            job=job,
        )
    )


def ping_record(delivery_id: str, payload: Mapping[str, Any]) -> NewDelivery:
    zen = payload.get("zen")
    return fit_to_ledger(
        NewDelivery(
            id=delivery_id,
            event="ping",
            action=None,
            decision="ping",
            reason=zen if isinstance(zen, str) else "ping",
        )
    )


# --- what the ledger can hold ------------------------------------------------------------

# A reason is for the person asking "why didn't it react?"; past this it is clipped, so a
# payload's megabytes never become a ledger row or a log line.
MAX_REASON_CHARS = 2_000


def _column_lengths(table: Table) -> dict[str, int]:
    """The declared length of each bounded text column (PostgreSQL enforces them)."""
    lengths = {column.name: getattr(column.type, "length", None) for column in table.columns}
    return {name: length for name, length in lengths.items() if isinstance(length, int)}


_DELIVERY_LENGTHS = _column_lengths(Delivery.__table__)  # type: ignore[attr-defined]
_JOB_LENGTHS = _column_lengths(Job.__table__)  # type: ignore[attr-defined]


def fit_to_ledger(record: NewDelivery) -> NewDelivery:
    """`record` as every ledger backend can store it, the decision unchanged where it can be.

    Text from a payload may hold what a column cannot: NUL characters (PostgreSQL text
    refuses them; they become U+FFFD) or more characters than a bounded column declares
    (an `action` GitHub never sends is not stored; a job naming a role or a GitHub name
    longer than any can be is recorded as ignored instead, since it could never run).
    Numbers need no fitting: `bot.webhook_body` admits only 64-bit integers, and the
    ledger's integer columns for GitHub's ids are 64-bit.
    """
    action = _storable(record.action) if record.action is not None else None
    if action is not None and len(action) > _DELIVERY_LENGTHS["action"]:
        action = None
    reason = _storable(record.reason)
    job = None
    if record.job is not None:
        job = {
            name: _storable(value) if isinstance(value, str) else value
            for name, value in record.job.items()
        }
        too_long = _first_too_long(job)
        if too_long is not None:
            name, length = too_long
            return replace(
                record,
                action=action,
                decision="ignored",
                job=None,
                reason=_clipped(
                    f"not queued: its {name.replace('_', ' ')} is {length} characters, more "
                    f"than any can be ({_JOB_LENGTHS[name]}); {reason}"
                ),
            )
    return replace(record, action=action, reason=_clipped(reason), job=job)


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _first_too_long(job: Mapping[str, Any]) -> tuple[str, int] | None:
    for name, limit in _JOB_LENGTHS.items():
        value = job.get(name)
        if isinstance(value, str) and len(value) > limit:
            return name, len(value)
    return None


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
    return {
        "repo_full_name": _str_or_none(_get(payload, "repository", "full_name")),
        "installation_id": _int_or_none(_get(payload, "installation", "id")),
        "issue_number": _int_or_none(number),
        "is_pull_request": isinstance(pull, Mapping)
        or (isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping)),
        "comment_id": _int_or_none(_get(payload, "comment", "id")),
        "sender_login": _str_or_none(_get(payload, "sender", "login")),
    }


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    """An id as GitHub sends it: an integer (never `true`, which Python counts as 1)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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
        # Its worker gone (here, or silent past its lease elsewhere): take it, atomically.
        if ledger.take_over(job, outcome=INTERRUPTED):
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
