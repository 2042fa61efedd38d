"""REST: the Git Data API's commits and refs, on the real bare repository.

`POST /git/commits` writes a commit object with `git commit-tree` (moving no ref), and
`PATCH /git/refs/{ref}` moves a branch with git's compare-and-swap, refusing anything
but a fast-forward unless `force` is true, as GitHub does ("Update is not a fast
forward"). A moved branch is recorded in the activity log under the App's bot and moves
the pull requests that follow it (`pull_request.synchronize`), exactly like a push over
smart HTTP. Errors use GitHub's words: 404 for an unknown commit or ref to read, 422 for
an unknown tree, parent, ref or object to write with.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from . import gitrepo, ops_pulls
from .errors import ApiError
from .exchange import Request, Response, require_body
from .records import Repo, User, utcnow
from .router import Router
from .service import Service

router = Router()

_DOCS = "https://docs.github.com/rest/git"


def _invalid(message: str, page: str) -> ApiError:
    return ApiError(422, message, documentation_url=f"{_DOCS}/{page}")


def _required(body: dict[str, Any], name: str, kind: type, page: str) -> Any:
    """A required body field, with GitHub's schema-validation wording when it is wrong."""
    if body.get(name) is None:
        raise _invalid(f'Invalid request.\n\n"{name}" wasn\'t supplied.', page)
    value = body[name]
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise _invalid(
            f"Invalid request.\n\nFor 'properties/{name}', {value!r} is not a {kind.__name__}.",
            page,
        )
    return value


def _signature(value: Any, field: str, default: gitrepo.Signature) -> gitrepo.Signature:
    """An `author`/`committer` object (name and email required, date optional), or default."""
    if value is None:
        return default
    page = "commits#create-a-commit"
    if not isinstance(value, dict):
        raise _invalid(
            f"Invalid request.\n\nFor 'properties/{field}', {value!r} is not an object.", page
        )
    name = _required(value, "name", str, page)
    email = _required(value, "email", str, page)
    when = default.when
    if value.get("date") is not None:
        try:
            when = datetime.fromisoformat(str(value["date"]).replace("Z", "+00:00"))
        except ValueError:
            raise _invalid(
                f"Invalid request.\n\n{value['date']!r} is not a valid date-time.", page
            ) from None
    if when.tzinfo is None:  # a date without an offset is read as UTC
        when = when.replace(tzinfo=UTC)
    return gitrepo.Signature(name, email, when)


def _bot_signature(bot: User) -> gitrepo.Signature:
    return gitrepo.Signature(bot.login, f"{bot.id}+{bot.login}@users.noreply.github.com", utcnow())


def _date(value: str) -> str:
    return value.replace("+00:00", "Z")


def _commit(svc: Service, repo: Repo, sha: str) -> dict[str, Any]:
    """A commit as the Git Data API shows it (githubkit's `GitCommit`)."""
    info = gitrepo.commit_info(repo.path, sha)
    api = f"{svc.base_url}/repos/{repo.full_name}"
    html = f"{svc.base_url}/{repo.full_name}/commit"
    return {
        "sha": info.sha,
        "node_id": f"C_{info.sha[:20]}",
        "url": f"{api}/git/commits/{info.sha}",
        "html_url": f"{html}/{info.sha}",
        "author": {
            "name": info.author_name,
            "email": info.author_email,
            "date": _date(info.author_date),
        },
        "committer": {
            "name": info.committer_name,
            "email": info.committer_email,
            "date": _date(info.committer_date),
        },
        "tree": {"sha": info.tree, "url": f"{api}/git/trees/{info.tree}"},
        "message": info.message,
        "parents": [
            {"sha": p, "url": f"{api}/git/commits/{p}", "html_url": f"{html}/{p}"}
            for p in info.parents
        ],
        "verification": {
            "verified": False,
            "reason": "unsigned",
            "signature": None,
            "payload": None,
            "verified_at": None,
        },
    }


def _ref(svc: Service, repo: Repo, full_ref: str, sha: str) -> dict[str, Any]:
    """A ref as the Git Data API shows it (githubkit's `GitRef`)."""
    kind = gitrepo.object_type(repo.path, sha) or "commit"
    api = f"{svc.base_url}/repos/{repo.full_name}/git"
    raw = base64.b64encode(f"{repo.id}:{full_ref}".encode()).decode()
    return {
        "ref": full_ref,
        "node_id": f"REF_{raw}",
        "url": f"{api}/{full_ref}",
        "object": {"sha": sha, "type": kind, "url": f"{api}/{kind}s/{sha}"},
    }


@router.add("GET", "/repos/{owner}/{repo}/git/commits/{sha}")
def get_commit(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "read")
    if gitrepo.object_type(repo.path, params["sha"]) != "commit":
        raise ApiError(404, "Not Found", documentation_url=f"{_DOCS}/commits#get-a-commit-object")
    return Response(200, _commit(svc, repo, params["sha"]))


@router.add("POST", "/repos/{owner}/{repo}/git/commits")
def create_commit(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "write")
    body = require_body(request)
    page = "commits#create-a-commit"
    message = _required(body, "message", str, page)
    tree = _required(body, "tree", str, page)
    parents = body.get("parents") or []
    if not isinstance(parents, list) or not all(isinstance(p, str) for p in parents):
        raise _invalid(
            f"Invalid request.\n\nFor 'properties/parents', {parents!r} is not an array.", page
        )
    if gitrepo.object_type(repo.path, tree) != "tree":
        raise _invalid("Tree SHA does not exist", page)
    for parent in parents:
        if gitrepo.object_type(repo.path, parent) != "commit":
            raise _invalid("Parent SHA does not exist or is not a commit object", page)
    # GitHub's defaults: the author is whoever authenticated (here the App's bot), now;
    # the committer is the author.
    author = _signature(body.get("author"), "author", _bot_signature(svc.bot()))
    committer = _signature(body.get("committer"), "committer", author)
    sha = gitrepo.commit_tree(repo.path, tree, parents, message, author, committer)
    return Response(201, _commit(svc, repo, sha))


@router.add("GET", "/repos/{owner}/{repo}/git/ref/{ref*}")
def get_ref(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "read")
    full_ref = f"refs/{params['ref']}"
    sha = gitrepo.refs(repo.path).get(full_ref)
    if sha is None:
        raise ApiError(404, "Not Found", documentation_url=f"{_DOCS}/refs#get-a-reference")
    return Response(200, _ref(svc, repo, full_ref, sha))


@router.add("PATCH", "/repos/{owner}/{repo}/git/refs/{ref*}")
def update_ref(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "write")
    body = require_body(request)
    page = "refs#update-a-reference"
    sha = _required(body, "sha", str, page)
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise _invalid(
            f"Invalid request.\n\nFor 'properties/force', {force!r} is not a boolean.", page
        )
    full_ref = f"refs/{params['ref']}"
    with svc.git_lock(repo):
        before = gitrepo.refs(repo.path)
        old = before.get(full_ref)
        if old is None:
            raise _invalid("Reference does not exist", page)
        kind = gitrepo.object_type(repo.path, sha)
        if kind is None:
            raise _invalid("Object does not exist", page)
        if not force and (kind != "commit" or not gitrepo.is_ancestor(repo.path, old, sha)):
            raise _invalid("Update is not a fast forward", page)
        gitrepo.swap_ref(repo.path, full_ref, sha, old)
        after = gitrepo.refs(repo.path)
        events = ops_pulls.refs_changed(svc, repo, before, after, svc.bot())
    svc.deliver(events, wait=False)
    return Response(200, _ref(svc, repo, full_ref, sha))
