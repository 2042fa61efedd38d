"""Pushing a job's branch: our branches or the named PR branch, never by force (invariant 5).

A rejected push is replayed once onto what was pushed meanwhile, in the host-only git
dir alone (`merge-tree --write-tree`, no work tree), and retried with a lease on
exactly the fetched commit, so nobody else's commit can be lost.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agents.workspace.checkout import host_git_dir
from agents.workspace.git import (
    NETWORK_TIMEOUT,
    GitError,
    WorkspaceError,
    check_branch,
    check_sha,
    check_url,
    run_git,
)
from agents.workspace.history import head_sha
from agents.workspace.mirror import FETCH

_NON_FAST_FORWARD = ("(fetch first)", "(non-fast-forward)")


class PushRejected(WorkspaceError):
    """The remote would not take our commits even after one replay onto its branch."""


@dataclass(frozen=True)
class PushResult:
    """What the remote branch holds after a successful `push`."""

    branch: str
    sha: str
    created: bool  # the branch did not exist on the remote before
    rebased: bool  # someone pushed meanwhile; our commits were replayed on top of theirs


def _check_push_target(branch: str, default_branch: str, pr_branch: str | None) -> None:
    """Invariant 5: our own branches, or the one PR branch the caller names; never default."""
    # GitHub treats branch names that differ only in case as one; so do we here.
    if branch.casefold() == default_branch.casefold():
        raise WorkspaceError(f"refusing to push to the default branch {branch!r}")
    if not branch.startswith("rolecall/") and branch != pr_branch:
        raise WorkspaceError(
            f"refusing to push to {branch!r}: Rolecall pushes only to rolecall/… branches "
            "or to the branch of the pull request it was asked to work on"
        )


def _raise_unless_behind(err: GitError, branch: str) -> None:
    """Return if the push failed only because the remote branch has commits we lack."""
    refused = [line for line in err.stdout.splitlines() if line.startswith("!")]
    if any(reason in line for line in refused for reason in _NON_FAST_FORWARD):
        return
    if refused:
        reasons = "; ".join(line.split("\t")[-1] for line in refused)
        raise PushRejected(f"the remote refused the push to {branch!r}: {reasons}") from err
    raise err


def _git_push(
    git_dir: Path,
    clone_url: str,
    token: str,
    sha: str,
    branch: str,
    lease: str | None,
    timeout: float,
) -> str:
    args = ["push", "--porcelain", "--no-verify", "--recurse-submodules=no"]
    if lease is not None:
        args.append(f"--force-with-lease=refs/heads/{branch}:{lease}")
    args += ["--", clone_url, f"{sha}:refs/heads/{branch}"]
    return run_git(args, git_dir=git_dir, token=token, timeout=timeout)


def push(
    worktree: Path,
    clone_url: str,
    token: str,
    branch: str,
    *,
    default_branch: str,
    expected_remote_sha: str | None = None,
    pr_branch: str | None = None,
    timeout: float = NETWORK_TIMEOUT,
) -> PushResult:
    """Push the job's branch to `branch` on the remote, never forcing.

    `default_branch` is always refused. A branch outside `rolecall/` is refused unless
    it equals `pr_branch`. `expected_remote_sha` is the remote branch's SHA our work
    started from; the branch must contain it, and if someone pushed on top meanwhile,
    only our commits after it are replayed onto theirs, then pushed with a lease on
    exactly the fetched SHA. If that fails too, `PushRejected`.
    """
    branch = check_branch(branch)
    _check_push_target(branch, default_branch, pr_branch)
    check_url(clone_url)
    git_dir = host_git_dir(worktree)
    if expected_remote_sha is not None:
        expected_remote_sha = check_sha(expected_remote_sha)
        try:
            run_git(["merge-base", "--is-ancestor", expected_remote_sha, "HEAD"], git_dir=git_dir)
        except GitError:
            raise WorkspaceError(
                f"the job's branch does not contain {expected_remote_sha}, the commit "
                f"{branch!r} was at; pushing would rewrite its history"
            ) from None
    sha = head_sha(worktree)
    try:
        out = _git_push(git_dir, clone_url, token, sha, branch, None, timeout)
    except GitError as err:
        _raise_unless_behind(err, branch)
    else:
        return PushResult(branch, sha, created="[new branch]" in out, rebased=False)

    fetched = _fetch_remote_branch(git_dir, clone_url, token, branch, timeout)
    sha = _replay(git_dir, onto=fetched, since=expected_remote_sha, branch=branch)
    try:
        _git_push(git_dir, clone_url, token, sha, branch, fetched, timeout)
    except GitError as err:
        raise PushRejected(
            f"{branch!r} moved again while Rolecall replayed its commits onto "
            f"{fetched[:12]}; nothing was overwritten"
        ) from err
    return PushResult(branch, sha, created=False, rebased=True)


def _fetch_remote_branch(
    git_dir: Path, clone_url: str, token: str, branch: str, timeout: float
) -> str:
    """Fetch `branch` into `refs/remotes/origin/<branch>` of the job's git dir; its SHA."""
    tracking = f"refs/remotes/origin/{branch}"
    run_git(
        [
            *FETCH,
            "--no-tags",
            "--no-write-fetch-head",
            "--",
            clone_url,
            f"+refs/heads/{branch}:{tracking}",
        ],
        git_dir=git_dir,
        token=token,
        timeout=timeout,
    )
    return check_sha(run_git(["rev-parse", "--verify", f"{tracking}^{{commit}}"], git_dir=git_dir))


def _replay(git_dir: Path, *, onto: str, since: str | None, branch: str) -> str:
    """Replay `since..HEAD` onto `onto` without a work tree; move HEAD; the new SHA.

    Each commit's own change (its parent's tree to its tree) is merged into `onto` by
    `merge-tree --write-tree`. The merge base is pinned to the commit's parent through
    three throw-away commits (git 2.39 has no `--merge-base`), so replaying onto a branch
    that was force-pushed meanwhile carries only our change: nothing someone removed
    comes back. A conflict refuses the push.
    """
    if since is None:
        since = check_sha(run_git(["merge-base", "HEAD", onto], git_dir=git_dir))
    commits = run_git(["rev-list", "--reverse", f"{since}..HEAD"], git_dir=git_dir).split()
    current = onto
    for commit in commits:
        tree = _merge_change(git_dir, commit, current, onto=onto, branch=branch)
        fmt = "--format=%an%x00%ae%x00%cn%x00%ce%x00%B"
        who = run_git(["show", "-s", "--no-show-signature", fmt, commit], git_dir=git_dir)
        an, ae, cn, ce, message = who.split("\0", 4)
        env = {
            "GIT_AUTHOR_NAME": an,
            "GIT_AUTHOR_EMAIL": ae,
            "GIT_COMMITTER_NAME": cn,
            "GIT_COMMITTER_EMAIL": ce,
        }
        current = _commit_tree(git_dir, tree, [current], message, env)
    ref = run_git(["symbolic-ref", "HEAD"], git_dir=git_dir).strip()
    run_git(["update-ref", ref, current], git_dir=git_dir)
    return current


_SCRATCH = {
    "GIT_AUTHOR_NAME": "rolecall",
    "GIT_AUTHOR_EMAIL": "rolecall@invalid",
    "GIT_COMMITTER_NAME": "rolecall",
    "GIT_COMMITTER_EMAIL": "rolecall@invalid",
    "GIT_AUTHOR_DATE": "1700000000 +0000",
    "GIT_COMMITTER_DATE": "1700000000 +0000",
}


def _commit_tree(
    git_dir: Path, tree: str, parents: list[str], message: str, env: dict[str, str]
) -> str:
    args = ["commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    return check_sha(run_git([*args, "-F", "-"], git_dir=git_dir, env=env, stdin=message))


def _merge_change(git_dir: Path, commit: str, current: str, *, onto: str, branch: str) -> str:
    """The tree of `current` with `commit`'s own change merged in (base: its parent)."""
    trees = run_git(
        ["rev-parse", f"{commit}^^{{tree}}", f"{commit}^{{tree}}", f"{current}^{{tree}}"],
        git_dir=git_dir,
    ).split()
    base = _commit_tree(git_dir, trees[0], [], "base", _SCRATCH)
    theirs = _commit_tree(git_dir, trees[1], [base], "change", _SCRATCH)
    ours = _commit_tree(git_dir, trees[2], [base], "current", _SCRATCH)
    try:
        out = run_git(["merge-tree", "--write-tree", ours, theirs], git_dir=git_dir)
    except GitError as err:
        raise PushRejected(
            f"someone pushed to {branch!r} meanwhile and Rolecall's commits do not apply "
            f"on top of {onto[:12]}; nothing was pushed"
        ) from err
    return check_sha(out.split()[0])
