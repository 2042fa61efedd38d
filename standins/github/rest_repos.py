"""REST: repositories, collaborator permission, branches.

Branch data is read from the bare repository on every call, so a push over smart
HTTP is visible at once, as on GitHub.
"""

from __future__ import annotations

from . import gitrepo
from .errors import ApiError
from .exchange import Request, Response, paginate
from .records import LEVELS, Level, Repo, User
from .router import Router
from .service import Service

router = Router()

# The legacy `permission` field folds maintain/triage into write/read.
_LEGACY = {
    "admin": "admin",
    "maintain": "write",
    "write": "write",
    "triage": "read",
    "read": "read",
    "none": "none",
}


def effective_level(repo: Repo, user: User) -> Level:
    """The user's role on the repository: owner is admin, public repos grant read."""
    if user is repo.owner:
        return "admin"
    level = repo.permissions.get(user.login.lower())
    if level is not None:
        return level
    return "none" if repo.private else "read"


@router.add("GET", "/repos/{owner}/{repo}")
def get_repo(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"])
    with svc.state.lock:
        return Response(200, svc.shapes.repo(repo))


@router.add("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission")
def get_permission(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"])
    with svc.state.lock:
        user = svc.state.user(params["username"])
        level = effective_level(repo, user)
        rank = LEVELS.index(level)
        collaborator = svc.shapes.user(user)
        collaborator["permissions"] = {
            "admin": rank >= LEVELS.index("admin"),
            "maintain": rank >= LEVELS.index("maintain"),
            "push": rank >= LEVELS.index("write"),
            "triage": rank >= LEVELS.index("triage"),
            "pull": rank >= LEVELS.index("read"),
        }
        collaborator["role_name"] = level
        body = {"permission": _LEGACY[level], "role_name": level, "user": collaborator}
    return Response(200, body)


@router.add("GET", "/repos/{owner}/{repo}/branches/{branch*}")
def get_branch(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "read")
    sha = gitrepo.rev_parse(repo.path, f"refs/heads/{params['branch']}")
    if sha is None:
        raise ApiError(404, "Branch not found")
    return Response(200, svc.shapes.branch(repo, params["branch"], sha))


@router.add("GET", "/repos/{owner}/{repo}/branches")
def list_branches(svc: Service, request: Request, params: dict[str, str]) -> Response:
    repo, _ = svc.token_repo(request, params["owner"], params["repo"], "contents", "read")
    items = []
    for name, sha in sorted(gitrepo.branches(repo.path).items()):
        items.append(
            {
                "name": name,
                "commit": {
                    "sha": sha,
                    "url": f"{svc.base_url}/repos/{repo.full_name}/commits/{sha}",
                },
                "protected": False,
            }
        )
    return paginate(request, svc.base_url, items)
