"""`/ci` on a pull request: let CI run on the head a writer looked at (bot.jobs.ci_gate).

Every commit Rolecall pushes carries `[skip ci]`; this playbook lifts it for one head.
The worker's shared phases do what every command needs (👀 and the tracking comment, the
live write-permission check); then `check_target` does the whole job through GitHub's
Git Data API: a commit with the head's own tree and the head as its parent, the branch
moved to it without force. No checkout, no agent: the job ends there, its tracking
comment rewritten with what was done.
"""

from __future__ import annotations

from typing import NoReturn

from agents.roles.loader import Role
from bot.github import NotFastForward, PullInfo
from bot.jobs import ci_gate
from bot.jobs.context import (
    Checkout,
    Delivery,
    Given,
    JobSkipped,
    JobStopped,
    LoadedSetup,
    Screened,
    Services,
    Target,
    Work,
)
from bot.render import tracking


class CiAnswered(JobSkipped):
    """Ends a `/ci` job that has posted its whole answer (its tracking comment, rewritten).

    A `JobSkipped`, so the worker records the end and posts nothing more over the answer;
    its state is "succeeded", because the work was done.
    """

    def __init__(self, outcome: str) -> None:
        JobStopped.__init__(self, outcome, state="succeeded")


class Ci:
    def screen(self, svc: Services, given: Given) -> Screened:
        """`/ci` on an issue has nothing to run: one reply says where it works."""
        if not given.decision.is_pull_request:
            raise JobStopped(
                ci_gate.not_a_pull_request(given.decision.sender_login), state="refused"
            )
        return Screened()

    def check_target(self, svc: Services, given: Given, screened: Screened) -> Target:
        """Check the branch and its head, add the unmarked empty commit, answer."""
        decision, repo = given.decision, given.repo
        pull = repo.pull(decision.issue_number)
        info = repo.info()
        refusal = ci_gate.target_refusal(
            pull,
            default_branch=info.default_branch,
            rolecall_pushed=_rolecall_pushed(svc, given, pull),
        )
        if refusal is not None:
            raise JobStopped(ci_gate.ci_refusal(refusal), state="refused")
        head = repo.git_commit(pull.head_sha)
        if ci_gate.made_by_job(head.message, given.job_id) and head.parents:
            _answer(given, pull, head.parents[0], head.sha)  # resumed after moving the branch
        refusal = ci_gate.moved_refusal(
            repo.last_push(pull.head_ref), head_sha=head.sha, asked_at=decision.trigger_at
        )
        if refusal is not None:
            raise JobStopped(ci_gate.ci_refusal(refusal), state="refused")
        message = ci_gate.ci_commit_message(
            head_sha=head.sha,
            sender=decision.sender_login,
            number=decision.issue_number,
            job_id=given.job_id,
        )
        commit = repo.create_commit(message=message, tree_sha=head.tree_sha, parents=[head.sha])
        try:
            repo.fast_forward(pull.head_ref, commit, default_branch=info.default_branch)
        except NotFastForward:
            reason = "the branch moved while Rolecall added the commit; look at the new commits "
            raise JobStopped(
                ci_gate.ci_refusal(reason + "and comment `/ci` again"), state="refused"
            ) from None
        _answer(given, pull, head.sha, commit)

    # /ci ends in check_target; the phases below never run for it.

    def prepare(self, svc: Services, given: Given, target: Target) -> Checkout:
        raise RuntimeError("/ci runs no checkout")

    def brief(
        self, given: Given, target: Target, checkout: Checkout, loaded: LoadedSetup, role: Role
    ) -> str:
        raise RuntimeError("/ci runs no agent")

    def deliver(self, svc: Services, given: Given, work: Work) -> Delivery:
        raise RuntimeError("/ci delivers in check_target")

    def keep_partial(
        self, svc: Services, given: Given, work: Work, stop: JobStopped
    ) -> Delivery | None:
        raise RuntimeError("/ci runs no agent")


def _rolecall_pushed(svc: Services, given: Given, pull: PullInfo) -> bool:
    """Whether the activity log shows Rolecall pushing to this same-repository branch."""
    if pull.is_from_fork or pull.head_ref.startswith(ci_gate.BRANCH_PREFIX):
        return False  # refused, or Rolecall's own branch whatever the log says
    return given.repo.last_push(pull.head_ref, actor=svc.app.bot_login()) is not None


def _answer(given: Given, pull: PullInfo, head_sha: str, commit_sha: str) -> NoReturn:
    """Rewrite the tracking comment with what `/ci` did, and end the job."""
    body = ci_gate.ci_reply(
        branch=pull.head_ref, head_sha=head_sha, commit_sha=commit_sha, pull_url=pull.html_url
    )
    text = f"{body}\n\n{tracking.job_marker(given.job_id)}"
    comment_id = given.record.tracking_comment_id
    if comment_id is None:
        given.repo.comment(given.decision.issue_number, text)
    else:
        given.repo.update_comment(comment_id, text)
    raise CiAnswered(f"CI requested: {commit_sha[:12]} on {pull.head_ref}, tree of {head_sha[:12]}")
