"""When each phase of a job began: what the dashboard's job page shows as its timeline.

The worker records a phase as it begins it (`record_phase`); a phase ends where the next
one begins, or where the job finished (`Job.finished_at`). A job resumed after a restart
records its phases again, so the timeline shows both runs.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlmodel import Session

from bot.store.connection import LedgerBase
from bot.store.tables import JobPhase, utcnow


class PhaseVerbs(LedgerBase):
    """Recording and reading the phases of jobs."""

    def record_phase(self, job_id: int, phase: str) -> None:
        table = JobPhase.__table__  # type: ignore[attr-defined]
        with self._write() as conn:
            conn.execute(insert(table).values(job_id=job_id, phase=phase, started_at=utcnow()))

    def phases_of(self, job_id: int) -> list[JobPhase]:
        """The job's phases in the order they began."""
        with Session(self.engine) as session:
            query = (
                select(JobPhase)
                .where(JobPhase.job_id == job_id)  # type: ignore[arg-type]
                .order_by(JobPhase.id)  # type: ignore[arg-type]
            )
            return list(session.scalars(query).all())
