"""REST: the App and its installations (`/app/...`, `/installation/repositories`,
`DELETE /installation/token`).

The JWT-only endpoints refuse installation tokens and vice versa, as GitHub does;
`access_tokens` honours `repositories`, `repository_ids` and `permissions` so a
test can prove that a token scoped to one repository cannot touch another.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, not_found
from .exchange import Request, Response, int_param, paginate, require_body
from .records import Installation, Repo, iso
from .router import Router
from .service import Service

router = Router()


def _installation(svc: Service, raw_id: str) -> Installation:
    with svc.state.lock:
        inst = svc.state.installations.get(int_param(raw_id))
    if inst is None:
        raise not_found()
    return inst


def _installed_repos(svc: Service, installation_id: int) -> list[Repo]:
    with svc.state.lock:
        return sorted(
            (r for r in svc.state.repos.values() if r.installation_id == installation_id),
            key=lambda r: r.id,
        )


@router.add("GET", "/app")
def get_app(svc: Service, request: Request, params: dict[str, str]) -> Response:
    svc.auth.require_jwt(request.caller)
    with svc.state.lock:
        return Response(200, svc.shapes.app())


@router.add("GET", "/app/installations")
def list_installations(svc: Service, request: Request, params: dict[str, str]) -> Response:
    svc.auth.require_jwt(request.caller)
    with svc.state.lock:
        items = [svc.shapes.installation(i) for i in svc.state.installations.values()]
    return paginate(request, svc.base_url, items)


@router.add("GET", "/app/installations/{installation_id}")
def get_installation(svc: Service, request: Request, params: dict[str, str]) -> Response:
    svc.auth.require_jwt(request.caller)
    inst = _installation(svc, params["installation_id"])
    with svc.state.lock:
        return Response(200, svc.shapes.installation(inst))


@router.add("POST", "/app/installations/{installation_id}/access_tokens")
def create_token(svc: Service, request: Request, params: dict[str, str]) -> Response:
    svc.auth.require_jwt(request.caller)
    inst = _installation(svc, params["installation_id"])
    body = require_body(request)
    installed = _installed_repos(svc, inst.id)
    names = body.get("repositories")
    ids = body.get("repository_ids")
    chosen: list[Repo] | None = None
    if names or ids:
        by_name = {r.name.lower(): r for r in installed}
        by_id = {r.id: r for r in installed}
        try:
            chosen = [by_name[str(n).lower()] for n in names or []]
            chosen += [by_id[int(i)] for i in ids or []]
        except (KeyError, ValueError):
            raise ApiError(
                422,
                "There is at least one repository that does not exist or is not accessible "
                "to the parent installation.",
            ) from None
    permissions = body.get("permissions")
    if permissions is not None and not isinstance(permissions, dict):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/permissions', not an object.")
    token = svc.auth.issue(
        inst.id,
        svc.token_lifetime,
        repo_ids=frozenset(r.id for r in chosen) if chosen is not None else None,
        permissions=permissions,
    )
    out: dict[str, Any] = {
        "token": token.token,
        "expires_at": iso(token.expires_at),
        "permissions": token.permissions,
        "repository_selection": "selected" if chosen is not None else "all",
    }
    if chosen is not None:
        with svc.state.lock:
            out["repositories"] = [svc.shapes.repo(r) for r in chosen]
    return Response(201, out)


def _installation_for(svc: Service, request: Request, owner: str) -> Response:
    svc.auth.require_jwt(request.caller)
    with svc.state.lock:
        for inst in svc.state.installations.values():
            if inst.account.login.lower() == owner.lower():
                return Response(200, svc.shapes.installation(inst))
    raise not_found()


@router.add("GET", "/repos/{owner}/{repo}/installation")
def repo_installation(svc: Service, request: Request, params: dict[str, str]) -> Response:
    svc.auth.require_jwt(request.caller)
    repo = svc.state.repo(f"{params['owner']}/{params['repo']}")
    if repo.installation_id is None:
        raise not_found()
    return _installation_for(svc, request, repo.owner.login)


@router.add("GET", "/orgs/{org}/installation")
def org_installation(svc: Service, request: Request, params: dict[str, str]) -> Response:
    return _installation_for(svc, request, params["org"])


@router.add("GET", "/users/{username}/installation")
def user_installation(svc: Service, request: Request, params: dict[str, str]) -> Response:
    return _installation_for(svc, request, params["username"])


@router.add("GET", "/installation/repositories")
def installation_repositories(svc: Service, request: Request, params: dict[str, str]) -> Response:
    token = svc.auth.require_token(request.caller)
    repos = [r for r in _installed_repos(svc, token.installation_id) if svc.auth.can_see(token, r)]
    with svc.state.lock:
        shapes = [svc.shapes.repo(r) for r in repos]
    page = paginate(request, svc.base_url, shapes)
    page.body = {
        "total_count": len(shapes),
        "repository_selection": "all" if token.repo_ids is None else "selected",
        "repositories": page.body,
    }
    return page


@router.add("DELETE", "/installation/token")
def revoke_token(svc: Service, request: Request, params: dict[str, str]) -> Response:
    """GitHub's "revoke an installation access token": the caller's own token, 204."""
    token = svc.auth.require_token(request.caller)
    with svc.state.lock:
        svc.state.tokens.pop(token.token, None)
    return Response(204, None)
