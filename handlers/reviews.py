"""Pull-request reviews, review comments and the PR commands (`/fix`, `/review`) to jobs.

A review GitHub delivers as one `pull_request_review.submitted` event followed by one
`pull_request_review_comment.created` event per inline comment. Rolecall makes ONE job
per review, from the review event; the comment events are recorded as gathered (the
job reads the review's comments from the API), so three inline comments never become
three jobs. The payload cannot say whether a comment-only review holds inline comments
or is just a "thanks" reply in a thread (GitHub files replies under a review too), so
the worker looks before it posts anything and ends such a job quietly.

As everywhere in `handlers`, whether the sender may start work is the worker's live
permission check, never the payload's `author_association`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from agents.text.sanitize import sanitize
from handlers.command_names import FIX, REVIEW
from handlers.commands import Command
from handlers.decisions import Decision, Ignore, StartJob
from handlers.events import (
    EventError,
    IssueCommentEvent,
    PullRequest,
    PullRequestReviewCommentEvent,
    PullRequestReviewEvent,
)
from handlers.guards import is_self, screen_sender
from handlers.mentions import mention_command, slug_of
from handlers.router import Context, Router
from handlers.triggers import NOT_AN_APP_DELIVERY, command_work, comment_job

router = Router()

# The role each PR command runs; `fix` may run the role that opened the PR instead
# (the worker looks it up), `review` is always the read-only reviewer.
COMMAND_ROLES = {FIX: "fixer", REVIEW: "reviewer"}
# Review states that ask for work; "approved" and "dismissed" never do.
ACTIONABLE_REVIEW_STATES = frozenset({"changes_requested", "commented"})


@router.on("pull_request_review.submitted")
def review_submitted(ctx: Context) -> Decision:
    """A person's review asking for changes on a PR Rolecall opened: one job for all of it."""
    event = ctx.parse(PullRequestReviewEvent)
    refusal = screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)
    return refusal or _not_ours_to_fix(event, ctx.bot_login) or _fix_review(ctx, event)


@router.on("pull_request_review.edited", "pull_request_review.dismissed")
def review_changed(ctx: Context) -> Decision:
    """Only a newly submitted review asks for work, as only a new comment is a command."""
    return Ignore(f"{ctx.name}: only a newly submitted review asks for work")


@router.on("pull_request_review_comment.created")
def review_comment_created(ctx: Context) -> Decision:
    """Gathered by the review event it belongs to, unless it mentions the App: then it asks
    for work of its own (`@rolecall rename this` is a fix, `@rolecall /review` a review)."""
    event = ctx.parse(PullRequestReviewCommentEvent)
    comment = event.comment
    slug = slug_of(ctx.bot_login)
    mention = slug and mention_command(comment.body, slug, on_pull_request=True)
    if mention:
        refusal = screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)
        return refusal or _review_comment_job(event, mention)
    if comment.in_reply_to_id is not None and is_thanks(comment.body):
        return Ignore("a reply in a review thread that only says thanks")
    return Ignore(
        f"inline comment of review {comment.pull_request_review_id}: gathered by the job "
        "of its review, which reads the review's comments from the API"
    )


def _review_comment_job(event: PullRequestReviewCommentEvent, command: Command) -> Decision:
    """The job an inline comment's mention asks for, with the pull request as it was.

    It records the comment's review: when that review makes a job of its own (a review
    of a PR Rolecall opened), the worker runs only one of them.
    """
    if event.installation is None:
        return NOT_AN_APP_DELIVERY
    pull, sender = event.pull_request, event.sender.login
    extra: dict[str, str] = {}
    if command.name in COMMAND_ROLES:
        kind, role = command.name, COMMAND_ROLES[command.name]
    else:
        kind, role, extra = command_work(command, sender, pull.number)
    return StartJob(
        kind=kind,
        role=role,
        repo_full_name=event.repository.full_name,
        repo_id=event.repository.id,
        installation_id=event.installation.id,
        issue_number=pull.number,
        is_pull_request=True,
        comment_id=event.comment.id,
        sender_login=sender,
        notes=command.notes,
        trigger_at=event.comment.created_at,
        trigger="review_comment",
        issue_title=pull.title,
        issue_body=pull.body or "",
        review_id=event.comment.pull_request_review_id,
        **extra,
    )


@router.on("pull_request_review_comment.edited", "pull_request_review_comment.deleted")
def review_comment_changed(ctx: Context) -> Decision:
    return Ignore(f"{ctx.name}: only submitted reviews ask for work")


def pull_request_command(event: IssueCommentEvent, commands: Sequence[Command]) -> Decision | None:
    """The decision for a visible `/fix` or `/review` in a comment, or None if it has none.

    Called by the issue-comment handler after it screened the sender, with the comment's
    visible commands (scanned once, handlers.commands). On an issue these commands mean
    nothing (None), so the comment is judged like any other.
    """
    command = next((c for c in commands if c.name in COMMAND_ROLES), None)
    if command is None or not event.issue.is_pull_request:
        return None
    if event.installation is None:
        return Ignore("no installation in the payload: not a delivery to the GitHub App")
    return comment_job(
        event,
        command,
        event.installation.id,
        kind=command.name,
        role=COMMAND_ROLES[command.name],
    )


def opened_by_rolecall(pull: PullRequest, bot_login: str | None) -> bool:
    """Whether Rolecall opened this PR.

    With the bot's login known, the author must be it. Before `rolecall serve` has
    learned it (GitHub unreachable at start-up), a Bot author with a same-repository
    `rolecall/…` head is taken for Rolecall; the worker checks the author against the
    App's real login before it does anything, so a wrong guess only costs a quiet job.
    """
    if bot_login:
        return is_self(pull.user, bot_login)
    bot_author = pull.user.type == "Bot"
    return bot_author and pull.head.ref.startswith("rolecall/") and not pull.is_from_fork


# Words that thank (at least one must be there) and words that may go with them.
_GRATEFUL = frozenset(
    {"thanks", "thank", "thx", "ty", "tysm", "cheers", "lgtm", "great", "nice", "perfect"}
    | {"awesome", "cool", "+1", "appreciated", "appreciate", "good"}
)
_THANKS_WORDS = _GRATEFUL | frozenset(
    {"you", "looks", "much", "a", "lot", "so", "very", "to", "me", "sounds", "ok", "okay", "it"}
)
_MENTION = re.compile(r"@[A-Za-z0-9-]+(?:\[bot\])?")
_NOT_WORD = re.compile(r"[^a-z0-9+ ]+")


def is_thanks(text: str) -> bool:
    """Whether a comment (as a reader sees it) only thanks or approves, asking for nothing.

    "Thanks!", "LGTM 👍", "@rolecall thank you so much", or an emoji alone; anything with
    a word outside the small thanking vocabulary ("thanks, but rename x") is feedback.
    """
    visible = sanitize(text).strip()
    if not visible:
        return False
    words = _NOT_WORD.sub(" ", _MENTION.sub(" ", visible.lower())).split()
    if not words:
        return True  # emoji or punctuation only: a reaction written as a comment
    return all(word in _THANKS_WORDS for word in words) and any(w in _GRATEFUL for w in words)


def _not_ours_to_fix(event: PullRequestReviewEvent, bot_login: str | None) -> Ignore | None:
    """Why this review asks Rolecall for nothing, or None when it may."""
    pull, state = event.pull_request, event.review.state.lower()
    if state not in ACTIONABLE_REVIEW_STATES:
        return Ignore(f"a review in state {state!r} asks for no changes")
    if not opened_by_rolecall(pull, bot_login):
        return Ignore(
            f"PR #{pull.number} was not opened by Rolecall; reviews there start nothing "
            "(a writer can comment /fix)"
        )
    if pull.state != "open":
        return Ignore(f"PR #{pull.number} is {pull.state}")
    if event.installation is None:
        return Ignore("no installation in the payload: not a delivery to the GitHub App")
    return None


def _fix_review(ctx: Context, event: PullRequestReviewEvent) -> StartJob:
    """One job for the whole review; its body, as submitted, is the requester's notes."""
    review, pull = event.review, event.pull_request
    if review.submitted_at is None:
        raise EventError(ctx.name, ["review.submitted_at: a submitted review has a time"])
    assert event.installation is not None  # checked by _not_ours_to_fix
    return StartJob(
        kind=FIX,
        role=COMMAND_ROLES[FIX],
        repo_full_name=event.repository.full_name,
        repo_id=event.repository.id,
        installation_id=event.installation.id,
        issue_number=pull.number,
        is_pull_request=True,
        comment_id=None,
        sender_login=event.sender.login,
        notes=sanitize(review.body or "").strip(),
        trigger_at=review.submitted_at,
        trigger="review",
        issue_title=pull.title,
        issue_body=pull.body or "",
        review_id=review.id,
        head_sha=review.commit_id,
    )
