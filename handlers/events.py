"""The few webhook fields a decision reads, as small pydantic models.

The request path must answer GitHub quickly, and `githubkit.webhooks.parse` costs about
1.2 ms per delivery; validating these models costs a few microseconds because they read
only what the handlers need and ignore everything else. Full parsing, when wanted,
belongs in the worker. A payload missing a field a decision needs raises `EventError`
naming the field, rather than a decision being made on a guess.

The models are strict: a value is read only in the JSON type GitHub sends it in. Lax
pydantic would turn `"123"`, `123.0` or `true` into the id 123 or 1, and a number into
a time, so a payload GitHub never sent would be decided as if it had.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    ValidationError,
)

# GitHub sends `"body": null` for an empty comment; decisions read it as "".
TextOrEmpty = Annotated[str, BeforeValidator(lambda value: "" if value is None else value)]


def _iso_text(value: Any) -> Any:
    """GitHub's times in these events are ISO 8601 text; a number is not one of them."""
    if not isinstance(value, str | datetime):
        raise ValueError("a time must be ISO 8601 text, as GitHub sends it")
    return value


def _in_utc(value: datetime) -> datetime:
    """The time in UTC, refused when it has none (`0001-01-01T00:00:00+01:00`)."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is out of range once converted to UTC") from None


# A time with its zone (GitHub's end in "Z" or an offset), read in UTC. Strict(False)
# because strict pydantic reads times only from datetime objects, never from text.
GitHubTime = Annotated[
    AwareDatetime, Strict(False), BeforeValidator(_iso_text), AfterValidator(_in_utc)
]


class EventError(ValueError):
    """A payload lacks (or mistypes) a field the decision needs; `problems` lists them."""

    def __init__(self, event: str, problems: list[str]) -> None:
        super().__init__(f"{event} payload is not usable: {'; '.join(problems)}")
        self.event = event
        self.problems = problems


class _Fields(BaseModel):
    """Read-only, and deaf to every field not declared: GitHub adds fields over time."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class Account(_Fields):
    """A sender or author. `type` is "User", "Bot", "Organization" or "Mannequin"."""

    login: str
    type: str
    id: int


class Installation(_Fields):
    id: int


class Owner(_Fields):
    login: str


class Repository(_Fields):
    id: int
    name: str
    full_name: str
    owner: Owner
    default_branch: str


class Issue(_Fields):
    """An issue, or the issue side of a pull request (then `pull_request` is present)."""

    number: int
    title: str
    body: str | None = None
    state: str
    created_at: GitHubTime
    updated_at: GitHubTime | None = None
    user: Account
    pull_request: Any = None

    @property
    def is_pull_request(self) -> bool:
        """Whether this "issue" is a pull request: GitHub marks those with `pull_request`.

        Presence is what counts (even a null value), so an odd payload errs towards
        "pull request", where `/implement` only earns an explanation.
        """
        return "pull_request" in self.model_fields_set


class Comment(_Fields):
    id: int
    body: TextOrEmpty = ""
    created_at: GitHubTime
    updated_at: GitHubTime | None = None
    user: Account
    author_association: str


class Label(_Fields):
    name: str


class WebhookEvent(_Fields):
    """What every event the handlers act on carries.

    `installation` is optional because a repository webhook (not an App's) omits it; the
    handlers ignore such deliveries rather than call them malformed.
    """

    action: str | None = None
    sender: Account
    installation: Installation | None = None
    repository: Repository


class IssueCommentEvent(WebhookEvent):
    """`issue_comment`: a comment on an issue or on a pull request's conversation."""

    issue: Issue
    comment: Comment


class IssuesEvent(WebhookEvent):
    """`issues`: opened, labeled, … (`label` only on labeled/unlabeled)."""

    issue: Issue
    label: Label | None = None


class BranchRepository(_Fields):
    """The repository a PR's head or base lives in (null when a fork was deleted)."""

    id: int
    full_name: str


class Branch(_Fields):
    """A PR's head or base: the branch, its commit, and whose repository it is in."""

    ref: str
    sha: str
    repo: BranchRepository | None = None


class PullRequest(_Fields):
    """The PR a review (or review comment) is about, as the payload showed it."""

    number: int
    state: str
    title: str
    body: str | None = None
    user: Account
    head: Branch
    base: Branch

    @property
    def is_from_fork(self) -> bool:
        """Whether the head branch lives outside the base repository (or is gone)."""
        head, base = self.head.repo, self.base.repo
        return head is None or base is None or head.id != base.id


class Review(_Fields):
    """A submitted review. `state` is lowercase in webhooks ("changes_requested")."""

    id: int
    body: str | None = None
    state: str
    commit_id: str
    submitted_at: GitHubTime | None = None
    user: Account


class ReviewComment(_Fields):
    """An inline comment; `in_reply_to_id` is set when it answers another one."""

    id: int
    body: TextOrEmpty = ""
    pull_request_review_id: int | None = None
    in_reply_to_id: int | None = None
    created_at: GitHubTime
    user: Account


class PullRequestReviewEvent(WebhookEvent):
    """`pull_request_review`: submitted, edited, dismissed."""

    review: Review
    pull_request: PullRequest


class PullRequestReviewCommentEvent(WebhookEvent):
    """`pull_request_review_comment`: an inline comment, or a reply in its thread."""

    comment: ReviewComment
    pull_request: PullRequest


EventT = TypeVar("EventT", bound=WebhookEvent)


def parse_event(model: type[EventT], payload: Mapping[str, Any], *, name: str = "") -> EventT:
    """`payload` read as `model`, or `EventError` listing each missing or mistyped field."""
    try:
        return model.model_validate(payload if isinstance(payload, dict) else dict(payload))
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(part) for part in error['loc']) or '(payload)'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        ]
        raise EventError(name or model.__name__, problems) from exc
