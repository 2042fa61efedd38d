"""REST: issues, issue comments and labels, acting as the App's bot user.

Whatever the App does here is attributed to `rolecall[bot]` and announced with the
same webhooks a person's action would cause (GitHub sends an App its own events;
Rolecall must recognise and ignore them).
"""

from __future__ import annotations

from typing import Any

from . import ops
from .errors import ApiError, validation_failed
from .exchange import Request, Response, body_field, int_param, paginate, require_body
from .records import Issue, IssueComment, Repo
from .router import Router
from .service import Service

router = Router()


def _permission(svc: Service, repo: Repo, number: int) -> tuple[str, ...]:
    """A PR's conversation is reachable with issues or pull_requests permission."""
    if svc.state.pull_or_none(repo, number) is not None:
        return ("issues", "pull_requests")
    return ("issues",)


def _issue(
    svc: Service, request: Request, params: dict[str, str], level: str
) -> tuple[Repo, Issue]:
    token = svc.auth.require_token(request.caller)
    repo = svc.state.repo(f"{params['owner']}/{params['repo']}")
    if not svc.auth.can_see(token, repo):
        raise ApiError(404, "Not Found")
    number = int_param(params["issue_number"])
    svc.auth.require_repo(token, repo, _permission(svc, repo, number), level)
    return repo, svc.state.issue(repo, number)


def _labels_in(body: Any) -> list[str]:
    raw = body.get("labels") if isinstance(body, dict) else body
    if not isinstance(raw, list):
        raise validation_failed({"resource": "Label", "code": "invalid", "field": "labels"})
    names: list[str] = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name:
            raise validation_failed({"resource": "Label", "code": "invalid", "field": "name"})
        names.append(name)
    return names


# issues ----------------------------------------------------------------------------


@router.add("POST", "/repos/{owner}/{repo}/issues")
def create_issue(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "issues", "write")
    title = body_field(request, "title", str, required=True)
    body = body_field(request, "body", str)
    labels = body_field(request, "labels", list)
    issue, events = ops.open_issue(
        svc,
        repo,
        svc.bot(),
        title,
        body,
        labels=_labels_in({"labels": labels}) if labels else None,
        via_app=True,
    )
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(201, svc.shapes.issue(issue))


@router.add("GET", "/repos/{owner}/{repo}/issues/{issue_number}")
def get_issue(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, issue = _issue(svc, request, params, "read")
    with svc.state.lock:
        return Response(200, svc.shapes.issue(issue))


@router.add("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}")
def update_issue(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, issue = _issue(svc, request, params, "write")
    body = require_body(request)
    events = ops.update_issue(
        svc,
        issue,
        svc.bot(),
        title=body_field(request, "title", str),
        body=body_field(request, "body", str),
        state=body_field(request, "state", str),
        state_reason=body_field(request, "state_reason", str),
    )
    if "labels" in body:
        wanted = _labels_in(body)
        with svc.state.lock:
            current = [label.name for label in issue.labels]
            for name in current:
                if name.lower() not in {w.lower() for w in wanted}:
                    events += ops.remove_label(svc, issue, svc.bot(), name)
        events += ops.add_labels(svc, issue, svc.bot(), wanted)
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(200, svc.shapes.issue(issue))


# comments --------------------------------------------------------------------------


@router.add("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def list_comments(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, issue = _issue(svc, request, params, "read")
    since = request.query.get("since")
    with svc.state.lock:
        comments = svc.state.issue_comments(repo, issue.number)
        items = [svc.shapes.comment(c) for c in comments]
    if since:
        items = [c for c in items if c["updated_at"] >= since]
    return paginate(request, svc.base_url, items)


@router.add("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments")
def create_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, issue = _issue(svc, request, params, "write")
    body = body_field(request, "body", str, required=True)
    comment, events = ops.add_comment(svc, repo, svc.bot(), issue.number, body, via_app=True)
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(201, svc.shapes.comment(comment))


def _comment_access(
    svc: Service, request: Request, params: dict[str, str], level: str
) -> IssueComment:
    token = svc.auth.require_token(request.caller)
    repo = svc.state.repo(f"{params['owner']}/{params['repo']}")
    if not svc.auth.can_see(token, repo):
        raise ApiError(404, "Not Found")
    comment = svc.state.comment(repo, int_param(params["comment_id"]))
    svc.auth.require_repo(token, repo, _permission(svc, repo, comment.issue_number), level)
    return comment


@router.add("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def get_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    comment = _comment_access(svc, request, params, "read")
    with svc.state.lock:
        return Response(200, svc.shapes.comment(comment))


@router.add("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def update_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    comment = _comment_access(svc, request, params, "write")
    body = body_field(request, "body", str, required=True)
    events = ops.edit_comment(svc, comment, svc.bot(), body)
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(200, svc.shapes.comment(comment))


@router.add("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}")
def delete_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    comment = _comment_access(svc, request, params, "write")
    svc.deliver(ops.delete_comment(svc, comment, svc.bot()), wait=False)
    return Response(204)


# labels ----------------------------------------------------------------------------


def _label_list(svc: Service, repo: Repo, issue: Issue) -> Response:
    with svc.state.lock:
        return Response(200, [svc.shapes.label(repo, label) for label in issue.labels])


@router.add("GET", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def list_labels(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, issue = _issue(svc, request, params, "read")
    return _label_list(svc, repo, issue)


@router.add("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels")
def add_labels(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, issue = _issue(svc, request, params, "write")
    events = ops.add_labels(svc, issue, svc.bot(), _labels_in(request.json))
    svc.deliver(events, wait=False)
    return _label_list(svc, repo, issue)


@router.add("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name*}")
def remove_label(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, issue = _issue(svc, request, params, "write")
    svc.deliver(ops.remove_label(svc, issue, svc.bot(), params["name"]), wait=False)
    return _label_list(svc, repo, issue)
