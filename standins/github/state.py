"""All of the stand-in's GitHub, in memory, behind one lock.

The HTTP server answers on many threads and tests act as people on another, so
every read-modify-write happens under `State.lock` (re-entrant, because lookups
are composed). Lookups raise GitHub's 404 so handlers read straight-line.
"""

from __future__ import annotations

import itertools
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import not_found
from .records import (
    CheckRun,
    Installation,
    Issue,
    IssueComment,
    Label,
    ManifestCode,
    OAuthCode,
    Pull,
    Reaction,
    Repo,
    Review,
    ReviewComment,
    ReviewThread,
    Token,
    User,
    UserToken,
    UserType,
)

# What the App asks for in its manifest; tokens are scoped down from this.
DEFAULT_APP_PERMISSIONS: dict[str, str] = {
    "checks": "write",
    "contents": "write",
    "issues": "write",
    "metadata": "read",
    "pull_requests": "write",
}
# App ids are unique per process: githubkit caches JWTs and tokens by app id, so two
# stand-ins (two tests) sharing an id would hand each other's credentials around.
_APP_IDS = itertools.count(2_000_001)


def new_app_id() -> int:
    """An App id no other App of this process has (a manifest registration's)."""
    return next(_APP_IDS)


DEFAULT_APP_EVENTS: list[str] = [
    "issue_comment",
    "issues",
    "pull_request",
    "pull_request_review",
    "pull_request_review_comment",
]


@dataclass
class AppInfo:
    id: int
    slug: str
    name: str
    owner: User
    bot: User
    permissions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_APP_PERMISSIONS))
    events: list[str] = field(default_factory=lambda: list(DEFAULT_APP_EVENTS))
    # The App's OAuth client (user-to-server sign-in, standins.github.oauth); its id is
    # derived from the App id, as GitHub's `Iv1.…` ids look.
    client_secret: str = field(default_factory=lambda: secrets.token_hex(20))
    # Where the web flow may send people back; empty: any redirect_uri is accepted.
    callback_urls: list[str] = field(default_factory=list)
    # The private key handed out for the App (GitHub keeps only its public half; the
    # stand-in keeps the PEM for tests). Replaced by a manifest registration.
    private_key_pem: str = field(default="", repr=False)
    # Where GitHub sends a person after they install the App (a manifest's `setup_url`).
    setup_url: str | None = None

    @property
    def client_id(self) -> str:
        return f"Iv1.{self.id:016x}"


class State:
    """Every record, indexed the ways the REST API looks things up."""

    def __init__(self, root: Path, app_slug: str) -> None:
        self.root = root
        self.lock = threading.RLock()
        self._ids = itertools.count(1001)
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, Installation] = {}
        self.tokens: dict[str, Token] = {}
        self.oauth_codes: dict[str, OAuthCode] = {}
        self.user_tokens: dict[str, UserToken] = {}
        # Codes of Apps registered from a manifest, not yet converted (app_manifests).
        self.manifest_codes: dict[str, ManifestCode] = {}
        self.issues: dict[tuple[int, int], Issue] = {}
        self.pulls: dict[tuple[int, int], Pull] = {}
        self.comments: dict[int, IssueComment] = {}
        self.reviews: dict[int, Review] = {}
        self.review_comments: dict[int, ReviewComment] = {}
        self.threads: dict[int, ReviewThread] = {}
        self.check_runs: dict[int, CheckRun] = {}
        self.check_suites: dict[tuple[int, str], int] = {}  # (repo id, head sha) -> id
        self.reactions: dict[tuple[str, int], list[Reaction]] = {}
        # Branch updates with their pusher (rest_activity.Activity), oldest first.
        self.activities: list[Any] = []
        owner = self.ensure_user("rolecall-dev")
        bot = self.ensure_user(f"{app_slug}[bot]", "Bot")
        self.app = AppInfo(
            id=new_app_id(), slug=app_slug, name=app_slug.capitalize(), owner=owner, bot=bot
        )

    def new_id(self) -> int:
        """Ids are unique across kinds, which makes a mixed-up id fail loudly as a 404."""
        with self.lock:
            return next(self._ids)

    # users -------------------------------------------------------------------------

    def ensure_user(self, login: str, type: UserType = "User") -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                user = User(login=login, id=self.new_id(), type=type)
                self.users[login.lower()] = user
            elif type != "User":
                user.type = type
            return user

    def user(self, login: str) -> User:
        with self.lock:
            user = self.users.get(login.lower())
            if user is None:
                raise not_found()
            return user

    # repositories and their contents -----------------------------------------------

    def repo(self, full_name: str) -> Repo:
        with self.lock:
            repo = self.repos.get(full_name.lower().removesuffix(".git"))
            if repo is None:
                raise not_found()
            return repo

    def repo_by_id(self, repo_id: int) -> Repo:
        with self.lock:
            for repo in self.repos.values():
                if repo.id == repo_id:
                    return repo
            raise not_found()

    def issue(self, repo: Repo, number: int) -> Issue:
        with self.lock:
            issue = self.issues.get((repo.id, number))
            if issue is None:
                raise not_found()
            return issue

    def pull(self, repo: Repo, number: int) -> Pull:
        with self.lock:
            pull = self.pulls.get((repo.id, number))
            if pull is None:
                raise not_found()
            return pull

    def pull_or_none(self, repo: Repo, number: int) -> Pull | None:
        with self.lock:
            return self.pulls.get((repo.id, number))

    def repo_pulls(self, repo: Repo) -> list[Pull]:
        with self.lock:
            return sorted(
                (p for (rid, _), p in self.pulls.items() if rid == repo.id),
                key=lambda p: p.issue.number,
            )

    def comment(self, repo: Repo, comment_id: int) -> IssueComment:
        with self.lock:
            comment = self.comments.get(comment_id)
            if comment is None or comment.repo is not repo:
                raise not_found()
            return comment

    def issue_comments(self, repo: Repo, number: int) -> list[IssueComment]:
        with self.lock:
            return [
                c for c in self.comments.values() if c.repo is repo and c.issue_number == number
            ]

    def review_comment(self, repo: Repo, comment_id: int) -> ReviewComment:
        with self.lock:
            comment = self.review_comments.get(comment_id)
            if comment is None or comment.repo is not repo:
                raise not_found()
            return comment

    def pull_review_comments(self, repo: Repo, number: int) -> list[ReviewComment]:
        with self.lock:
            return [
                c
                for c in self.review_comments.values()
                if c.repo is repo and c.pull_number == number
            ]

    def pull_reviews(self, repo: Repo, number: int) -> list[Review]:
        with self.lock:
            return [r for r in self.reviews.values() if r.repo is repo and r.pull_number == number]

    def review(self, repo: Repo, number: int, review_id: int) -> Review:
        with self.lock:
            review = self.reviews.get(review_id)
            if review is None or review.repo is not repo or review.pull_number != number:
                raise not_found()
            return review

    def pull_threads(self, repo: Repo, number: int) -> list[ReviewThread]:
        with self.lock:
            return [t for t in self.threads.values() if t.repo is repo and t.pull_number == number]

    def thread_by_node_id(self, thread_node_id: str) -> ReviewThread | None:
        with self.lock:
            for thread in self.threads.values():
                if thread.node_id == thread_node_id:
                    return thread
            return None

    def check_run(self, repo: Repo, run_id: int) -> CheckRun:
        with self.lock:
            run = self.check_runs.get(run_id)
            if run is None or run.repo is not repo:
                raise not_found()
            return run

    def check_suite_id(self, repo: Repo, head_sha: str) -> int:
        """The App's check suite for a commit, created with its first check run."""
        with self.lock:
            key = (repo.id, head_sha)
            if key not in self.check_suites:
                self.check_suites[key] = self.new_id()
            return self.check_suites[key]

    def commit_check_runs(self, repo: Repo, head_sha: str) -> list[CheckRun]:
        """The check runs on one commit, oldest first."""
        with self.lock:
            return [
                r for r in self.check_runs.values() if r.repo is repo and r.head_sha == head_sha
            ]

    def label(self, repo: Repo, name: str) -> Label:
        """The repository's label, created on first use with GitHub's default colour."""
        with self.lock:
            label = repo.labels.get(name.lower())
            if label is None:
                label = Label(id=self.new_id(), name=name)
                repo.labels[name.lower()] = label
            return label

    def reactions_of(self, kind: str, subject_id: int) -> list[Reaction]:
        with self.lock:
            return self.reactions.setdefault((kind, subject_id), [])
