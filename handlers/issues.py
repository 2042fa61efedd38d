"""Issue comments and labels to jobs.

Handlers decide from the payload only. Whether the sender may start work is checked by
the worker against the live permission API, never here: the payload's
`author_association` is not a permission. Which role a command or label runs is the
worker's call too (see handlers.triggers).
"""

from __future__ import annotations

from handlers.command_names import IMPLEMENT
from handlers.commands import parse_commands
from handlers.decisions import Decision, Ignore, Reply
from handlers.events import IssueCommentEvent, IssuesEvent
from handlers.guards import screen_sender
from handlers.reviews import pull_request_command
from handlers.router import Context, Router
from handlers.triggers import command_job, label_job, pick_command

router = Router()

NOT_AN_APP_DELIVERY = Ignore("no installation in the payload: not a delivery to the GitHub App")


@router.on("issue_comment.created")
def comment_created(ctx: Context) -> Decision:
    """A visible slash command: `/implement`, a role's name, or a control command."""
    event = ctx.parse(IssueCommentEvent)
    if (refusal := screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)) is not None:
        return refusal
    commands = parse_commands(event.comment.body)
    if (on_pull_request := pull_request_command(event, commands)) is not None:
        return on_pull_request  # /fix or /review on a pull request
    command = pick_command(commands)
    if command is None:
        return Ignore("no visible command in the comment")
    if command.name == IMPLEMENT and event.issue.is_pull_request:
        return Reply(
            reason="/implement on a pull request",
            body=(
                f"@{event.sender.login} `/implement` works on issues: it turns an issue into "
                "a draft pull request. Please comment it on the issue you'd like implemented."
            ),
        )
    if event.installation is None:
        return NOT_AN_APP_DELIVERY
    return command_job(event, command, event.installation.id)


@router.on("issues.labeled")
def issue_labeled(ctx: Context) -> Decision:
    """A label someone applied; the worker knows which labels start which role."""
    event = ctx.parse(IssuesEvent)
    if (refusal := screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)) is not None:
        return refusal
    if event.label is None:
        return Ignore("issues.labeled without a label")
    if event.installation is None:
        return NOT_AN_APP_DELIVERY
    return label_job(event, event.label, event.installation.id)


@router.on("issue_comment.edited", "issue_comment.deleted")
def comment_changed(ctx: Context) -> Decision:
    """Only a new comment is a command: an edit could turn old text into one unseen."""
    return Ignore(f"{ctx.name}: commands count only in newly created comments")
