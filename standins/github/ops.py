"""What changes GitHub (issues side): each operation mutates state and returns its webhooks.

The REST handlers (acting as `rolecall[bot]`) and the people a test plays (alice
commenting, bob pushing) call the same operations, so the bot's comment and a
person's comment are stored, serialized and announced identically. Operations run
under the state lock and only *build* events; callers send them after the lock is
released, because a webhook receiver may call straight back into the API.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, validation_failed
from .records import (
    REACTIONS,
    Issue,
    IssueComment,
    Reaction,
    Repo,
    User,
    utcnow,
)
from .service import Event, Service

# issues ----------------------------------------------------------------------------


def open_issue(
    svc: Service,
    repo: Repo,
    actor: User,
    title: str,
    body: str | None,
    *,
    labels: list[str] | None = None,
    via_app: bool = False,
) -> tuple[Issue, list[Event]]:
    state = svc.state
    with state.lock:
        now = utcnow()
        issue = Issue(
            id=state.new_id(),
            repo=repo,
            number=repo.next_number,
            title=title,
            body=body,
            user=actor,
            created_at=now,
            updated_at=now,
            labels=[state.label(repo, name) for name in labels or []],
            via_app=via_app,
        )
        repo.next_number += 1
        state.issues[(repo.id, issue.number)] = issue
        event = svc.envelope("issues", repo, actor, "opened", issue=svc.shapes.issue(issue))
        return issue, [event]


def issue_or_pull_event(
    svc: Service, issue: Issue, actor: User, action: str, **extra: Any
) -> Event:
    """PRs announce issue-level changes as `pull_request` events, issues as `issues`."""
    pull = svc.state.pull_or_none(issue.repo, issue.number)
    if pull is not None:
        return svc.envelope(
            "pull_request",
            issue.repo,
            actor,
            action,
            number=issue.number,
            pull_request=svc.shapes.pull(pull),
            **extra,
        )
    return svc.envelope("issues", issue.repo, actor, action, issue=svc.shapes.issue(issue), **extra)


def update_issue(
    svc: Service,
    issue: Issue,
    actor: User,
    *,
    title: str | None = None,
    body: str | None = None,
    state: str | None = None,
    state_reason: str | None = None,
) -> list[Event]:
    events: list[Event] = []
    with svc.state.lock:
        changes: dict[str, Any] = {}
        if title is not None and title != issue.title:
            changes["title"] = {"from": issue.title}
            issue.title = title
        if body is not None and body != issue.body:
            changes["body"] = {"from": issue.body}
            issue.body = body
        issue.updated_at = utcnow()
        if changes:
            events.append(issue_or_pull_event(svc, issue, actor, "edited", changes=changes))
        if state is not None and state != issue.state:
            if state not in ("open", "closed"):
                raise validation_failed({"resource": "Issue", "field": "state", "code": "invalid"})
            issue.state = "closed" if state == "closed" else "open"
            issue.closed_at = issue.updated_at if state == "closed" else None
            issue.closed_by = actor if state == "closed" else None
            issue.state_reason = (state_reason or "completed") if state == "closed" else "reopened"
            action = "closed" if state == "closed" else "reopened"
            events.append(issue_or_pull_event(svc, issue, actor, action))
    return events


def add_comment(
    svc: Service, repo: Repo, actor: User, number: int, body: str, *, via_app: bool = False
) -> tuple[IssueComment, list[Event]]:
    state = svc.state
    with state.lock:
        issue = state.issue(repo, number)
        now = utcnow()
        comment = IssueComment(
            id=state.new_id(),
            repo=repo,
            issue_number=number,
            user=actor,
            body=body,
            created_at=now,
            updated_at=now,
            via_app=via_app,
        )
        state.comments[comment.id] = comment
        issue.updated_at = now
        event = svc.envelope(
            "issue_comment",
            repo,
            actor,
            "created",
            issue=svc.shapes.issue(issue),
            comment=svc.shapes.comment(comment),
        )
        return comment, [event]


def edit_comment(svc: Service, comment: IssueComment, actor: User, body: str) -> list[Event]:
    with svc.state.lock:
        old = comment.body
        comment.body = body
        comment.updated_at = utcnow()
        issue = svc.state.issue(comment.repo, comment.issue_number)
        return [
            svc.envelope(
                "issue_comment",
                comment.repo,
                actor,
                "edited",
                changes={"body": {"from": old}},
                issue=svc.shapes.issue(issue),
                comment=svc.shapes.comment(comment),
            )
        ]


def delete_comment(svc: Service, comment: IssueComment, actor: User) -> list[Event]:
    with svc.state.lock:
        issue = svc.state.issue(comment.repo, comment.issue_number)
        shape = svc.shapes.comment(comment)
        del svc.state.comments[comment.id]
        return [
            svc.envelope(
                "issue_comment",
                comment.repo,
                actor,
                "deleted",
                issue=svc.shapes.issue(issue),
                comment=shape,
            )
        ]


def add_labels(svc: Service, issue: Issue, actor: User, names: list[str]) -> list[Event]:
    events: list[Event] = []
    with svc.state.lock:
        for name in names:
            label = svc.state.label(issue.repo, name)
            if label in issue.labels:
                continue
            issue.labels.append(label)
            issue.updated_at = utcnow()
            events.append(
                issue_or_pull_event(
                    svc, issue, actor, "labeled", label=svc.shapes.label(issue.repo, label)
                )
            )
    return events


def remove_label(svc: Service, issue: Issue, actor: User, name: str) -> list[Event]:
    with svc.state.lock:
        label = next((lb for lb in issue.labels if lb.name.lower() == name.lower()), None)
        if label is None:
            raise ApiError(404, "Label does not exist")
        issue.labels.remove(label)
        issue.updated_at = utcnow()
        return [
            issue_or_pull_event(
                svc, issue, actor, "unlabeled", label=svc.shapes.label(issue.repo, label)
            )
        ]


def react(
    svc: Service, actor: User, kind: str, subject_id: int, content: str
) -> tuple[Reaction, bool]:
    """Add a reaction; an identical one already there is returned with created=False."""
    if content not in REACTIONS:
        raise validation_failed({"resource": "Reaction", "code": "invalid", "field": "content"})
    with svc.state.lock:
        existing = svc.state.reactions_of(kind, subject_id)
        for reaction in existing:
            if reaction.user is actor and reaction.content == content:
                return reaction, False
        reaction = Reaction(id=svc.state.new_id(), user=actor, content=content, created_at=utcnow())
        existing.append(reaction)
        return reaction, True
