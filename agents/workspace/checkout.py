"""A job's checkout: a host-only git dir, and a work tree the agent owns.

The agent may write anything inside its worktree, `.git` included: links, FIFOs,
alternates, config. So Rolecall keeps the git directory it trusts entirely outside:

- `<worktree>.git` (a sibling the sandbox never sees) is a bare repository that borrows
  the mirror's objects through an `alternates` file Rolecall wrote, and whose branch
  and HEAD only Rolecall moves. Every host git command of the job runs there.
- `<worktree>` is filled by Python from blobs read out of that repository, while it is
  still a directory nobody else has seen: no git process ever runs with a work tree,
  so no checkout filter, attribute or hook of the repository can act on the host.
- `<worktree>/.git` is a convenience for the agent (git status, diff, log, commit in
  the sandbox). Rolecall writes it once and never reads it back: its objects come
  from the job's own mirror, bound read-only at `SANDBOX_MIRROR` in the sandbox.

What the agent produced crosses back as data (`agents.workspace.snapshot`).
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from agents.workspace.git import (
    WorkspaceError,
    check_branch,
    check_sha,
    run_git,
)
from agents.workspace.materialize import in_parallel, readers, write_tree
from agents.workspace.mirror import branch_sha, has_commit, mirror_lock
from agents.workspace.volume import WorktreeVolume, is_volume, unmount

# Where the sandbox sees the job's mirror (agents.sandbox.bubblewrap binds it read-only there).
SANDBOX_MIRROR = "/rolecall/mirror.git"
_REMOVE_TIMEOUT = 600.0


def host_git_dir(worktree: Path) -> Path:
    """The job's host-only git directory, beside (never inside) its worktree."""
    worktree = Path(worktree).absolute()
    return worktree.with_name(worktree.name + ".git")


def create_worktree(
    mirror: Path,
    worktree: Path,
    sha: str,
    branch: str,
    *,
    existing_branch: bool = False,
    volume: WorktreeVolume | None = None,
) -> None:
    """A fresh checkout of `sha` on branch `branch`: host git dir, files, the agent's .git.

    For an issue job `branch` is new; for a PR job pass `existing_branch=True` and the
    PR head SHA the job was triggered at, after `fetch_branch`. The SHA is pinned: the
    worktree starts there even if the branch moved since. `worktree` must not exist
    yet (or be an empty directory). With a `volume` the worktree is a tmpfs of its own,
    sized to the checkout plus the growth the volume allows (agents.workspace.volume).
    """
    sha = check_sha(sha)
    branch = check_branch(branch)
    mirror = Path(mirror).resolve()
    worktree = Path(worktree).absolute()
    git_dir = host_git_dir(worktree)
    if worktree.exists() and (not worktree.is_dir() or any(worktree.iterdir())):
        raise WorkspaceError(f"{worktree} already exists and is not empty")
    if os.path.lexists(git_dir):
        _remove_tree(git_dir)
    worktree.mkdir(parents=True, exist_ok=True)
    try:
        if volume is not None:
            volume.mount(worktree)
        with mirror_lock(mirror, exclusive=False):
            if not has_commit(mirror, sha):
                raise WorkspaceError(f"commit {sha} is not in the mirror; sync it first")
            if existing_branch and branch_sha(mirror, branch) is None:
                raise WorkspaceError(f"branch {branch!r} is not in the mirror; fetch_branch first")
            _init_host_git_dir(git_dir, mirror, sha, branch)
        with ThreadPoolExecutor(readers(), thread_name_prefix="checkout") as pool:
            index = in_parallel(pool, lambda: _agent_index(git_dir, sha))
            write_tree(git_dir, worktree, sha, pool)
            _write_agent_git_dir(worktree, sha, branch, index.result())
        if volume is not None:
            volume.fit(worktree)
    except BaseException:
        remove_worktree(worktree)  # half a worktree is worse than none
        raise


def _init_host_git_dir(git_dir: Path, mirror: Path, sha: str, branch: str) -> None:
    run_git(["init", "--bare", "--quiet", "--template=", str(git_dir)])
    info = git_dir / "objects" / "info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "alternates").write_text(f"{mirror / 'objects'}\n")
    run_git(["config", "gc.auto", "0"], git_dir=git_dir)
    run_git(["update-ref", f"refs/heads/{branch}", sha], git_dir=git_dir)
    run_git(["symbolic-ref", "HEAD", f"refs/heads/{branch}"], git_dir=git_dir)


def _agent_index(git_dir: Path, sha: str) -> bytes:
    """An index of `sha`'s tree, so `git status` in the sandbox starts clean."""
    index = git_dir / "agent-index"
    run_git(["read-tree", sha], git_dir=git_dir, env={"GIT_INDEX_FILE": str(index)})
    data = index.read_bytes()
    index.unlink()
    return data


def _write_agent_git_dir(worktree: Path, sha: str, branch: str, index: bytes) -> None:
    """The agent's own `.git`: written once here, never read by the host again."""
    agent_git = worktree / ".git"
    for sub in ("objects/info", "objects/pack", "refs/tags", f"refs/heads/{branch}/.."):
        (agent_git / sub).resolve().mkdir(parents=True, exist_ok=True)
    (agent_git / "objects" / "info" / "alternates").write_text(f"{SANDBOX_MIRROR}/objects\n")
    (agent_git / "refs" / "heads" / branch).write_text(f"{sha}\n")
    (agent_git / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
    (agent_git / "config").write_text(
        "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n"
        "\tlogallrefupdates = true\n[user]\n\tname = Rolecall agent\n"
        "\temail = agent@rolecall.invalid\n"
    )
    # An index matching the files written, so `git status` in the sandbox is clean.
    (agent_git / "index").write_bytes(index)


def remove_worktree(worktree: Path) -> None:
    """Delete a job's worktree and its host git dir, whatever tree the agent made.

    Read-only directories, trees nested past PATH_MAX and millions of entries are
    all handled by coreutils' fd-relative walk (`chmod -R`, `rm -rf`), which never
    follows a symlink and never recurses in Python; a tmpfs worktree is unmounted.
    """
    worktree = Path(worktree).absolute()
    if is_volume(worktree):
        unmount(worktree)  # frees the tmpfs whole; the directory under it is empty
    for path in (worktree, host_git_dir(worktree)):
        if path.is_symlink():
            path.unlink()
        elif path.exists():
            _remove_tree(path)


def _remove_tree(path: Path) -> None:
    """Make every directory writable (the agent may have locked some), then delete."""
    for argv, must_succeed in (
        (["chmod", "-R", "u+rwx", "--", str(path)], False),
        (["rm", "-rf", "--one-file-system", "--", str(path)], True),
    ):
        subprocess.run(
            argv,
            check=must_succeed,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=_REMOVE_TIMEOUT,
        )
