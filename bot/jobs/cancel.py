"""Stopping a running job from anywhere: `/cancel` writes the ledger, the job's worker polls it.

`/cancel` may be handled in another thread of the same `rolecall serve`, or in another
process altogether (`rolecall worker` on another machine sharing the ledger), so the
ledger is the only channel both can see. While the agent runs, a watcher thread reads
the job's row about once a second; when someone has asked, it stops the agent loop
(the executor's cancel event) and kills every command in the sandbox. It keeps killing
on every poll until the loop has ended, so a command that started just after the
first kill does not survive either.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.periodic import Periodic
from bot.store.ledger import Ledger

log = logging.getLogger("rolecall.cancel")

POLL_SECONDS = 1.0


def cancel_requested(ledger: Ledger, job_id: int) -> str | None:
    """Who asked to cancel the job, or None if nobody has."""
    job = ledger.get_job(job_id)
    return job.cancel_requested_by if job is not None else None


class CancelWatcher(Periodic):
    """While entered, calls `stop()` once a second from the first poll that sees a cancel."""

    def __init__(
        self,
        ledger: Ledger,
        job_id: int,
        stop: Callable[[], None],
        *,
        interval: float = POLL_SECONDS,
    ) -> None:
        super().__init__(f"rolecall-cancel-{job_id}", interval)
        self.ledger = ledger
        self.job_id = job_id
        self.stop = stop
        self.requested_by: str | None = None

    def tick(self) -> None:
        who = self.requested_by or cancel_requested(self.ledger, self.job_id)
        if who is not None:
            self.requested_by = who
            self.stop()
