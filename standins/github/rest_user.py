"""REST for a user access token: who I am, and which of the App's repositories I can reach.

`GET /user`, `GET /user/installations` and `GET /user/installations/{id}/repositories`,
as GitHub answers them for a GitHub App's user token (standins.github.oauth): only the
installations and repositories where the person has explicit access (a collaborator
permission, or owning the repository), each repository carrying the person's own
`permissions` (`admin`, `maintain`, `push`, `triage`, `pull`). An installation token is
refused (403), as GitHub refuses it on these endpoints.
"""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .exchange import Request, Response, int_param, paginate
from .records import LEVELS, Level, Repo, User, iso
from .router import Router
from .service import Service

router = Router()

# The highest level each `permissions` flag needs (GitHub's role hierarchy).
_FLAGS: dict[str, Level] = {
    "admin": "admin",
    "maintain": "maintain",
    "push": "write",
    "triage": "triage",
    "pull": "read",
}


def level_of(repo: Repo, user: User) -> Level:
    """The person's role on the repository: its owner administers it."""
    if repo.owner.id == user.id:
        return "admin"
    return repo.permissions.get(user.login.lower(), "none")


def permission_flags(level: Level) -> dict[str, bool]:
    rank = LEVELS.index(level)
    return {flag: rank >= LEVELS.index(needed) for flag, needed in _FLAGS.items()}


def _reachable(svc: Service, user: User) -> list[Repo]:
    """Installed repositories the person has explicit access to, by id."""
    with svc.state.lock:
        repos = [
            repo
            for repo in svc.state.repos.values()
            if repo.installation_id is not None and level_of(repo, user) != "none"
        ]
    return sorted(repos, key=lambda repo: repo.id)


@router.add("GET", "/user")
def authenticated_user(svc: Service, request: Request, params: dict[str, str]) -> Response:
    user = svc.auth.require_user(request.caller).user
    with svc.state.lock:
        shape: dict[str, Any] = svc.shapes.user(user)
        owned = [r for r in svc.state.repos.values() if r.owner.id == user.id]
    created = iso(min((r.created_at for r in owned), default=None)) or "2020-01-01T00:00:00Z"
    shape.update(
        name=None,
        company=None,
        blog="",
        location=None,
        email=None,
        hireable=None,
        bio=None,
        twitter_username=None,
        public_repos=sum(1 for r in owned if not r.private),
        public_gists=0,
        followers=0,
        following=0,
        created_at=created,
        updated_at=created,
        private_gists=0,
        total_private_repos=sum(1 for r in owned if r.private),
        owned_private_repos=sum(1 for r in owned if r.private),
        disk_usage=0,
        collaborators=0,
        two_factor_authentication=True,
    )
    return Response(200, shape)


@router.add("GET", "/user/installations")
def user_installations(svc: Service, request: Request, params: dict[str, str]) -> Response:
    user = svc.auth.require_user(request.caller).user
    ids = {repo.installation_id for repo in _reachable(svc, user)}
    with svc.state.lock:
        shapes = [
            svc.shapes.installation(inst)
            for inst_id, inst in sorted(svc.state.installations.items())
            if inst_id in ids
        ]
    page = paginate(request, svc.base_url, shapes)
    page.body = {"total_count": len(shapes), "installations": page.body}
    return page


@router.add("GET", "/user/installations/{installation_id}/repositories")
def user_installation_repositories(
    svc: Service, request: Request, params: dict[str, str]
) -> Response:
    user = svc.auth.require_user(request.caller).user
    installation_id = int_param(params["installation_id"])
    repos = [r for r in _reachable(svc, user) if r.installation_id == installation_id]
    if not repos:
        raise not_found()  # not installed, or nothing there this person may see
    with svc.state.lock:
        shapes = [
            {**svc.shapes.repo(repo), "permissions": permission_flags(level_of(repo, user))}
            for repo in repos
        ]
    page = paginate(request, svc.base_url, shapes)
    page.body = {
        "total_count": len(shapes),
        "repository_selection": "all",
        "repositories": page.body,
    }
    return page
