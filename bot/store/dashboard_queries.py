"""The jobs the dashboard lists: filtered by who may see them, by repository and by state.

Repository names are compared without case, as GitHub compares them: the ledger holds
the name a webhook carried, the permission lookup the name the API returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session

from bot.store.connection import LedgerBase
from bot.store.tables import Job


@dataclass(frozen=True)
class JobFilter:
    """Which jobs to list: `visible` None means every repository (an operator)."""

    visible: frozenset[str] | None
    repo: str | None = None
    state: str | None = None
    before_id: int | None = None
    limit: int = 100


class DashboardVerbs(LedgerBase):
    """Reading jobs for the dashboard."""

    def dashboard_jobs(self, wanted: JobFilter) -> list[Job]:
        """The most recent matching jobs first, at most `wanted.limit`."""
        if wanted.visible is not None and not wanted.visible:
            return []
        name = func.lower(Job.repo_full_name)
        query = select(Job).order_by(Job.id.desc()).limit(wanted.limit)  # type: ignore[union-attr]
        if wanted.visible is not None:
            query = query.where(name.in_(sorted(repo.lower() for repo in wanted.visible)))
        if wanted.repo:
            query = query.where(name == wanted.repo.lower())
        if wanted.state:
            query = query.where(Job.state == wanted.state)  # type: ignore[arg-type]
        if wanted.before_id is not None:
            query = query.where(Job.id < wanted.before_id)  # type: ignore[operator,arg-type]
        with Session(self.engine) as session:
            return list(session.scalars(query).all())

    def dashboard_repositories(self, visible: frozenset[str] | None) -> list[str]:
        """Repositories that have jobs (for the filter), as the ledger names them."""
        with Session(self.engine) as session:
            query = select(Job.repo_full_name).distinct()  # type: ignore[call-overload]
            names = [name for name in session.scalars(query).all() if name]
        if visible is not None:
            names = [name for name in names if name.lower() in visible]
        return sorted(set(names), key=str.lower)
