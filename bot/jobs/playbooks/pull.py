"""What the pull-request playbooks (fix, review) share: binding the PR as it is now.

Both read the PR live when the job is authorized (a payload says what it was, not
what it is) and take the repository's rules and instructions from the default branch
(never from the PR's head, which its author controls), bound at the same moment.
"""

from __future__ import annotations

from bot.github import PullInfo
from bot.jobs.context import DefaultBranch, Given, JobStopped
from bot.jobs.setup import bind_default_branch


def bind_open_pull(given: Given) -> tuple[PullInfo, DefaultBranch]:
    """The PR as it is now, refused when closed, and the default branch's SHA."""
    number = given.decision.issue_number
    pull = given.repo.pull(number)
    if pull.state != "open":
        raise JobStopped(f"pull request #{number} is {pull.state}, so no work started")
    return pull, bind_default_branch(given.repo)
