"""REST: reviews and review comments (inline comments, threads, replies).

Inline comments are anchored against the PR's real diff: a line outside the diff
is GitHub's 422 "Line could not be resolved", which Rolecall's reviewer role must
cope with.
"""

from __future__ import annotations

from typing import Any

from . import ops_reviews
from .errors import validation_failed
from .exchange import Request, Response, body_field, int_param, paginate, require_body
from .records import Pull, Repo
from .router import Router
from .service import Service

router = Router()


def _pull(svc: Service, request: Request, params: dict[str, str], level: str) -> tuple[Repo, Pull]:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "pull_requests", level)
    return repo, svc.state.pull(repo, int_param(params["pull_number"]))


@router.add("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def create_review(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, pull = _pull(svc, request, params, "write")
    body = require_body(request)
    comments = body.get("comments") or []
    if not isinstance(comments, list) or not all(isinstance(c, dict) for c in comments):
        raise validation_failed(
            {"resource": "PullRequestReview", "code": "invalid", "field": "comments"}
        )
    review, events = ops_reviews.submit_review(
        svc,
        pull,
        svc.bot(),
        event=str(body.get("event") or ""),
        body=body_field(request, "body", str),
        comments=comments,
        commit_id=body_field(request, "commit_id", str),
    )
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(200, svc.shapes.review(review))


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews")
def list_reviews(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    with svc.state.lock:
        items = [svc.shapes.review(r) for r in svc.state.pull_reviews(repo, pull.issue.number)]
    return paginate(request, svc.base_url, items)


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}")
def get_review(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    with svc.state.lock:
        review = svc.state.review(repo, pull.issue.number, int_param(params["review_id"]))
        return Response(200, svc.shapes.review(review))


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/reviews/{review_id}/comments")
def list_review_comments_of_review(
    svc: Service, request: Request, params: dict[str, str]
) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    with svc.state.lock:
        review = svc.state.review(repo, pull.issue.number, int_param(params["review_id"]))
        items = [
            svc.shapes.review_comment(c)
            for c in svc.state.pull_review_comments(repo, pull.issue.number)
            if c.review_id == review.id
        ]
    return paginate(request, svc.base_url, items)


@router.add("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/comments")
def list_review_comments(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, pull = _pull(svc, request, params, "read")
    with svc.state.lock:
        items = [
            svc.shapes.review_comment(c)
            for c in svc.state.pull_review_comments(repo, pull.issue.number)
        ]
    return paginate(request, svc.base_url, items)


@router.add("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments")
def create_review_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """A standalone inline comment (or, with in_reply_to, a reply)."""
    _, pull = _pull(svc, request, params, "write")
    body = body_field(request, "body", str, required=True)
    data: dict[str, Any] = require_body(request)
    if data.get("in_reply_to") is not None:
        comment, events = ops_reviews.reply(svc, pull, svc.bot(), int(data["in_reply_to"]), body)
    else:
        spec = {
            k: data.get(k) for k in ("path", "line", "side", "start_line", "start_side", "position")
        }
        spec["body"] = body
        review, events = ops_reviews.submit_review(
            svc,
            pull,
            svc.bot(),
            event="COMMENT",
            body=None,
            comments=[spec],
            commit_id=body_field(request, "commit_id", str),
        )
        with svc.state.lock:
            comment = next(
                c for c in svc.state.review_comments.values() if c.review_id == review.id
            )
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(201, svc.shapes.review_comment(comment))


@router.add("POST", "/repos/{owner}/{repo}/pulls/{pull_number}/comments/{comment_id}/replies")
def reply(svc: Service, request: Request, params: dict[str, str]) -> Response:
    _, pull = _pull(svc, request, params, "write")
    body = body_field(request, "body", str, required=True)
    comment, events = ops_reviews.reply(svc, pull, svc.bot(), int_param(params["comment_id"]), body)
    svc.deliver(events, wait=False)
    with svc.state.lock:
        return Response(201, svc.shapes.review_comment(comment))


@router.add("GET", "/repos/{owner}/{repo}/pulls/comments/{comment_id}")
def get_review_comment(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "pull_requests", "read")
    with svc.state.lock:
        comment = svc.state.review_comment(repo, int_param(params["comment_id"]))
        return Response(200, svc.shapes.review_comment(comment))
