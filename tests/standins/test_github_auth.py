"""The stand-in authenticates a GitHub App the way GitHub does.

Tokens are issued only for an RS256 JWT from the App's own key with sane claims;
expired or unknown credentials are 401 "Bad credentials"; a scoped token reaches
only what it was scoped to.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"


def _jwt(gh: GitHubStandIn, **claims: Any) -> str:
    """A JWT with exactly these claims; PyJWS because PyJWT refuses an integer `iss`."""
    now = int(time.time())
    body = {"iss": gh.app_id, "iat": now - 60, "exp": now + 540}
    body.update(claims)
    return jwt.api_jws.PyJWS().encode(
        json.dumps(body).encode(), gh.private_key_pem, algorithm="RS256"
    )


def _post_token(gh: GitHubStandIn, token: str, scheme: str = "Bearer") -> httpx.Response:
    installation_id = gh.installation_id(REPO)
    return httpx.post(
        f"{gh.api_url}/app/installations/{installation_id}/access_tokens",
        headers={"Authorization": f"{scheme} {token}", "Accept": "application/vnd.github+json"},
        timeout=10,
    )


def test_app_auth_strategy_gets_an_installation_token_in_githubs_format(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    installation_id = gh.installation_id(REPO)
    response = app_client.rest.apps.create_installation_access_token(installation_id)
    token = response.parsed_data
    assert response.status_code == 201
    assert token.token.startswith("ghs_")
    # githubkit parses exactly this format to decide when to refresh the token.
    expires = datetime.strptime(token.expires_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert timedelta(minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=1)
    assert token.repository_selection == "all"
    assert token.permissions.issues == "write"


def test_app_endpoints_answer_the_jwt_with_githubs_shapes(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    app = app_client.rest.apps.get_authenticated().parsed_data
    assert app is not None and app.slug == "rolecall" and app.id == gh.app_id
    installations = app_client.rest.apps.list_installations().parsed_data
    assert [i.account.login for i in installations if i.account] == ["octo"]  # type: ignore[union-attr]
    installation = app_client.rest.apps.get_repo_installation("octo", "demo").parsed_data
    assert installation.id == gh.installation_id(REPO)
    assert installation.app_slug == "rolecall"


def test_installation_lists_its_repositories(client: GitHub[Any], gh: GitHubStandIn) -> None:
    gh.create_repo("octo/other")
    listed = client.rest.apps.list_repos_accessible_to_installation().parsed_data
    assert listed.total_count == 2
    assert sorted(r.full_name for r in listed.repositories) == ["octo/demo", "octo/other"]


def test_jwt_signed_by_another_key_gets_401(gh: GitHubStandIn) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = stranger.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    forged = GitHub(AppAuthStrategy(gh.app_id, pem), base_url=gh.api_url, timeout=10)
    with pytest.raises(RequestFailed) as failed:
        forged.rest.apps.create_installation_access_token(gh.installation_id(REPO))
    assert failed.value.response.status_code == 401
    assert failed.value.response.json()["message"] == "A JSON web token could not be decoded"


@pytest.mark.parametrize(
    ("claims", "fragment"),
    [
        # Seconds from now, resolved when the test runs (not when it is collected, which
        # may be minutes earlier in a long run): {"exp": -10} means "expired 10 s ago".
        ({"exp": -10, "iat": -120}, "'Expiration time'"),
        ({"iat": 300, "exp": 600}, "'Issued at'"),
        ({"iat": -30, "exp": 900}, "too far in the future"),
        ({"iss": 999999}, "could not be decoded"),
    ],
)
def test_jwt_with_bad_claims_gets_401(
    gh: GitHubStandIn, claims: dict[str, Any], fragment: str
) -> None:
    now = int(time.time())
    timed = {k: now + v if k in ("iat", "exp") else v for k, v in claims.items()}
    response = _post_token(gh, _jwt(gh, **timed))
    assert response.status_code == 401
    assert fragment in response.json()["message"]


def test_issuer_may_be_a_string_and_both_auth_schemes_work(gh: GitHubStandIn) -> None:
    assert _post_token(gh, _jwt(gh, iss=str(gh.app_id)), "Bearer").status_code == 201
    token = _post_token(gh, _jwt(gh), "token").json()["token"]
    for scheme in ("token", "Bearer"):
        response = httpx.get(
            f"{gh.api_url}/repos/octo/demo",
            headers={"Authorization": f"{scheme} {token}"},
            timeout=10,
        )
        assert response.status_code == 200


def test_expired_token_gets_bad_credentials(gh: GitHubStandIn) -> None:
    expired = gh.issue_token(REPO, expires_in=-1)
    client = GitHub(TokenAuthStrategy(expired), base_url=gh.api_url, timeout=10)
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get("octo", "demo")
    assert failed.value.response.status_code == 401
    assert failed.value.response.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


def test_token_expires_after_token_lifetime(gh: GitHubStandIn) -> None:
    gh.token_lifetime = 1
    token = gh.issue_token(REPO)
    client = GitHub(TokenAuthStrategy(token), base_url=gh.api_url, timeout=10)
    assert client.rest.repos.get("octo", "demo").status_code == 200
    time.sleep(1.2)
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get("octo", "demo")
    assert failed.value.response.status_code == 401


def test_app_auth_strategy_fetches_a_new_token_when_the_old_one_expired(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    gh.token_lifetime = 1
    client = app_client.with_auth(app_client.auth.as_installation(gh.installation_id(REPO)))
    assert client.rest.repos.get("octo", "demo").status_code == 200
    time.sleep(1.2)
    assert client.rest.repos.get("octo", "demo").status_code == 200
    minted = [r for r in gh.requests if r.path.endswith("/access_tokens")]
    assert len(minted) == 2


def test_token_scoped_to_one_repository_cannot_see_another(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    gh.create_repo("octo/other")
    scoped = app_client.with_auth(
        app_client.auth.as_installation(gh.installation_id(REPO), repositories=["demo"])
    )
    assert scoped.rest.repos.get("octo", "demo").parsed_data.full_name == REPO
    with pytest.raises(RequestFailed) as failed:
        scoped.rest.repos.get("octo", "other")
    assert failed.value.response.status_code == 404
    assert failed.value.response.json()["message"] == "Not Found"


def test_scoping_to_a_repository_outside_the_installation_is_422(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    with pytest.raises(RequestFailed) as failed:
        app_client.rest.apps.create_installation_access_token(
            gh.installation_id(REPO), repositories=["nope"]
        )
    assert failed.value.response.status_code == 422


def test_permission_not_granted_to_the_token_is_403(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    read_only = app_client.with_auth(
        app_client.auth.as_installation(gh.installation_id(REPO), permissions={"issues": "read"})
    )
    number = gh.open_issue(REPO, "alice", "A bug", "details")
    assert read_only.rest.issues.get("octo", "demo", number).parsed_data.title == "A bug"
    with pytest.raises(RequestFailed) as failed:
        read_only.rest.issues.create_comment("octo", "demo", number, body="hi")
    assert failed.value.response.status_code == 403
    assert failed.value.response.json()["message"] == "Resource not accessible by integration"


def test_requesting_more_than_the_app_was_granted_is_422(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    with pytest.raises(RequestFailed) as failed:
        app_client.rest.apps.create_installation_access_token(
            gh.installation_id(REPO), permissions={"administration": "write"}
        )
    assert failed.value.response.status_code == 422


def test_jwt_is_refused_where_an_installation_token_is_needed_and_vice_versa(
    gh: GitHubStandIn,
) -> None:
    as_jwt = httpx.get(
        f"{gh.api_url}/repos/octo/demo",
        headers={"Authorization": f"Bearer {_jwt(gh)}"},
        timeout=10,
    )
    assert as_jwt.status_code == 401
    as_token = httpx.get(
        f"{gh.api_url}/app",
        headers={"Authorization": f"token {gh.issue_token(REPO)}"},
        timeout=10,
    )
    assert as_token.status_code == 401


def test_unknown_route_is_githubs_404(gh: GitHubStandIn) -> None:
    response = httpx.get(
        f"{gh.api_url}/repos/octo/demo/no-such-thing",
        headers={"Authorization": f"token {gh.issue_token(REPO)}"},
        timeout=10,
    )
    assert response.status_code == 404
    assert response.json() == {
        "message": "Not Found",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


def test_responses_carry_rate_limit_headers(client: GitHub[Any]) -> None:
    response = client.rest.repos.get("octo", "demo")
    assert int(response.headers["x-ratelimit-limit"]) == 5000
    assert int(response.headers["x-ratelimit-remaining"]) < 5000
    assert response.headers["x-ratelimit-resource"] == "core"
    assert int(response.headers["x-ratelimit-reset"]) > time.time()
