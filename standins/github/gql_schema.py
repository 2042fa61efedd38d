"""GraphQL `POST /graphql`: the slice of GitHub's schema Rolecall uses, executed for real.

Review threads exist only in GraphQL on GitHub (REST has no "resolve"), so the
stand-in answers `repository { pullRequest { reviewThreads { ... } } }` and the
`resolveReviewThread` / `unresolveReviewThread` mutations. Anything else gets the
error shapes GitHub uses (`undefinedField`, `NOT_FOUND`, `FORBIDDEN`), with HTTP 200
as on GitHub, so a client sees the same failure it would in production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import ops_reviews
from .gql_parse import (
    Document,
    Field,
    FragmentSpread,
    GraphQLSyntaxError,
    InlineFragment,
    Selection,
    parse,
    resolve_value,
)
from .records import Pull, Repo, ReviewComment, ReviewThread, Token, User, iso
from .service import Service


class GqlError(Exception):
    def __init__(self, message: str, type: str | None = None, **extensions: Any) -> None:
        super().__init__(message)
        self.type = type
        self.extensions = extensions


@dataclass
class Ctx:
    svc: Service
    token: Token
    variables: dict[str, Any]
    fragments: dict[str, list[Selection]]
    errors: list[dict[str, Any]] = field(default_factory=list)
    fatal: bool = False


Resolver = Callable[[Any, dict[str, Any], Ctx], Any]


@dataclass
class Obj:
    """A GraphQL object: a type name, the record behind it, and its field resolvers."""

    typename: str
    value: Any
    fields: dict[str, Resolver]


# the schema --------------------------------------------------------------------------


def _edge(typename: str, node: Any, cursor: str) -> Obj:
    return Obj(
        f"{typename}Edge",
        node,
        {"cursor": lambda v, a, c: cursor, "node": lambda v, a, c: v},
    )


def _connection(typename: str, items: list[Any], args: dict[str, Any]) -> Obj:
    """A Relay connection with `first`/`after`, as GitHub paginates everything."""
    start = int(args["after"]) if args.get("after") else 0
    first = args.get("first")
    last = args.get("last")
    window = items[start:]
    if first is not None:
        window = window[: int(first)]
    elif last is not None:
        start = max(start, len(items) - int(last))
        window = items[start:]
    end = start + len(window)
    page_info = Obj(
        "PageInfo",
        None,
        {
            "hasNextPage": lambda v, a, c: end < len(items),
            "hasPreviousPage": lambda v, a, c: start > 0,
            "startCursor": lambda v, a, c: str(start) if window else None,
            "endCursor": lambda v, a, c: str(end) if window else None,
        },
    )
    edges = [_edge(typename, node, str(start + i + 1)) for i, node in enumerate(window)]
    return Obj(
        f"{typename}Connection",
        None,
        {
            "totalCount": lambda v, a, c: len(items),
            "nodes": lambda v, a, c: window,
            "edges": lambda v, a, c: edges,
            "pageInfo": lambda v, a, c: page_info,
        },
    )


def _actor(user: User | None) -> Obj | None:
    if user is None:
        return None
    return Obj(
        "Bot" if user.type == "Bot" else "User",
        user,
        {
            "login": lambda v, a, c: v.login.removesuffix("[bot]"),
            "id": lambda v, a, c: v.node_id,
            "databaseId": lambda v, a, c: v.id,
        },
    )


def _comment(comment: ReviewComment) -> Obj:
    def url(v: ReviewComment, a: dict[str, Any], c: Ctx) -> str:
        return f"{c.svc.base_url}/{v.repo.full_name}/pull/{v.pull_number}#discussion_r{v.id}"

    def reply_to(v: ReviewComment, a: dict[str, Any], c: Ctx) -> Obj | None:
        if v.in_reply_to_id is None:
            return None
        return _comment(c.svc.state.review_comments[v.in_reply_to_id])

    return Obj(
        "PullRequestReviewComment",
        comment,
        {
            "id": lambda v, a, c: f"PRRC_{v.id}",
            "databaseId": lambda v, a, c: v.id,
            "fullDatabaseId": lambda v, a, c: str(v.id),
            "body": lambda v, a, c: v.body,
            "path": lambda v, a, c: v.path,
            "line": lambda v, a, c: v.line,
            "diffHunk": lambda v, a, c: v.diff_hunk,
            "createdAt": lambda v, a, c: iso(v.created_at),
            "updatedAt": lambda v, a, c: iso(v.updated_at),
            "author": lambda v, a, c: _actor(v.user),
            "url": url,
            "replyTo": reply_to,
        },
    )


def _thread(thread: ReviewThread) -> Obj:
    def comments(v: ReviewThread, a: dict[str, Any], c: Ctx) -> Obj:
        items = [_comment(c.svc.state.review_comments[i]) for i in v.comment_ids]
        return _connection("PullRequestReviewComment", items, a)

    return Obj(
        "PullRequestReviewThread",
        thread,
        {
            "id": lambda v, a, c: v.node_id,
            "isResolved": lambda v, a, c: v.resolved_by is not None,
            "isOutdated": lambda v, a, c: False,
            "isCollapsed": lambda v, a, c: v.resolved_by is not None,
            "path": lambda v, a, c: v.path,
            "line": lambda v, a, c: v.line,
            "diffSide": lambda v, a, c: "RIGHT",
            "resolvedBy": lambda v, a, c: _actor(v.resolved_by),
            "viewerCanResolve": lambda v, a, c: c.svc.auth.has(c.token, "pull_requests", "write"),
            "comments": comments,
        },
    )


def _pull(pull: Pull) -> Obj:
    def threads(v: Pull, a: dict[str, Any], c: Ctx) -> Obj:
        if not c.svc.auth.has(c.token, "pull_requests", "read"):
            raise GqlError("Resource not accessible by integration", "FORBIDDEN")
        items = [_thread(t) for t in c.svc.state.pull_threads(v.issue.repo, v.issue.number)]
        return _connection("PullRequestReviewThread", items, a)

    def state(v: Pull, a: dict[str, Any], c: Ctx) -> str:
        if v.merged_at:
            return "MERGED"
        return "OPEN" if v.issue.state == "open" else "CLOSED"

    return Obj(
        "PullRequest",
        pull,
        {
            "id": lambda v, a, c: f"PR_{v.id}",
            "databaseId": lambda v, a, c: v.id,
            "number": lambda v, a, c: v.issue.number,
            "title": lambda v, a, c: v.issue.title,
            "body": lambda v, a, c: v.issue.body or "",
            "state": state,
            "isDraft": lambda v, a, c: v.draft,
            "headRefName": lambda v, a, c: v.head_ref,
            "headRefOid": lambda v, a, c: v.head_sha,
            "baseRefName": lambda v, a, c: v.base_ref,
            "baseRefOid": lambda v, a, c: v.base_sha,
            "url": lambda v, a, c: (
                f"{c.svc.base_url}/{v.issue.repo.full_name}/pull/{v.issue.number}"
            ),
            "author": lambda v, a, c: _actor(v.issue.user),
            "reviewThreads": threads,
        },
    )


def _repository(repo: Repo) -> Obj:
    def pull_request(v: Repo, a: dict[str, Any], c: Ctx) -> Obj:
        pull = c.svc.state.pull_or_none(v, int(a.get("number") or 0))
        if pull is None:
            raise GqlError(
                f"Could not resolve to a PullRequest with the number of {a.get('number')}.",
                "NOT_FOUND",
            )
        return _pull(pull)

    return Obj(
        "Repository",
        repo,
        {
            "id": lambda v, a, c: f"R_{v.id}",
            "databaseId": lambda v, a, c: v.id,
            "name": lambda v, a, c: v.name,
            "nameWithOwner": lambda v, a, c: v.full_name,
            "url": lambda v, a, c: f"{c.svc.base_url}/{v.full_name}",
            "defaultBranchRef": lambda v, a, c: Obj(
                "Ref", v, {"name": lambda r, a2, c2: r.default_branch}
            ),
            "pullRequest": pull_request,
        },
    )


def _query_root() -> Obj:
    def repository(v: Any, a: dict[str, Any], c: Ctx) -> Obj:
        full = f"{a.get('owner')}/{a.get('name')}"
        with c.svc.state.lock:
            repo = c.svc.state.repos.get(full.lower())
        if repo is None or not c.svc.auth.can_see(c.token, repo):
            raise GqlError(
                f"Could not resolve to a Repository with the name '{full}'.", "NOT_FOUND"
            )
        return _repository(repo)

    return Obj("Query", None, {"repository": repository})


def _set_resolved(resolved: bool) -> Resolver:
    def mutate(v: Any, a: dict[str, Any], c: Ctx) -> Obj:
        data = a.get("input") or {}
        thread_id = data.get("threadId")
        thread = c.svc.state.thread_by_node_id(str(thread_id))
        if thread is None or not c.svc.auth.can_see(c.token, thread.repo):
            raise GqlError(
                f"Could not resolve to a node with the global id of '{thread_id}'", "NOT_FOUND"
            )
        if not c.svc.auth.has(c.token, "pull_requests", "write"):
            raise GqlError("Resource not accessible by integration", "FORBIDDEN")
        ops_reviews.resolve_thread(c.svc, thread, c.svc.bot(), resolved)
        payload = "ResolveReviewThreadPayload" if resolved else "UnresolveReviewThreadPayload"
        return Obj(
            payload,
            thread,
            {
                "thread": lambda t, a2, c2: _thread(t),
                "clientMutationId": lambda t, a2, c2: data.get("clientMutationId"),
            },
        )

    return mutate


def _mutation_root() -> Obj:
    return Obj(
        "Mutation",
        None,
        {
            "resolveReviewThread": _set_resolved(True),
            "unresolveReviewThread": _set_resolved(False),
        },
    )


# execution ---------------------------------------------------------------------------


def _fields(selections: list[Selection], ctx: Ctx) -> list[Field]:
    """Flatten fragments into the fields they contribute (type conditions trusted)."""
    out: list[Field] = []
    for selection in selections:
        if isinstance(selection, Field):
            out.append(selection)
        elif isinstance(selection, InlineFragment):
            out += _fields(selection.selections, ctx)
        elif isinstance(selection, FragmentSpread):
            out += _fields(ctx.fragments.get(selection.name, []), ctx)
    return out


def _complete(value: Any, node: Field, ctx: Ctx, path: list[Any]) -> Any:
    if isinstance(value, list):
        return [_complete(v, node, ctx, [*path, i]) for i, v in enumerate(value)]
    if isinstance(value, Obj):
        if not node.selections:
            raise GqlError(
                f"Field must have selections (field '{node.name}' returns {value.typename} "
                "but has no selections)",
                None,
                code="selectionMismatch",
            )
        return _select(value, node.selections, ctx, path)
    if node.selections and value is not None:
        raise GqlError(
            f"Selections can't be made on scalars (field '{node.name}')",
            None,
            code="selectionMismatch",
        )
    return value


def _select(obj: Obj, selections: list[Selection], ctx: Ctx, path: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for node in _fields(selections, ctx):
        here = [*path, node.key]
        if node.name == "__typename":
            out[node.key] = obj.typename
            continue
        resolver = obj.fields.get(node.name)
        if resolver is None:
            ctx.fatal = True
            ctx.errors.append(
                {
                    "path": here,
                    "extensions": {
                        "code": "undefinedField",
                        "typeName": obj.typename,
                        "fieldName": node.name,
                    },
                    "locations": [{"line": node.line, "column": node.column}],
                    "message": f"Field '{node.name}' doesn't exist on type '{obj.typename}'",
                }
            )
            continue
        args = {k: resolve_value(v, ctx.variables) for k, v in node.arguments.items()}
        try:
            out[node.key] = _complete(resolver(obj.value, args, ctx), node, ctx, here)
        except GqlError as exc:
            error: dict[str, Any] = {
                "path": here,
                "locations": [{"line": node.line, "column": node.column}],
                "message": str(exc),
            }
            if exc.type:
                error["type"] = exc.type
            if exc.extensions:
                error["extensions"] = exc.extensions
                ctx.fatal = True
            ctx.errors.append(error)
            out[node.key] = None
    return out


def execute(svc: Service, token: Token, body: Any) -> dict[str, Any]:
    """Run one GraphQL request; the answer is always GraphQL-shaped (data and/or errors)."""
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return {
            "errors": [{"message": "A query attribute must be specified and must be a string."}]
        }
    try:
        document: Document = parse(body["query"])
    except GraphQLSyntaxError as exc:
        return {
            "errors": [
                {"message": str(exc), "locations": [{"line": exc.line, "column": exc.column}]}
            ]
        }
    wanted = body.get("operationName")
    operations = [op for op in document.operations if wanted in (None, op.name)]
    if len(operations) != 1:
        return {"errors": [{"message": "An operation name is required"}]}
    operation = operations[0]
    variables = dict(operation.variable_defaults)
    variables.update(body.get("variables") or {})
    ctx = Ctx(svc, token, variables, document.fragments)
    root = _mutation_root() if operation.kind == "mutation" else _query_root()
    data = _select(root, operation.selections, ctx, [])
    if ctx.fatal:
        return {"errors": ctx.errors}
    if ctx.errors:
        return {"data": data, "errors": ctx.errors}
    return {"data": data}
