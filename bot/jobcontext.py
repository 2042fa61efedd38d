"""What one running job carries between its phases, and how a phase ends it early.

Shared by the worker (the phases every job has) and the playbooks (what differs by
kind of job: implementing an issue, addressing a review, reviewing a PR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.executor import RunResult
from agents.model import ModelRef
from agents.redact import Redactor
from agents.roles import Role
from agents.tools import CommandRecord
from bot.github import GitHubApp, RepoClient, RepoInfo
from bot.ledger import Job, Ledger
from bot.settings import Settings
from handlers.decisions import StartJob


class JobStopped(Exception):
    """Ends a job early with a reason a maintainer can act on.

    `state` is the ledger state the job ends in: "failed" for something that went wrong,
    "no_changes" when the agent changed nothing, "refused" when the requester may not
    start work, "cancelled" when someone cancelled it.
    """

    def __init__(self, reason: str, *, state: str = "failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.state = state


@dataclass(frozen=True)
class Services:
    """The long-lived collaborators a job uses, built by the worker (composition root)."""

    settings: Settings
    ledger: Ledger
    app: GitHubApp


@dataclass
class Context:
    """What the phases hand each other while one job runs."""

    job: Job
    decision: StartJob
    repo: RepoClient
    redact: Redactor
    phase: str = "acknowledge"
    info: RepoInfo | None = None
    base_sha: str = ""
    title: str = ""
    branch: str = ""
    mirror: Path | None = None
    worktree: Path | None = None
    role: Role | None = None
    model: ModelRef | None = None
    brief: str = ""
    result: RunResult | None = None
    commands: list[CommandRecord] = field(default_factory=list)
    pr_url: str | None = None
    # What the outcome says when the job succeeds (a playbook sets it).
    success_note: str = ""

    @property
    def job_id(self) -> int:
        assert self.job.id is not None
        return self.job.id
