"""What a job is given, what each phase produces, and how a phase ends a job early.

A job is *given* its request and its handles (`Given`, frozen). Each phase *returns*
what it produced, as a frozen record: the screen what it read early (`Screened`), the
target check the bound target (`Target`), the preparation the checkout (`Checkout`),
the brief phase the role, model and text (`Briefing`), the agent run its outcome
(`agents.run.AgentRun`), the delivery what it posted (`Delivery`). Only the worker
keeps them, so no module sets another module's fields, and a phase that needs
something takes it as an argument of the type that guarantees it exists.

`Services` are the long-lived collaborators, built once per process by its root
(bot/cli/serve.py) and handed to every job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from agents.brief import EarlierRun
from agents.model_ref import ModelRef
from agents.review_brief import ReviewFeedback
from agents.roles.loader import Role
from agents.run import AgentRun, ModelClients
from agents.text.redact import Redactor
from bot.github import DiffFile, GitHubApp, PullInfo, RepoClient, RepoInfo
from bot.jobs.non_writers import NonWriters
from bot.observe.metrics import Metrics
from bot.settings import Settings
from bot.store.ledger import Job, Ledger
from handlers.decisions import StartJob
from handlers.roles import RepoSetup


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

    The job is already back in the ledger as queued (see bot.store.slots); the job running
    now hands it the issue when it ends. Nothing more is written about it in this run.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, state="queued")


@dataclass(frozen=True)
class Services:
    """The long-lived collaborators every job uses, built once by the process root."""

    settings: Settings
    ledger: Ledger
    app: GitHubApp
    # Puts a job id on the queue (hand-over to a waiting job, /retry).
    enqueue: Callable[[int], None]
    # Who was found unable to write, remembered for a minute (bot.jobs.admission).
    non_writers: NonWriters
    # This process's counters (bot.observe.metrics): durations, tokens, sandbox kills.
    metrics: Metrics = field(default_factory=Metrics)
    # The model API clients jobs share, one per provider and key (agents.model_clients).
    model_clients: ModelClients = field(default_factory=ModelClients)


class JobRecord:
    """The job's ledger row as last written: the one way a job's progress is recorded."""

    def __init__(self, ledger: Ledger, row: Job) -> None:
        self._ledger = ledger
        self.row = row

    @property
    def tracking_comment_id(self) -> int | None:
        return self.row.tracking_comment_id

    def save(self, **fields: object) -> Job:
        assert self.row.id is not None
        self.row = self._ledger.update_job(self.row.id, **fields)
        return self.row


@dataclass(frozen=True)
class Given:
    """What a job was given: its request, and handles on its repository and its row.

    The fields never change. The handles have state of their own: the redactor learns
    the role's secrets when the role is chosen (`Redactor.add`), and the record is the
    row as last saved.
    """

    job_id: int
    decision: StartJob
    repo: RepoClient
    redact: Redactor
    record: JobRecord

    def react_to_trigger(self) -> None:
        """👀 on the comment that asked (an issue comment or an inline review comment)."""
        comment_id = self.decision.comment_id
        if comment_id is None:
            return
        if self.decision.trigger == "review_comment":
            self.repo.react_to_review_comment(comment_id, "eyes")
        else:
            self.repo.react(comment_id, "eyes")


@dataclass(frozen=True)
class DefaultBranch:
    """The repository's default branch, bound to one commit for the whole job."""

    info: RepoInfo
    sha: str


@dataclass(frozen=True)
class LoadedSetup:
    """The default branch's roles and config, read from the repository's mirror."""

    base: DefaultBranch
    mirror: Path
    setup: RepoSetup


@dataclass(frozen=True)
class Screened:
    """What a playbook's screen read before anything was posted, for later phases."""

    loaded: LoadedSetup | None = None
    role: Role | None = None  # routed before acknowledging (a role command or label)
    feedback: ReviewFeedback | None = None


@dataclass(frozen=True)
class Resumed:
    """The earlier run a `/continue` resumes: its job, its issue, why it stopped."""

    job_id: int
    issue_number: int
    earlier: EarlierRun


@dataclass(frozen=True)
class Target:
    """What the job works on, bound when it was authorized."""

    base: DefaultBranch
    title: str
    branch: str
    # The role that runs: the request's, or (for a review's fixes) the PR opener's.
    role_name: str
    pull: PullInfo | None = None
    feedback: ReviewFeedback | None = None
    # What the screen already read (the mirror, the roles), reused rather than re-read.
    screened: Screened = field(default_factory=Screened)
    # A review's diff as GitHub shows it: what its inline comments can anchor to.
    diff_files: tuple[DiffFile, ...] = ()
    # `/continue`: the earlier run whose branch this job resumes.
    resumes: Resumed | None = None

    @property
    def pr_url(self) -> str | None:
        return self.pull.html_url if self.pull is not None else None


@dataclass(frozen=True)
class Checkout:
    """The job's worktree, the mirror it borrows from, and the commit the work starts at."""

    mirror: Path
    worktree: Path
    head_sha: str


@dataclass(frozen=True)
class Briefing:
    """Who runs, on which model, told what."""

    loaded: LoadedSetup
    role: Role
    model: ModelRef
    text: str


@dataclass(frozen=True)
class Work:
    """Everything a delivery needs, all of it there."""

    target: Target
    checkout: Checkout
    briefing: Briefing
    run: AgentRun


@dataclass(frozen=True)
class Delivery:
    """What a delivery posted: the PR it concerns, the outcome's words, the report."""

    pr_url: str | None = None
    success_note: str = ""
    # Markdown the tracking comment ends with.
    report: str = ""
    # The commit the delivery pushed, and what its check run says (bot.jobs.checks).
    pushed_sha: str | None = None
    check_summary: str = ""
