"""The CI gate: Rolecall's pushes start no CI until someone with write access asks.

CI runs the code it is given with the repository's secrets, and an agent's push can hold
anything a CI job executes: a Makefile target, a test, a `conftest.py`, a script a
workflow calls. So, as the Copilot coding agent waits for "Approve and run workflows",
every commit Rolecall pushes carries GitHub's `[skip ci]` marker (`with_ci_marker`;
Actions skips `push` and `pull_request` runs whose head commit says so), and `/ci` on the
pull request by a writer adds an empty commit without the marker, with the very tree of
the head they looked at, so CI runs on exactly that code (bot.jobs.playbooks.ci).

A repository whose CI holds no secrets can opt out with `ci: {run_on_push: true}` in
`.github/rolecall.yml`; the marker is then left off. Everything here is pure.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.github import BranchPush, PullInfo
from handlers.config import RepoConfig
from handlers.protected_paths import code

SKIP_MARKER = "[skip ci]"
BRANCH_PREFIX = "rolecall/"
# What GitHub Actions reads as "skip this run": the bracketed words anywhere in the
# message, or a `skip-checks: true` trailer after two blank lines.
_SKIPS = re.compile(r"\[(?:skip ci|ci skip|no ci|skip actions|actions skip)\]", re.IGNORECASE)
_SKIP_TRAILER = re.compile(r"\n\n\nskip-checks: ?true\s*$", re.IGNORECASE)
_JOB_TRAILER = "Rolecall-Job: {job_id}"


def ci_marker(config: RepoConfig | None) -> str:
    """The marker for Rolecall's commit messages; "" when the repository opted out.

    No config (not read yet, or unreadable) means the marker: the gate fails closed.
    """
    if config is not None and config.ci.run_on_push:
        return ""
    return SKIP_MARKER


def granted_paths(config: RepoConfig | None, role: str) -> tuple[str, ...]:
    """The protected-path patterns `role` is granted (`roles.<role>.may_change`); none
    without a config. For `handlers.protected_paths.protected_changes`."""
    return config.role_settings(role).may_change if config is not None else ()


def with_ci_marker(message: str, config: RepoConfig | None) -> str:
    """`message` with the marker at the end of its subject line (once), unless opted out.

    The subject line is where every CI that honours `[skip ci]` looks.
    """
    marker = ci_marker(config)
    if not marker or has_skip_marker(message):
        return message
    subject, newline, rest = message.partition("\n")
    subject = f"{subject.rstrip()} {marker}" if subject.strip() else marker
    return f"{subject}{newline}{rest}"


def has_skip_marker(message: str) -> bool:
    """Whether GitHub Actions would skip push and pull_request runs for this head commit."""
    return bool(_SKIPS.search(message) or _SKIP_TRAILER.search(message))


def ci_commit_message(*, head_sha: str, sender: str, number: int, job_id: int) -> str:
    """The empty commit's message: no skip marker, no mention, and the job that made it."""
    return (
        f"ci: run CI on {head_sha[:12]}\n\n"
        f"Asked for with /ci by {sender} in #{number}. This commit changes no files: it "
        f"has the tree of {head_sha}, so CI runs on exactly that code.\n\n"
        + _JOB_TRAILER.format(job_id=job_id)
    )


def made_by_job(message: str, job_id: int) -> bool:
    """Whether a commit is the one job `job_id` made (a resumed `/ci` finds its own work)."""
    return message.rstrip().endswith(_JOB_TRAILER.format(job_id=job_id))


def not_a_pull_request(sender: str) -> str:
    return (
        f"@{sender} `/ci` works on pull requests: comment it on the pull request whose "
        "checks you want to run."
    )


def target_refusal(pull: PullInfo, *, default_branch: str, rolecall_pushed: bool) -> str | None:
    """Why `/ci` must not add a commit to this pull request's branch, or None.

    Only an open same-repository PR, never on the default branch, whose branch is
    Rolecall's own (`rolecall/…`) or one Rolecall has pushed to (`rolecall_pushed`, from
    the activity log): elsewhere Rolecall put no marker, so there is nothing to lift.
    """
    branch = code(pull.head_ref)
    if pull.state != "open":
        return f"pull request #{pull.number} is {pull.state}, so Rolecall added no commit"
    if pull.is_from_fork:
        return (
            f"pull request #{pull.number} comes from a fork: Rolecall cannot push there, and "
            "never runs a fork's code on its own say-so"
        )
    if pull.head_ref.casefold() == default_branch.casefold():
        return f"{branch} is the default branch, which Rolecall never pushes to"
    if not pull.head_ref.startswith(BRANCH_PREFIX) and not rolecall_pushed:
        return (
            f"Rolecall has not pushed to {branch}, so no commit there carries its "
            f"`{SKIP_MARKER}` and CI runs on them as usual; `/ci` only lifts Rolecall's marker"
        )
    return None


def moved_refusal(last: BranchPush | None, *, head_sha: str, asked_at: datetime) -> str | None:
    """Why the head must not get CI, or None: it must be what existed when `/ci` was asked.

    `last` is the branch's newest update in the activity log. It must have produced the
    head Rolecall read, and before the command (GitHub's clock has whole seconds, so a
    push in the command's second counts as after it). Anything else fails closed.
    """
    if last is None:
        return (
            "Rolecall cannot tell when the pull request's head was pushed, so it cannot tell "
            "whether it is the code you looked at; nothing was done"
        )
    if last.after != head_sha:
        return (
            f"the branch moved while Rolecall looked at it (now {last.after[:12]}); look at "
            "the new commits and comment `/ci` again"
        )
    if last.at >= asked_at:
        who = f" by @{last.actor}" if last.actor else ""
        return (
            f"the head {head_sha[:12]} was pushed{who} after `/ci` was asked (or in the same "
            "second), so it may not be the code you looked at; look at it and comment "
            "`/ci` again"
        )
    return None


def ci_reply(*, branch: str, head_sha: str, commit_sha: str, pull_url: str) -> str:
    """What the tracking comment says once the commit is on the branch."""
    return (
        f"✅ **CI requested.** Rolecall added the empty commit [`{commit_sha[:12]}`]"
        f"({pull_url}/commits/{commit_sha}) to {code(branch)}: the same files as "
        f"`{head_sha[:12]}`, the head when you asked, and no `{SKIP_MARKER}` marker, so the "
        "repository's workflows now run on exactly that code.\n\n"
        f"Rolecall's own pushes carry `{SKIP_MARKER}`, so CI runs on them only when someone "
        "with write access comments `/ci`."
    )


def ci_refusal(reason: str) -> str:
    """The tracking comment when `/ci` adds no commit, with the reason."""
    return f"ℹ️ **Rolecall added no commit for `/ci`:** {reason}."
