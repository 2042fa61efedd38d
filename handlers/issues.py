"""Issue comments and labels to jobs.

Handlers decide from the payload only. Whether the sender may start work is checked by
the worker against the live permission API, never here: the payload's
`author_association` is not a permission. Which role a command or label runs is the
worker's call too (see handlers.triggers).
"""

from __future__ import annotations

from handlers.commands import Command, may_hold_command, parse_commands
from handlers.decisions import Decision, Ignore
from handlers.events import Account, IssueCommentEvent, IssuesEvent
from handlers.guards import screen_sender
from handlers.mentions import may_mention, mention_command, slug_of
from handlers.reviews import pull_request_command
from handlers.router import Context, Router
from handlers.shapes import shape_of
from handlers.triggers import NO_VISIBLE_COMMAND, NOT_AN_APP_DELIVERY, issue_command, label_job

router = Router()


@router.on("issue_comment.created")
def comment_created(ctx: Context) -> Decision:
    """A visible slash command (`/implement`, a role's name, a control command), or a
    visible `@rolecall …` when there is none."""
    if (quiet := quiet_comment(ctx)) is not None:
        return quiet
    return comment_read_in_full(ctx)


_FITS_COMMENT_EVENT = shape_of(IssueCommentEvent)


def quiet_comment(ctx: Context) -> Ignore | None:
    """The decision about a comment that certainly asks for nothing, or None to read it.

    Most comments hold no command and no mention, and GitHub sends each of them to the
    App. For those the decision is the one `comment_read_in_full` makes, at a third of
    its cost (a sixth once the bot's login is known and the full reading looks for
    mentions too): the payload is checked to fit `IssueCommentEvent` without building
    it (handlers.shapes), the sender is screened as there, and the body is looked at
    only for a line that may start a command or an `@` that may be a mention. Anything
    that check is unsure of is read in full.
    """
    payload = ctx.payload
    if not _FITS_COMMENT_EVENT(payload):
        return None
    sender = Account.model_validate(payload["sender"])
    if (refusal := screen_sender(sender, ctx.bot_login, ctx.allowed_bots)) is not None:
        return refusal
    body = payload["comment"].get("body") or ""
    if may_hold_command(body):
        return None
    slug = slug_of(ctx.bot_login)
    if slug is not None and may_mention(body, slug):
        return None
    return NO_VISIBLE_COMMAND


def comment_read_in_full(ctx: Context) -> Decision:
    """The decision about a new comment, from the payload read as `IssueCommentEvent`."""
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
