"""REST: reactions on issues, issue comments and review comments.

GitHub answers 201 for a new reaction and 200 with the existing one when the same
user already reacted with the same content; Rolecall's 👀 acknowledgement relies
on that to be idempotent across redeliveries.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import ops
from .errors import ApiError
from .exchange import Request, Response, body_field, int_param, paginate
from .records import Repo
from .router import Router
from .service import Service

router = Router()


@dataclass(frozen=True)
class _Subject:
    kind: str  # key space in State.reactions
    id: int
    permission: tuple[str, ...]


def _subject(svc: Service, repo: Repo, kind: str, raw_id: str) -> _Subject:
    number_or_id = int_param(raw_id)
    if kind == "issue":
        issue = svc.state.issue(repo, number_or_id)
        is_pull = svc.state.pull_or_none(repo, issue.number) is not None
        return _Subject("issue", issue.id, ("issues", "pull_requests") if is_pull else ("issues",))
    if kind == "comment":
        comment = svc.state.comment(repo, number_or_id)
        is_pull = svc.state.pull_or_none(repo, comment.issue_number) is not None
        perms = ("issues", "pull_requests") if is_pull else ("issues",)
        return _Subject("comment", comment.id, perms)
    review_comment = svc.state.review_comment(repo, number_or_id)
    return _Subject("review_comment", review_comment.id, ("pull_requests",))


def _resolve(
    svc: Service, request: Request, params: dict[str, str], kind: str, level: str
) -> _Subject:
    token = svc.auth.require_token(request.caller)
    repo = svc.state.repo(f"{params['owner']}/{params['repo']}")
    if not svc.auth.can_see(token, repo):
        raise ApiError(404, "Not Found")
    subject = _subject(svc, repo, kind, params["subject"])
    svc.auth.require_repo(token, repo, subject.permission, level)
    return subject


def _list(svc: Service, request: Request, params: dict[str, str], kind: str) -> Response:
    subject = _resolve(svc, request, params, kind, "read")
    content = request.query.get("content")
    with svc.state.lock:
        items = [
            svc.shapes.reaction(r)
            for r in svc.state.reactions_of(subject.kind, subject.id)
            if content is None or r.content == content
        ]
    return paginate(request, svc.base_url, items)


def _create(svc: Service, request: Request, params: dict[str, str], kind: str) -> Response:
    subject = _resolve(svc, request, params, kind, "write")
    content = body_field(request, "content", str, required=True)
    reaction, created = ops.react(svc, svc.bot(), subject.kind, subject.id, content)
    with svc.state.lock:
        return Response(201 if created else 200, svc.shapes.reaction(reaction))


def _delete(svc: Service, request: Request, params: dict[str, str], kind: str) -> Response:
    subject = _resolve(svc, request, params, kind, "write")
    reaction_id = int_param(params["reaction_id"])
    with svc.state.lock:
        reactions = svc.state.reactions_of(subject.kind, subject.id)
        for reaction in reactions:
            if reaction.id == reaction_id:
                reactions.remove(reaction)
                return Response(204)
    raise ApiError(404, "Not Found")


_PATHS = {
    "issue": "/repos/{owner}/{repo}/issues/{subject}/reactions",
    "comment": "/repos/{owner}/{repo}/issues/comments/{subject}/reactions",
    "review_comment": "/repos/{owner}/{repo}/pulls/comments/{subject}/reactions",
}


def _bind(kind: str, path: str) -> None:
    """Register list/create/delete for one kind of subject (three kinds, one behaviour)."""

    @router.add("GET", path)
    def list_reactions(svc: Service, request: Request, params: dict[str, str]) -> Response:
        return _list(svc, request, params, kind)

    @router.add("POST", path)
    def create_reaction(svc: Service, request: Request, params: dict[str, str]) -> Response:
        return _create(svc, request, params, kind)

    @router.add("DELETE", path + "/{reaction_id}")
    def delete_reaction(svc: Service, request: Request, params: dict[str, str]) -> Response:
        return _delete(svc, request, params, kind)


for _kind, _path in _PATHS.items():
    _bind(_kind, _path)
