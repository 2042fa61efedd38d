"""What a job's commits hold, read from its host-only git dir (never from the worktree)."""

from __future__ import annotations

from pathlib import Path

from agents.workspace.checkout import host_git_dir
from agents.workspace.git import check_sha, run_git

_DIFF = ("diff", "--no-ext-diff", "--no-textconv")  # never an external or textconv program


def _git(worktree: Path, args: list[str]) -> str:
    return run_git(args, git_dir=host_git_dir(worktree))


def head_sha(worktree: Path) -> str:
    """The commit the job's branch points at."""
    return check_sha(_git(worktree, ["rev-parse", "--verify", "HEAD^{commit}"]))


def changed_files(worktree: Path, base_sha: str) -> list[str]:
    """Paths that differ between `base_sha` and the job's branch, renames as two paths."""
    base_sha = check_sha(base_sha)
    out = _git(worktree, [*_DIFF, "--name-only", "-z", "--no-renames", base_sha, "HEAD", "--"])
    return [name for name in out.split("\0") if name]


def diff_stat(worktree: Path, base_sha: str) -> str:
    """`git diff --stat` from `base_sha` to the branch, for the PR body and tracking comment."""
    return _git(worktree, [*_DIFF, "--stat=120", check_sha(base_sha), "HEAD", "--"])


def diff(worktree: Path, base_sha: str) -> str:
    """The patch from `base_sha` to the branch; never through an external diff or textconv."""
    return _git(worktree, [*_DIFF, "--submodule=short", check_sha(base_sha), "HEAD", "--"])


def commits_since(worktree: Path, base_sha: str) -> list[tuple[str, str]]:
    """(sha, subject) of each commit in `base_sha..HEAD`, oldest first."""
    base_sha = check_sha(base_sha)
    out = _git(
        worktree,
        ["log", "--no-show-signature", "--reverse", "--format=%H %s", f"{base_sha}..HEAD", "--"],
    )
    commits = []
    for line in out.splitlines():
        sha, _, subject = line.partition(" ")
        commits.append((sha, subject))
    return commits


def commit_messages(worktree: Path, base_sha: str) -> str:
    """The full messages (and author lines) of `base_sha..HEAD`: they leave with a push too."""
    base_sha = check_sha(base_sha)
    log_format = "--format=%an <%ae>%n%cn <%ce>%n%B"
    return _git(worktree, ["log", "--no-show-signature", log_format, f"{base_sha}..HEAD", "--"])


def file_diff(worktree: Path, base_sha: str, path: str) -> str:
    """The zero-context patch of one path from `base_sha` to the job's branch.

    For telling which lines a commit changed (handlers.touched_lines). No renames: a moved
    file shows as removed, so its threads' lines count as changed. The path is literal
    (GIT_LITERAL_PATHSPECS), never a pattern.
    """
    base_sha = check_sha(base_sha)
    return _git(worktree, [*_DIFF, "-U0", "--no-renames", base_sha, "HEAD", "--", path])
