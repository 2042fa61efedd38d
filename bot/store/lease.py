"""Leases: a running job stays its worker's only while that worker keeps saying so.

Workers on several machines share one ledger. A worker that dies with its machine
cannot say it is gone, and from another machine its process cannot be looked up, so a
claimed job carries a lease (`Ledger.claim_job`, `LEASE`). `LeaseKeeper` renews it
every few seconds for as long as the job's task runs, whatever phase it is in (the
queue wraps every job in one, control jobs included). `LeaseSweeper`, in every worker
process, looks every few seconds for running jobs whose worker is gone (its lease ran
out, or its process on this host ended) and takes each over with one conditional
UPDATE (`Ledger.take_over`), so of two live workers only one gets it; the winner
queues it and it resumes like a job interrupted by a restart, reusing its tracking
comment and pull request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from bot.periodic import Periodic
from bot.store.claims import LEASE
from bot.store.ledger import Ledger
from bot.store.runners import this_runner

log = logging.getLogger("rolecall.lease")

# Renewed this often: a dozen chances before the lease runs out.
RENEW_SECONDS = LEASE.total_seconds() / 12
# Looked for abandoned jobs this often (besides once at start-up, in `recover`).
SWEEP_SECONDS = 10.0
TAKEN_OVER = "taken over from a worker that stopped (a restart, or a machine that went away)"


class LeaseKeeper(Periodic):
    """While entered, renews the lease of `job_id` for `runner` every `interval` seconds.

    A renewal that fails (the ledger briefly unreachable) is logged and tried again at
    the next interval; only a silence longer than the lease lets the job go.
    """

    def __init__(
        self,
        ledger: Ledger,
        job_id: int,
        *,
        runner: str | None = None,
        interval: float = RENEW_SECONDS,
    ) -> None:
        super().__init__(f"rolecall-lease-{job_id}", interval)
        self.ledger = ledger
        self.job_id = job_id
        self.runner = runner or this_runner()

    def tick(self) -> None:
        self.ledger.renew_lease(self.job_id, self.runner)


def take_over_abandoned(ledger: Ledger, enqueue: Callable[[int], None]) -> list[int]:
    """Take over every running job whose worker is gone and queue it; the ids taken."""
    taken: list[int] = []
    for job in ledger.unfinished_jobs():
        if job.id is None or not ledger.take_over(job, outcome=TAKEN_OVER):
            continue
        taken.append(job.id)
        try:
            enqueue(job.id)
        except Exception:
            # Queued in the ledger; the next start's `recover` queues it again.
            log.exception("job %s was taken over but could not be queued", job.id)
    if taken:
        log.warning("took over job(s) %s from workers that stopped", ", ".join(map(str, taken)))
    return taken


class LeaseSweeper:
    """A thread that calls `take_over_abandoned` every `interval` seconds until stopped."""

    def __init__(
        self, ledger: Ledger, enqueue: Callable[[int], None], *, interval: float = SWEEP_SECONDS
    ) -> None:
        self.ledger = ledger
        self.enqueue = enqueue
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="rolecall-lease-sweeper", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                take_over_abandoned(self.ledger, self.enqueue)
            except Exception:  # a ledger hiccup must not end the sweeping
                log.exception("looking for jobs left by stopped workers failed")
