"""The small records the GitHub clients hand back: plain frozen values, not githubkit models.

Jobs, playbooks and tests read these without importing a client, and a record says
only what Rolecall uses of GitHub's much larger answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class InstallationToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    default_branch: str
    clone_url: str
    id: int  # stays with the repository through renames and transfers; a name does not


@dataclass(frozen=True)
class PullRequestRef:
    number: int
    html_url: str
    head_ref: str
    draft: bool


@dataclass(frozen=True)
class PullInfo:
    """A pull request as a PR job needs it: its branches, its author, where it lives."""

    number: int
    state: str
    title: str
    body: str
    author: str
    html_url: str
    head_ref: str
    head_sha: str
    head_repo: str | None  # full name; None when the fork was deleted
    base_ref: str
    base_repo: str

    @property
    def is_from_fork(self) -> bool:
        return self.head_repo is None or self.head_repo.casefold() != self.base_repo.casefold()


@dataclass(frozen=True)
class DiffFile:
    """One changed file of a pull request, as GitHub's `/pulls/{n}/files` shows it."""

    path: str
    status: str
    patch: str | None  # None for binary files and diffs GitHub will not show


@dataclass(frozen=True)
class ThreadState:
    """A review thread as GraphQL knows it (REST has no threads and cannot resolve)."""

    node_id: str
    is_resolved: bool
    comment_ids: tuple[int, ...]  # database ids, oldest first


@dataclass(frozen=True)
class GitCommitInfo:
    """A commit object as the Git Data API shows it: what `/ci` needs to copy it."""

    sha: str
    tree_sha: str
    parents: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class BranchPush:
    """One update of a branch in the repository's activity log: who moved it, and when."""

    before: str
    after: str
    actor: str | None  # None when GitHub no longer knows the account
    at: datetime


@dataclass(frozen=True)
class ReviewRef:
    id: int
    html_url: str


@dataclass(frozen=True)
class CheckRunInfo:
    """A check run on a commit, as `RepoClient.check_runs_for` lists it."""

    id: int
    name: str
    head_sha: str
    status: str  # queued, in_progress or completed
    conclusion: str | None  # set once completed
    title: str | None
    summary: str | None
    external_id: str  # "" when none was given
    html_url: str


def pull_ref(pull: Any) -> PullRequestRef:
    return PullRequestRef(
        number=int(pull.number),
        html_url=str(pull.html_url),
        head_ref=str(pull.head.ref),
        draft=bool(pull.draft),
    )


def as_utc(value: datetime | str) -> datetime:
    """GitHub's `expires_at` (githubkit keeps it as the string GitHub sent) as aware UTC."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
