"""The repository's mirror: one bare clone per repository, shared by its jobs, host-only.

`<data_dir>/mirrors/<owner>/<name>.git` is fetched (never re-cloned) under an flock
and never auto-gc'd, because job git dirs borrow its objects through `alternates`.
No sandbox ever sees the mirrors directory: a job's sandbox gets its own repository's
objects bound read-only at a fixed path (agents/workspace/checkout.py), and host git
never follows an `alternates` file the agent could have written.
Repository configuration and instructions are read from here at the default branch's
SHA, never from a checkout.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from agents.workspace.git import (
    CLONE_TIMEOUT,
    NETWORK_TIMEOUT,
    GitError,
    WorkspaceError,
    check_branch,
    check_repo_path,
    check_segment,
    check_sha,
    check_url,
    log,
    run_git,
)

MAX_FILE_BYTES = 1024 * 1024
SLUG_MAX = 40
_MIRROR_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
FETCH = ("fetch", "--quiet", "--no-recurse-submodules")


def branch_name(issue_number: int, title: str) -> str:
    """`rolecall/issue-<n>-<slug>`: readable in the PR list, always a valid ref name."""
    if isinstance(issue_number, bool) or issue_number < 1:
        raise ValueError(f"issue number must be positive, got {issue_number!r}")
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:SLUG_MAX].rstrip("-")
    return f"rolecall/issue-{issue_number}-{slug}" if slug else f"rolecall/issue-{issue_number}"


def mirror_path(data_dir: Path, group: str, name: str) -> Path:
    """Where a mirror lives: `mirrors/<group>/<name>.git`, checked to stay in the dir.

    The caller picks the two segments; Rolecall's worker uses the installation and
    repository ids (bot.jobs.setup.fetch_mirror), so no two repositories, and no two
    installations, ever share the object store a sandbox is shown.
    """
    group = check_segment(group, "owner")
    name = check_segment(name, "name")
    return Path(data_dir).resolve() / "mirrors" / group / f"{name}.git"


@contextmanager
def mirror_lock(mirror: Path, *, exclusive: bool) -> Iterator[None]:
    """flock beside the mirror: one writer (fetch) at a time, readers (clone) share."""
    lock_path = mirror.parent / f"{mirror.name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _is_repo(git_dir: Path) -> bool:
    return (git_dir / "HEAD").is_file() and (git_dir / "objects").is_dir()


def sync_mirror(
    data_dir: Path,
    group: str,
    name: str,
    clone_url: str,
    token: str,
    *,
    timeout: float = CLONE_TIMEOUT,
) -> Path:
    """Create the repository's mirror on first use, fetch it on later uses; return its path.

    Held under an exclusive lock so two jobs on one repository never write it at once.
    A new mirror is cloned beside its final place and renamed in, so a crash never
    leaves a half-cloned mirror where the next job would trust it.
    """
    check_url(clone_url)
    mirror = mirror_path(data_dir, group, name)
    mirror.parent.mkdir(parents=True, exist_ok=True)
    with mirror_lock(mirror, exclusive=True):
        if _is_repo(mirror):
            run_git(
                [*FETCH, "--prune", "--", clone_url, *_MIRROR_REFSPECS],
                git_dir=mirror,
                token=token,
                timeout=timeout,
            )
            return mirror
        for stale in mirror.parent.glob(f".{mirror.name}.tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp = mirror.parent / f".{mirror.name}.tmp-{uuid.uuid4().hex}"
        try:
            run_git(
                ["clone", "--bare", "--quiet", "--template=", "--", clone_url, str(tmp)],
                token=token,
                timeout=timeout,
            )
            # Written into the mirror too, for anyone who runs git in it by hand.
            run_git(["config", "gc.auto", "0"], git_dir=tmp)
            if mirror.exists():
                shutil.rmtree(mirror)  # not a repository: a leftover we cannot use
            tmp.rename(mirror)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        log.info("created mirror %s", mirror)
    return mirror


def fetch_branch(
    mirror: Path, clone_url: str, token: str, branch: str, *, timeout: float = NETWORK_TIMEOUT
) -> str:
    """Fetch one branch (a PR head) into the mirror and return the SHA it now points at."""
    check_url(clone_url)
    branch = check_branch(branch)
    with mirror_lock(mirror, exclusive=True):
        run_git(
            [*FETCH, "--no-tags", "--", clone_url, f"+refs/heads/{branch}:refs/heads/{branch}"],
            git_dir=mirror,
            token=token,
            timeout=timeout,
        )
    sha = branch_sha(mirror, branch)
    if sha is None:
        raise WorkspaceError(f"branch {branch!r} was fetched but is not in the mirror")
    return sha


def fetch_pull_head(
    mirror: Path, clone_url: str, token: str, number: int, *, timeout: float = NETWORK_TIMEOUT
) -> str:
    """Fetch a pull request's head (`refs/pull/<n>/head`) into the mirror; return its SHA.

    GitHub keeps that ref in the base repository for every PR, from a fork or not, so a
    read-only job (a review) can check out a fork's PR without access to the fork.
    """
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise WorkspaceError(f"not a pull request number: {number!r}")
    check_url(clone_url)
    ref = f"refs/pull/{number}/head"
    with mirror_lock(mirror, exclusive=True):
        run_git(
            [*FETCH, "--no-tags", "--", clone_url, f"+{ref}:{ref}"],
            git_dir=mirror,
            token=token,
            timeout=timeout,
        )
        out = run_git(["rev-parse", "--verify", f"{ref}^{{commit}}"], git_dir=mirror)
    return check_sha(out)


def branch_sha(mirror: Path, branch: str) -> str | None:
    """The SHA `branch` points at in the mirror, or None if there is no such branch."""
    branch = check_branch(branch)
    try:
        out = run_git(
            ["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}^{{commit}}"],
            git_dir=mirror,
        )
    except GitError as err:
        if err.returncode == 1:
            return None
        raise
    return out.strip()


def has_commit(git_dir: Path, sha: str) -> bool:
    """Whether the repository (a mirror) holds commit `sha`."""
    try:
        run_git(["cat-file", "-e", f"{sha}^{{commit}}"], git_dir=git_dir)
    except GitError:
        return False
    return True


def read_default_branch_file(
    mirror: Path, sha: str, path: str, *, max_bytes: int = MAX_FILE_BYTES
) -> str | None:
    """The text of `path` at `sha` (the default branch's head), read without a checkout.

    Repository configuration and instructions are read from the default branch only,
    so a pull request cannot change the rules it is judged by. Returns None if the path
    is missing, a directory, a symlink or a submodule (a symlink could point anywhere).
    """
    sha = check_sha(sha)
    path = check_repo_path(path)
    listing = run_git(["ls-tree", "-z", "-l", sha, "--", path], git_dir=mirror)
    for entry in filter(None, listing.split("\0")):
        meta, _, entry_path = entry.partition("\t")
        mode, kind, oid, size = meta.split()
        if entry_path != path:
            continue
        if kind != "blob" or mode not in ("100644", "100755"):
            return None
        if int(size) > max_bytes:
            raise WorkspaceError(f"{path} is {size} bytes, more than the {max_bytes} we read")
        return run_git(["cat-file", "blob", oid], git_dir=mirror)
    return None


def list_default_branch_files(mirror: Path, sha: str, directory: str) -> list[str]:
    """Repository paths of the regular files directly inside `directory` at `sha`.

    Not recursive, symlinks and submodules left out (see `read_default_branch_file`).
    An empty string or "." lists the repository root. A missing directory gives [].
    """
    sha = check_sha(sha)
    args = ["ls-tree", "-z", sha]
    if directory.strip("/") not in ("", "."):
        args += ["--", check_repo_path(directory) + "/"]
    files = []
    for entry in filter(None, run_git(args, git_dir=mirror).split("\0")):
        meta, _, entry_path = entry.partition("\t")
        mode, kind, _oid = meta.split()
        if kind == "blob" and mode in ("100644", "100755"):
            files.append(entry_path)
    return sorted(files)
