"""After a (re)start: every unfinished job in the ledger brought back under control.

The queue only carries job ids and may lose some; the ledger, not the queue, is the
truth. Both `rolecall serve` and `rolecall worker` run `recover` as they start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.store.ledger import Ledger

log = logging.getLogger("rolecall.intake")

# What puts a job id on the queue (`bot.queue.JobQueue.enqueue`, or a test's stand-in).
Enqueue = Callable[[int], None]


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
