"""Claims: a queued job becomes one worker's, under a lease that worker keeps renewing.

A running job is leased to its worker (`LEASE`, renewed by `bot.store.lease`), so a job
left by a machine that died is taken over by a live worker, and a job queued twice runs
once: only the claim that wins runs it.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.store.job_queries import JobVerbs
from bot.store.runners import runner_is_alive, this_runner
from bot.store.tables import Job, utcnow

# How long a running job stays its worker's without a word from it. The worker renews
# the lease every few seconds while the job runs (bot.store.lease); a job whose lease ran out
# was left by a worker that is gone (a machine that died), and a live worker takes it
# over. Long against the renewal interval, so a slow ledger or a busy machine never
# loses a job it is still running.
LEASE = timedelta(seconds=60)


class ClaimVerbs(JobVerbs):
    """Claim a queued job, renew its lease, take over a job whose worker is gone."""

    def claim_job(self, job_id: int, runner: str | None = None) -> Job | None:
        """Move a queued job to running for this process; None if it was not queued.

        The queue may hold a job id twice (recovery re-enqueues what the queue may still
        hold); only the claim that wins runs the job, so no job runs twice. The claim
        comes with a lease (LEASE) that the runner must renew while it runs.
        """
        job_table = Job.__table__  # type: ignore[attr-defined]
        now = utcnow()
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(job_table.c.id == job_id, job_table.c.state == "queued")
                .values(
                    state="running",
                    started_at=now,
                    runner=runner or this_runner(),
                    lease_expires_at=now + LEASE,
                    attempts=job_table.c.attempts + 1,
                )
            )
            if result.rowcount == 0:
                return None
        return self.get_job(job_id)

    def renew_lease(self, job_id: int, runner: str | None = None) -> bool:
        """Extend a running job's lease for its runner; False if it is not running for it.

        Conditional on the runner: a worker whose job was taken over (it went silent for
        longer than the lease) cannot take it back by renewing.
        """
        job_table = Job.__table__  # type: ignore[attr-defined]
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(
                    job_table.c.id == job_id,
                    job_table.c.state == "running",
                    job_table.c.runner == (runner or this_runner()),
                )
                .values(lease_expires_at=utcnow() + LEASE)
            )
        return bool(result.rowcount == 1)

    def take_over(self, job: Job, *, outcome: str) -> bool:
        """Queue a running job again when its worker is gone; True if this call did it.

        Gone means: on this host, its process has ended; on another host, it has not
        renewed its lease in time. (A job an older Rolecall runs on another host has no
        lease and is left to that host.) One conditional UPDATE moves it, matching the
        runner that was seen and, for another host, a lease still expired: of two workers
        taking over at once exactly one wins, and a worker that renews in time keeps its
        job. The caller queues the job; it resumes through the usual path.
        """
        if job.id is None or job.state != "running":
            return False
        alive = runner_is_alive(job.runner)
        if alive:
            return False
        job_table = Job.__table__  # type: ignore[attr-defined]
        runner = job_table.c.runner
        conditions = [
            job_table.c.id == job.id,
            job_table.c.state == "running",
            runner.is_(None) if job.runner is None else runner == job.runner,
        ]
        if alive is None:  # another host's worker: only its lease can tell
            conditions.append(job_table.c.lease_expires_at < utcnow())
        with self._write() as conn:
            result = conn.execute(
                update(job_table)
                .where(*conditions)
                .values(state="queued", outcome=outcome, runner=None, lease_expires_at=None)
            )
        return bool(result.rowcount == 1)
