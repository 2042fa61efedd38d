"""A job's work on its own branch: committed, checked, pushed, and shown as a draft PR.

Shared by a finished run (a draft pull request), a run that stopped early (the same,
marked incomplete, so no work is ever lost) and `/continue` (which resumes on that
branch and makes the PR whole). Everything the agent wrote reaches the commit and the
PR inert (bot.render.inert); the trust gates (bot.jobs.trust) run before any push.
"""

from __future__ import annotations

from agents import workspace
from bot.github import PullRequestRef
from bot.jobs.ci_gate import granted_paths, with_ci_marker
from bot.jobs.context import Given, JobStopped, Services, Work
from bot.jobs.trust import outgoing_refusal
from bot.render import pulls, tracking
from bot.render.inert import Neutralizer
from handlers.protected_paths import granted_changes, granted_note


def commit_work(
    svc: Services, given: Given, work: Work, words: Neutralizer, *, subject: str
) -> str | None:
    """Commit what the worktree holds; what a reviewer must not miss, or None if unchanged.

    `JobStopped` when the commit may not leave (a secret, a protected path): nothing is
    pushed then.
    """
    decision, role = given.decision, work.briefing.role
    worktree, start = work.checkout.worktree, work.checkout.head_sha
    config = work.briefing.loaded.setup.config
    bot = svc.app.bot_login()
    _, left_out = workspace.commit_all(
        worktree,
        with_ci_marker(
            f"{subject}\n\nRequested in #{decision.issue_number} by {decision.sender_login}.",
            config,
        ),
        bot,
        f"{bot}@users.noreply.github.com",
    )
    if not workspace.commits_since(worktree, start):
        return None
    granted = granted_paths(config, role.name)
    refusal = outgoing_refusal(worktree, start, given.redact, role=role.name, granted=granted)
    if refusal is not None:
        raise JobStopped(words.plain(refusal))
    changed = workspace.changed_files(worktree, start)
    return words.markdown(
        "\n\n".join(
            note
            for note in (
                granted_note(granted_changes(changed, granted), role.name),
                pulls.left_out_note(left_out),
            )
            if note
        )
    )


def push_work(given: Given, work: Work) -> str:
    """Push the job's branch (onto the branch as it was found, when it existed already);
    the commit pushed."""
    info, branch = work.target.base.info, work.target.branch
    resumed = work.checkout.head_sha != work.target.base.sha
    pushed = workspace.push(
        work.checkout.worktree,
        info.clone_url,
        given.repo.token(),
        branch,
        default_branch=info.default_branch,
        expected_remote_sha=work.checkout.head_sha if resumed else None,
    )
    return pushed.sha


def show_pull(
    given: Given, work: Work, words: Neutralizer, notice: str, *, stopped: str | None = None
) -> tuple[PullRequestRef, str]:
    """Open the branch's draft PR, or rewrite the one already open for it; and its body.

    `stopped` (Rolecall's own words on why the run ended early) marks the PR
    incomplete in its title and its first lines, with how to continue.
    """
    target, result = work.target, work.run.result
    title = words.plain(pulls.pull_request_title(target.title))
    if stopped is not None:
        notice = "\n\n".join(
            part
            for part in (
                pulls.incomplete_note(words.plain(stopped), given.decision.issue_number),
                notice,
            )
            if part
        )
    body = pulls.pull_request_body(
        issue_number=given.decision.issue_number,
        summary=words.markdown(result.summary),
        commands=[
            pulls.CommandRun(words.plain(c.command), c.exit_code, c.timed_out)
            for c in work.run.commands
        ],
        role=work.briefing.role.name,
        model=str(work.briefing.model),
        spend=tracking.spend_of(result),
        diff_stat=words.plain(workspace.diff_stat(work.checkout.worktree, target.base.sha)),
        job_id=given.job_id,
        notice=notice,
    )
    shown_title = pulls.incomplete_title(title) if stopped is not None else title
    repo, branch = given.repo, target.branch
    existing = repo.find_open_pull(branch)
    if existing is not None:
        repo.update_pull(existing.number, title=shown_title, body=body)
        return existing, body
    opened = repo.open_draft_pull(
        title=shown_title, body=body, head=branch, base=target.base.info.default_branch
    )
    return opened, body
