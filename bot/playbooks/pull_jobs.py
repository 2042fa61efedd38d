"""What the pull-request playbooks (fix, review) share: binding the PR, checking it out.

Both read the PR live when the job is authorized (a payload says what it was, not
what it is), take the repository's rules and instructions from the default branch
(never from the PR's head, which its author controls), and check the head out fresh.
"""

from __future__ import annotations

from agents import workspace
from bot.github import PullInfo
from bot.jobcontext import Context, JobStopped, Services
from bot.playbooks.implement import INSTRUCTION_FILES
from bot.repo_setup import fetch_mirror


def bind_open_pull(ctx: Context) -> PullInfo:
    """The PR as it is now, refused when closed; binds the default branch's SHA too."""
    number = ctx.decision.issue_number
    pull = ctx.repo.pull(number)
    if pull.state != "open":
        raise JobStopped(f"pull request #{number} is {pull.state}, so no work started")
    ctx.pull = pull
    ctx.info = ctx.repo.info()
    ctx.base_sha = ctx.repo.branch_sha(ctx.info.default_branch)
    ctx.title = pull.title
    ctx.pr_url = pull.html_url
    return pull


def fresh_checkout(svc: Services, ctx: Context, sha: str, branch: str, *, existing: bool) -> None:
    """A new worktree for this job at `sha` on local branch `branch` (after the mirror)."""
    assert ctx.mirror is not None
    ctx.worktree = svc.settings.data_dir / "worktrees" / f"job-{ctx.job_id}"
    if ctx.worktree.exists():  # left by an interrupted attempt
        workspace.remove_worktree(ctx.worktree)
    ctx.worktree.parent.mkdir(parents=True, exist_ok=True)
    workspace.create_worktree(
        ctx.mirror,
        ctx.worktree,
        sha,
        branch,
        existing_branch=existing,
        volume=svc.settings.worktree_volume(),
    )


def sync_mirror(svc: Services, ctx: Context) -> None:
    assert ctx.info is not None
    ctx.mirror = fetch_mirror(svc, ctx)


def default_branch_instructions(ctx: Context) -> dict[str, str]:
    """The repository's instruction files as the default branch has them."""
    assert ctx.mirror is not None
    return {
        name: text
        for name in INSTRUCTION_FILES
        if (text := workspace.read_default_branch_file(ctx.mirror, ctx.base_sha, name))
    }
