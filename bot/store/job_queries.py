"""Reading and updating jobs: what workers, the control commands and the CLI ask of the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from bot.store.connection import LedgerBase
from bot.store.tables import UNFINISHED_STATES, Job, JobState, check_job_fields, utcnow


class JobVerbs(LedgerBase):
    """One job by id, a job's columns set, and the lists of jobs callers look at."""

    def get_job(self, job_id: int) -> Job | None:
        with Session(self.engine) as session:
            return session.get(Job, job_id)

    def update_job(self, job_id: int, **fields: Any) -> Job:
        """Set some columns of one job and return it; unknown column names are refused.

        Moving a job to a finished state stamps `finished_at` unless it is given, so
        every finished job says when it finished.
        """
        check_job_fields(fields)
        if "id" in fields:
            raise TypeError("a job's id cannot change")
        if "state" in fields and fields["state"] not in UNFINISHED_STATES:
            fields.setdefault("finished_at", utcnow())
        job_table = Job.__table__  # type: ignore[attr-defined]
        with self._write() as conn:
            result = conn.execute(
                update(job_table).where(job_table.c.id == job_id).values(**fields)
            )
            if result.rowcount == 0:
                raise LookupError(f"no job {job_id} in the ledger")
        job = self.get_job(job_id)
        assert job is not None
        return job

    def list_jobs(self, *, limit: int = 100, state: JobState | None = None) -> list[Job]:
        """The most recent jobs first."""
        with Session(self.engine) as session:
            query = select(Job).order_by(Job.id.desc()).limit(limit)  # type: ignore[union-attr]
            if state is not None:
                query = query.where(Job.state == state)  # type: ignore[arg-type]
            return list(session.scalars(query).all())

    def jobs_for_issue(
        self, repo_full_name: str, number: int, *, limit: int = 20, admitted_only: bool = False
    ) -> list[Job]:
        """One issue's (or pull request's) jobs, the most recent first.

        `admitted_only`: only jobs admitted to run for someone with write access
        (`Job.admitted_at`), however many requests of others there are.
        """
        with Session(self.engine) as session:
            query = (
                select(Job)
                .where(Job.repo_full_name == repo_full_name, Job.issue_number == number)  # type: ignore[arg-type]
                .order_by(Job.id.desc())  # type: ignore[union-attr]
                .limit(limit)
            )
            if admitted_only:
                query = query.where(Job.admitted_at.is_not(None))  # type: ignore[union-attr]
            return list(session.scalars(query).all())

    def unfinished_jobs(self) -> list[Job]:
        """Jobs still queued or running, oldest first (what a restart must look at)."""
        with Session(self.engine) as session:
            query = (
                select(Job)
                .where(Job.state.in_(UNFINISHED_STATES))  # type: ignore[attr-defined]
                .order_by(Job.id)  # type: ignore[arg-type]
            )
            return list(session.scalars(query).all())

    def count_jobs_by_state(self) -> dict[str, int]:
        with Session(self.engine) as session:
            query = select(Job.state, func.count()).group_by(Job.state)  # type: ignore[call-overload]
            rows = session.execute(query).all()
        return {state: count for state, count in rows}
