"""What one running job carries between its phases, and how a phase ends it early.

Shared by the worker (the phases every job has) and the playbooks (what differs by
kind of job: implementing an issue, addressing a review, reviewing a PR).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.brief import ReviewFeedback
from agents.executor import RunResult
from agents.model_ref import ModelRef
from agents.redact import Redactor
from agents.roles import Role
from agents.tools import CommandRecord
from bot.github import DiffFile, GitHubApp, PullInfo, RepoClient, RepoInfo
from bot.ledger import Job, Ledger
from bot.routing import RepoSetup
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


class JobSkipped(JobStopped):
    """Ends a job before anything is posted: the worker looked and found nothing to do.

    A review that only says thanks, or one by somebody who cannot write, is not a request
    for work; answering it would be noise. The ledger records the job as "skipped" with
    the reason, and GitHub sees nothing.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, state="skipped")


class JobParked(JobStopped):
    """Ends this run of a job that must wait for the one running on its issue.

    The job is already back in the ledger as queued (see bot.slots); the job running now
    hands it the issue when it ends. Nothing more is written about it in this run.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, state="queued")


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
    # Pull-request jobs (fix, review): the PR as read when the job was authorized, the head
    # commit the checkout starts from, and what the brief was built from.
    pull: PullInfo | None = None
    head_sha: str = ""
    feedback: ReviewFeedback | None = None
    diff_files: list[DiffFile] = field(default_factory=list)
    # Markdown the tracking comment ends with when the job succeeds (a playbook sets it).
    report: str = ""
    # What a reviewer must not miss about the pushed commit (granted protected paths,
    # what was left out), as inert markdown; set when the commit is made.
    delivery_notice: str = ""
    # The default branch's roles and .github/rolecall.yml (bot.repo_setup), once read.
    setup: RepoSetup | None = None

    @property
    def job_id(self) -> int:
        assert self.job.id is not None
        return self.job.id
