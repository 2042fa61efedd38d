"""A job's checkout, made the same way for every kind of job.

The mirror (bot.jobs.setup) is fetched, then a fresh worktree is made at the bound
commit on a local branch; a worktree left by an interrupted attempt of the same job is
removed first. The repository's instruction files are read from the default branch at
the bound commit, never from the checkout: a pull request's author controls its head,
not the instructions the agent is given.
"""

from __future__ import annotations

from pathlib import Path

from agents import workspace
from bot.jobs.context import Checkout, Given, Services

INSTRUCTION_FILES = ("AGENTS.md", "CLAUDE.md", ".github/copilot-instructions.md")


def fresh_checkout(
    svc: Services, given: Given, mirror: Path, sha: str, branch: str, *, existing: bool
) -> Checkout:
    """A new worktree for this job at `sha` on local branch `branch`."""
    worktree = worktree_of(svc, given)
    if worktree.exists():  # left by an interrupted attempt
        workspace.remove_worktree(worktree)
    worktree.parent.mkdir(parents=True, exist_ok=True)
    workspace.create_worktree(
        mirror,
        worktree,
        sha,
        branch,
        existing_branch=existing,
        volume=svc.settings.worktree_volume(),
    )
    return Checkout(mirror, worktree, sha)


def worktree_of(svc: Services, given: Given) -> Path:
    """Where this job's worktree lives (one per job, so a resumed job finds its own)."""
    return svc.settings.data_dir / "worktrees" / f"job-{given.job_id}"


def default_branch_instructions(mirror: Path, base_sha: str) -> dict[str, str]:
    """The repository's instruction files as the default branch has them."""
    return {
        name: text
        for name in INSTRUCTION_FILES
        if (text := workspace.read_default_branch_file(mirror, base_sha, name))
    }
