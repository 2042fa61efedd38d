"""Issue comments and labels to jobs.

Handlers decide from the payload only. Whether the sender may start work is checked by
the worker against the live permission API, never here: the payload's
`author_association` is not a permission. Which role a command or label runs is the
worker's call too (see handlers.triggers).
"""

from __future__ import annotations

from handlers.commands import Command, parse_commands
from handlers.decisions import Decision, Ignore
from handlers.events import IssueCommentEvent, IssuesEvent
from handlers.guards import screen_sender
from handlers.mentions import mention_command, slug_of
from handlers.reviews import pull_request_command
from handlers.router import Context, Router
from handlers.triggers import NOT_AN_APP_DELIVERY, issue_command, label_job

router = Router()


@router.on("issue_comment.created")
def comment_created(ctx: Context) -> Decision:
    """A visible slash command (`/implement`, a role's name, a control command), or a
    visible `@rolecall …` when there is none."""
    event = ctx.parse(IssueCommentEvent)
    if (refusal := screen_sender(event.sender, ctx.bot_login, ctx.allowed_bots)) is not None:
        return refusal
    commands = parse_commands(event.comment.body)  # scanned once, for both kinds
    if not commands:  # `@rolecall …` asks too (handlers.mentions)
        commands = mentioned(event, ctx.bot_login)
    if (on_pull_request := pull_request_command(event, commands)) is not None:
        return on_pull_request  # /fix or /review on a pull request
    return issue_command(event, commands)


def mentioned(event: IssueCommentEvent, bot_login: str | None) -> list[Command]:
    slug = slug_of(bot_login)
    if slug is None:
        return []
    on_pull_request = event.issue.is_pull_request
    found = mention_command(event.comment.body, slug, on_pull_request=on_pull_request)
    return [found] if found is not None else []


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
