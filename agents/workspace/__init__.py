"""Host-side git for a job: the mirror, the job's checkout, its commit and its push.

The trust boundary (invariant 4) is the layout: host git runs only on host-only git
directories (`mirror.py`: one per repository; `checkout.py`: one per job, beside the
worktree), with every command hardened and time-limited (`git.py`). The worktree the
agent writes is read back by Python as data (`snapshot.py`), never by git.
"""

from agents.workspace.checkout import (
    SANDBOX_MIRROR,
    create_worktree,
    host_git_dir,
    remove_worktree,
)
from agents.workspace.git import (
    GitCancelled,
    GitError,
    WorkspaceError,
    cancel_scope,
    run_git,
)
from agents.workspace.history import (
    changed_files,
    commit_messages,
    commits_since,
    diff,
    diff_stat,
    head_sha,
)
from agents.workspace.mirror import (
    branch_name,
    branch_sha,
    fetch_branch,
    fetch_pull_head,
    has_commit,
    list_default_branch_files,
    mirror_path,
    read_default_branch_file,
    sync_mirror,
)
from agents.workspace.push import PushRejected, PushResult, push
from agents.workspace.snapshot import commit_all
from agents.workspace.trees import is_dot_git
from agents.workspace.volume import WorktreeVolume

__all__ = [
    "SANDBOX_MIRROR",
    "GitCancelled",
    "GitError",
    "PushRejected",
    "PushResult",
    "WorkspaceError",
    "WorktreeVolume",
    "branch_name",
    "branch_sha",
    "cancel_scope",
    "changed_files",
    "commit_all",
    "commit_messages",
    "commits_since",
    "create_worktree",
    "diff",
    "diff_stat",
    "fetch_branch",
    "fetch_pull_head",
    "has_commit",
    "head_sha",
    "host_git_dir",
    "is_dot_git",
    "list_default_branch_files",
    "mirror_path",
    "push",
    "read_default_branch_file",
    "remove_worktree",
    "run_git",
    "sync_mirror",
]
