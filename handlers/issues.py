"""Issue comments (and, later, labels) to jobs.

Handlers decide from the payload only. Whether the sender may start work is checked by
the worker against the live permission API, never here: the payload's
`author_association` is not a permission.
"""

from __future__ import annotations

from handlers.commands import find_command
from handlers.decisions import Decision, Ignore, Reply, StartJob
from handlers.events import IssueCommentEvent
from handlers.guards import screen_sender
from handlers.router import Context, Router

router = Router()

IMPLEMENT = "implement"
IMPLEMENTER = "implementer"


@router.on("issue_comment.created")
def comment_created(ctx: Context) -> Decision:
    """A visible `/implement` on an issue starts the implementer."""
    event = ctx.parse(IssueCommentEvent)
    if (refusal := screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)) is not None:
        return refusal
    command = find_command(event.comment.body, IMPLEMENT)
    if command is None:
        return Ignore("no visible /implement command in the comment")
    if event.issue.is_pull_request:
        return Reply(
            reason="/implement on a pull request",
            body=(
                f"@{event.sender.login} `/implement` works on issues: it turns an issue into "
                "a draft pull request. Please comment it on the issue you'd like implemented."
            ),
        )
    if event.installation is None:
        return Ignore("no installation in the payload: not a delivery to the GitHub App")
    return StartJob(
        kind=IMPLEMENT,
        role=IMPLEMENTER,
        repo_full_name=event.repository.full_name,
        repo_id=event.repository.id,
        installation_id=event.installation.id,
        issue_number=event.issue.number,
        is_pull_request=False,
        comment_id=event.comment.id,
        sender_login=event.sender.login,
        notes=command.notes,
        trigger_at=event.comment.created_at,
        trigger="comment",
        issue_title=event.issue.title,
        issue_body=event.issue.body or "",
    )


@router.on("issue_comment.edited", "issue_comment.deleted")
def comment_changed(ctx: Context) -> Decision:
    """Only a new comment is a command: an edit could turn old text into one unseen."""
    return Ignore(f"{ctx.name}: commands count only in newly created comments")
