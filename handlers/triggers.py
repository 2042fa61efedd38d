"""Slash commands and labels that start roles, as decisions a handler can make blind.

A handler cannot know which roles a repository has or what its `.github/rolecall.yml`
maps: those live on the default branch, and handlers do no I/O. So every visible
`/name` on an issue becomes a `StartJob` carrying the command as typed, every label
becomes one carrying the label, and the worker resolves them (`handlers.roles`) before it
acknowledges anything; a `/shrug` that names nothing ends there, silently.

Rolecall's own commands are told apart here, because their kind of job differs:
`/implement` runs a role through the implement playbook like any role command,
`/help`, `/status`, `/cancel` and `/retry` are small control jobs, and `/ci` (on a pull
request) lets CI run on Rolecall's pushes (bot.jobs.ci_gate); it runs no agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from handlers.command_names import (
    BUILTIN_COMMANDS,
    CI,
    CONTINUE,
    CONTROL_COMMANDS,
    IMPLEMENT,
)
from handlers.commands import Command
from handlers.decisions import Decision, Ignore, Reply, StartJob
from handlers.events import IssueCommentEvent, IssuesEvent, Label

IMPLEMENTER = "implementer"
NOT_AN_APP_DELIVERY = Ignore("no installation in the payload: not a delivery to the GitHub App")
NO_VISIBLE_COMMAND = Ignore("no visible command in the comment")


def issue_command(event: IssueCommentEvent, commands: Sequence[Command]) -> Decision:
    """What a comment's commands ask of its issue: a job, a reply, or nothing."""
    command = pick_command(commands)
    if command is None:
        return NO_VISIBLE_COMMAND
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


def pick_command(commands: Sequence[Command]) -> Command | None:
    """The command a comment gives: its first built-in one, else its first one.

    `commands` are the comment's visible commands in order (handlers.commands). Built-ins
    win so that `/cc @bob` on the line before `/implement` still implements.
    """
    return next((c for c in commands if c.name in BUILTIN_COMMANDS), None) or next(
        iter(commands), None
    )


def comment_job(
    event: IssueCommentEvent,
    trigger_command: Command,
    installation_id: int,
    *,
    kind: str,
    role: str,
    **extra: Any,
) -> StartJob:
    """A job started by `trigger_command` in `event`'s comment, with the thread as it was."""
    return StartJob(
        kind=kind,
        role=role,
        repo_full_name=event.repository.full_name,
        repo_id=event.repository.id,
        installation_id=installation_id,
        issue_number=event.issue.number,
        is_pull_request=event.issue.is_pull_request,
        comment_id=event.comment.id,
        sender_login=event.sender.login,
        notes=trigger_command.notes,
        trigger_at=event.comment.created_at,
        trigger="comment",
        issue_title=event.issue.title,
        issue_body=event.issue.body or "",
        **extra,
    )


def command_job(event: IssueCommentEvent, command: Command, installation_id: int) -> StartJob:
    """The job for one visible command on an issue or a pull request's conversation."""
    kind, role, extra = command_work(command, event.sender.login, event.issue.number)
    return comment_job(event, command, installation_id, kind=kind, role=role, **extra)


def command_work(command: Command, sender: str, number: int) -> tuple[str, str, dict[str, str]]:
    """The kind of job a command asks for, the role it names, and what else the job records.

    Where the command was written (an issue comment, an inline review comment) does not
    change what it asks for; each caller builds its own job from these.
    """
    if command.name in (CI, CONTINUE, *CONTROL_COMMANDS):
        # A job of its own kind that runs no named role (so its reason names none): /ci is
        # refused on an issue by the worker, /continue finds the run to resume and its role.
        reason = f"/{command.name} by @{sender} on #{number}"
        return command.name, "", {"command": command.name, "reason": reason}
    role = IMPLEMENTER if command.name == IMPLEMENT else command.name
    return IMPLEMENT, role, {"command": command.name, "reason": ""}


def label_job(event: IssuesEvent, label: Label, installation_id: int) -> StartJob:
    """The job for a label someone applied; the labeler is the one who asked."""
    issue = event.issue
    return StartJob(
        kind=IMPLEMENT,
        role=label.name.removeprefix("rolecall:").strip() or label.name,
        repo_full_name=event.repository.full_name,
        repo_id=event.repository.id,
        installation_id=installation_id,
        issue_number=issue.number,
        is_pull_request=issue.is_pull_request,
        comment_id=None,
        sender_login=event.sender.login,
        notes="",
        # When the label was applied: the issue's last update is the labeling itself.
        trigger_at=issue.updated_at or issue.created_at,
        trigger="label",
        label=label.name,
        issue_title=issue.title,
        issue_body=issue.body or "",
    )
