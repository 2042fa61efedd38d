"""The stand-in's memory: plain records for what GitHub stores, nothing about JSON.

Records hold identities and facts (who, what, when); `serialize` turns them into
GitHub's JSON shapes. Keeping the two apart means a REST response and a webhook
payload for the same object can never drift: both come from one serializer.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

UserType = Literal["User", "Bot", "Organization"]
Level = Literal["admin", "maintain", "write", "triage", "read", "none"]
LEVELS: tuple[Level, ...] = ("none", "read", "triage", "write", "maintain", "admin")
REACTIONS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")


def utcnow() -> datetime:
    """The one clock, second precision, because GitHub's timestamps have no fraction."""
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime | None) -> str | None:
    """GitHub's timestamp format, `2016-07-11T22:14:10Z`; SDKs parse exactly this."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def node_id(prefix: str, number: int) -> str:
    """A GraphQL global id in GitHub's newer `PREFIX_base64` style, unique per kind."""
    raw = base64.urlsafe_b64encode(f"{prefix}:{number}".encode()).decode().rstrip("=")
    return f"{prefix}_{raw}"


@dataclass
class User:
    login: str
    id: int
    type: UserType = "User"

    @property
    def node_id(self) -> str:
        prefix = {"User": "U", "Bot": "BOT", "Organization": "O"}[self.type]
        return node_id(prefix, self.id)


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None


@dataclass
class Repo:
    id: int
    owner: User
    name: str
    path: Path
    default_branch: str
    private: bool
    created_at: datetime
    pushed_at: datetime
    description: str | None = None
    fork_of: Repo | None = None
    installation_id: int | None = None
    permissions: dict[str, Level] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"


@dataclass
class Issue:
    """An issue, or the issue half of a pull request (they share numbers, as on GitHub)."""

    id: int
    repo: Repo
    number: int
    title: str
    body: str | None
    user: User
    created_at: datetime
    updated_at: datetime
    state: Literal["open", "closed"] = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: User | None = None
    labels: list[Label] = field(default_factory=list)
    assignees: list[User] = field(default_factory=list)
    locked: bool = False
    via_app: bool = False


@dataclass
class Pull:
    """The pull-request half: branches and commits; title/body/state live on the Issue."""

    id: int
    issue: Issue
    head_repo: Repo
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool
    merged_at: datetime | None = None


@dataclass
class IssueComment:
    id: int
    repo: Repo
    issue_number: int
    user: User
    body: str
    created_at: datetime
    updated_at: datetime
    via_app: bool = False


@dataclass
class Reaction:
    id: int
    user: User
    content: str
    created_at: datetime


@dataclass
class Review:
    id: int
    repo: Repo
    pull_number: int
    user: User
    body: str
    state: Literal["COMMENTED", "APPROVED", "CHANGES_REQUESTED", "DISMISSED"]
    commit_id: str
    submitted_at: datetime


@dataclass
class ReviewComment:
    id: int
    repo: Repo
    pull_number: int
    review_id: int
    thread_id: int
    user: User
    body: str
    path: str
    line: int | None
    side: Literal["LEFT", "RIGHT"]
    start_line: int | None
    position: int | None
    diff_hunk: str
    commit_id: str
    created_at: datetime
    updated_at: datetime
    in_reply_to_id: int | None = None


@dataclass
class ReviewThread:
    id: int
    repo: Repo
    pull_number: int
    path: str
    line: int | None
    comment_ids: list[int] = field(default_factory=list)
    resolved_by: User | None = None

    @property
    def node_id(self) -> str:
        return node_id("PRRT", self.id)


@dataclass
class CheckRun:
    id: int
    repo: Repo
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    started_at: datetime | None
    completed_at: datetime | None
    external_id: str | None = None
    details_url: str | None = None
    output: dict[str, str | None] = field(default_factory=dict)
    suite_id: int = 0  # one check suite per App and commit, as on GitHub
    annotations_count: int = 0  # annotations accumulate across updates


@dataclass
class Installation:
    id: int
    account: User
    created_at: datetime


@dataclass
class OAuthCode:
    """What the web flow hands the App's redirect URI for one person: single use, short-lived."""

    code: str
    client_id: str
    user: User
    redirect_uri: str
    expires_at: datetime


@dataclass
class ManifestCode:
    """An App a person registered from a manifest, until its code is converted (once, within
    the hour) at `POST /app-manifests/{code}/conversions`."""

    code: str
    manifest: dict[str, Any]
    owner: User
    expires_at: datetime


@dataclass
class UserToken:
    """A user access token (`ghu_…`): the App acting for one person (user-to-server)."""

    token: str
    user: User
    expires_at: datetime


@dataclass
class Token:
    """An installation access token, scoped like GitHub scopes them."""

    token: str
    installation_id: int
    expires_at: datetime
    permissions: dict[str, str]
    repo_ids: frozenset[int] | None  # None: every repository of the installation
