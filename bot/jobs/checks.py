"""A job's check run: "Rolecall / <role>" on the commit it works on or pushed.

Check runs are extra information beside the tracking comment and the PR body: a run is
`in_progress` while a job works on a pull request and `completed` when it ends, with
`success`, `neutral` (stopped early; the summary says why) or `failure`. Nothing here may
fail a job: a check run that cannot be created or updated (a missing permission, GitHub
down) is logged and the job goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal, TypeVar

from githubkit.exception import RequestFailed

from bot.github import RepoClient
from bot.github.errors import error_message

log = logging.getLogger("rolecall.checks")

JobConclusion = Literal["success", "neutral", "failure"]
WORKING_TITLE = "Working on it"
STOPPED_TITLE = "Stopped early"
SUPERSEDED_TITLE = "Continued on a newer commit"

T = TypeVar("T")


def check_name(role: str) -> str:
    """The check run's name for a role, e.g. "Rolecall / implementer"."""
    return f"Rolecall / {role}"


def _why(exc: Exception) -> str:
    """A log line's worth: GitHub's status and message, or the kind of failure."""
    if isinstance(exc, RequestFailed):
        return error_message(exc)
    return type(exc).__name__


class JobCheck:
    """One job's check run, created by `start` or `completed`; every call is best effort.

    `run_id` is None when GitHub refused to create the run; `complete` then tries once
    more with an already-completed run, so the outcome still shows when it can.
    """

    def __init__(
        self,
        repo: RepoClient,
        name: str,
        head_sha: str,
        job_id: int,
        run_id: int | None,
        details_url: str | None = None,
    ) -> None:
        self._repo = repo
        self.name = name
        self.head_sha = head_sha
        self.job_id = job_id
        self.run_id = run_id
        self.details_url = details_url

    # -- making one ---------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        repo: RepoClient,
        head_sha: str,
        role: str,
        job_id: int,
        *,
        details_url: str | None = None,
    ) -> JobCheck:
        """An `in_progress` run on `head_sha` (the PR's head the job works on)."""
        check = cls(repo, check_name(role), head_sha, job_id, None, details_url)
        summary = (
            f"Rolecall's `{role}` role is working on this pull request (job {job_id}). "
            "The tracking comment shows its progress; this check completes when it ends."
        )
        check.run_id = check._create(head_sha, "in_progress", None, WORKING_TITLE, summary)
        return check

    @classmethod
    def completed(
        cls,
        repo: RepoClient,
        head_sha: str,
        role: str,
        job_id: int,
        *,
        conclusion: JobConclusion,
        title: str,
        summary: str,
        details_url: str | None = None,
    ) -> JobCheck:
        """An already-completed run on a commit Rolecall just pushed (e.g. a new PR's head)."""
        check = cls(repo, check_name(role), head_sha, job_id, None, details_url)
        check.run_id = check._create(head_sha, "completed", conclusion, title, summary)
        return check

    # -- while it runs and when it ends --------------------------------------------------

    def progress(self, title: str, summary: str) -> None:
        """New text for the running check (it stays `in_progress`)."""
        run_id = self.run_id
        if run_id is None:
            return
        self._safely(
            "update",
            lambda: self._repo.update_check_run(run_id, title=title, summary=summary),
        )

    def complete(
        self,
        conclusion: JobConclusion,
        title: str,
        summary: str,
        *,
        head_sha: str | None = None,
    ) -> None:
        """Complete the run with `conclusion`, its title and summary (the PR body's text).

        `head_sha`: the commit the job pushed, when it is not the one the run is on. The
        run on the old commit then ends `neutral`, pointing at the new one, and the
        outcome is a completed run on the new commit, where the PR shows it.
        """
        if head_sha is not None and head_sha != self.head_sha:
            self._supersede(head_sha)
        run_id = self.run_id
        if run_id is None:
            self.run_id = self._create(self.head_sha, "completed", conclusion, title, summary)
            return
        self._safely(
            "complete",
            lambda: self._repo.update_check_run(
                run_id, conclusion=conclusion, title=title, summary=summary
            ),
        )

    def stopped(self, reason: str, summary: str, *, head_sha: str | None = None) -> None:
        """Complete as `neutral`: the job stopped early, and the summary starts with why."""
        text = f"**Stopped early:** {reason}"
        if summary.strip():
            text += f"\n\n{summary}"
        self.complete("neutral", STOPPED_TITLE, text, head_sha=head_sha)

    # -- GitHub, best effort -------------------------------------------------------------

    def _supersede(self, new_sha: str) -> None:
        old_id = self.run_id
        if old_id is not None:
            summary = (
                f"Rolecall pushed {new_sha[:12]} on top of this commit; "
                "the outcome is in the check run on that commit."
            )
            self._safely(
                "complete",
                lambda: self._repo.update_check_run(
                    old_id, conclusion="neutral", title=SUPERSEDED_TITLE, summary=summary
                ),
            )
        self.head_sha, self.run_id = new_sha, None

    def _create(
        self,
        head_sha: str,
        status: Literal["in_progress", "completed"],
        conclusion: JobConclusion | None,
        title: str,
        summary: str,
    ) -> int | None:
        return self._safely(
            "create",
            lambda: self._repo.create_check_run(
                self.name,
                head_sha,
                status=status,
                conclusion=conclusion,
                title=title,
                summary=summary,
                details_url=self.details_url,
                external_id=str(self.job_id),
            ),
        )

    def _safely(self, verb: str, call: Callable[[], T]) -> T | None:
        """`call()`, or None when it failed: a check run never fails the job."""
        try:
            return call()
        except Exception as exc:
            log.warning(
                "job %s: could not %s check run %r on %s (%s); the job goes on",
                self.job_id,
                verb,
                self.name,
                self.head_sha[:12],
                _why(exc),
            )
            return None


class JobChecks:
    """A job's check runs from start to end: one running while it works on a pull
    request, and its outcome on every commit it pushed (`success`, or `neutral` when it
    stopped early). Each end is reported once."""

    def __init__(self, repo: RepoClient, job_id: int) -> None:
        self._repo = repo
        self.job_id = job_id
        self._running: JobCheck | None = None
        self._ended = False

    def working(self, head_sha: str, role: str) -> None:
        """The job works on a pull request whose head is `head_sha`: show it running."""
        self._running = JobCheck.start(self._repo, head_sha, role, self.job_id)

    def ended(
        self,
        conclusion: JobConclusion,
        title: str,
        summary: str,
        *,
        role: str,
        pushed_sha: str | None,
    ) -> None:
        """The job's outcome, on the commit it pushed (or the running check's commit)."""
        if self._ended:
            return
        self._ended = True
        if self._running is not None:
            self._running.complete(conclusion, title, summary, head_sha=pushed_sha)
        elif pushed_sha is not None:
            JobCheck.completed(
                self._repo,
                pushed_sha,
                role,
                self.job_id,
                conclusion=conclusion,
                title=title,
                summary=summary,
            )

    def stopped(self, reason: str) -> None:
        """The job stopped without pushing: a running check ends `neutral`, saying why."""
        if self._ended or self._running is None:
            return
        self._ended = True
        self._running.stopped(reason, "")
