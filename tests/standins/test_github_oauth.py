"""The stand-in signs people in to the App as GitHub's web flow does.

A person authorizes the App on GitHub's page and is sent back with a code; the App
trades the code, with its client secret, for a user token once; with that token GitHub
names the person and lists the App's repositories they reach, each with their own
permissions. Shapes are checked with githubkit's own models.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import (
    AppInstallationAuthStrategy,
    GitHub,
    OAuthWebAuthStrategy,
    TokenAuthStrategy,
    UnauthAuthStrategy,
)
from githubkit.exception import AuthExpiredError, RequestFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"
CALLBACK = "http://127.0.0.1:9/signin/callback"


def _authorize(
    gh: GitHubStandIn, login: str, *, state: str = "s-1", cancel: bool = False
) -> dict[str, str]:
    """A person opens the authorize page and presses a button; where GitHub sends them."""
    query = {"client_id": gh.client_id, "redirect_uri": CALLBACK, "state": state}
    page = httpx.get(f"{gh.api_url}/login/oauth/authorize", params=query, timeout=10)
    assert page.status_code == 200 and "Authorize" in page.text
    form = {**query, "login": login, ("cancel" if cancel else "authorize"): "1"}
    answer = httpx.post(f"{gh.api_url}/login/oauth/authorize", data=form, timeout=10)
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    return {name: values[0] for name, values in parse_qs(location.query).items()}


def _exchange(gh: GitHubStandIn, code: str, secret: str | None = None) -> str | None:
    strategy = OAuthWebAuthStrategy(
        gh.client_id, secret or gh.client_secret, code, redirect_uri=CALLBACK
    )
    github = GitHub(UnauthAuthStrategy(), base_url=gh.api_url, timeout=10)
    return strategy.exchange_token(github).token


def test_a_person_signs_in_and_the_token_shows_what_they_can_reach(gh: GitHubStandIn) -> None:
    back = _authorize(gh, "alice", state="csrf-123")
    assert back["state"] == "csrf-123"
    token = _exchange(gh, back["code"])
    assert token is not None and token.startswith("ghu_")

    alice = GitHub(TokenAuthStrategy(token), base_url=gh.api_url, timeout=10)
    assert alice.rest.users.get_authenticated().parsed_data.login == "alice"
    installations = alice.rest.apps.list_installations_for_authenticated_user().parsed_data
    assert [i.id for i in installations.installations] == [gh.installation_id(REPO)]
    listed = alice.rest.apps.list_installation_repos_for_authenticated_user(
        gh.installation_id(REPO)
    ).parsed_data
    [repo] = listed.repositories
    assert repo.full_name == REPO
    assert repo.permissions and repo.permissions.push and not repo.permissions.admin

    bob_token = _exchange(gh, _authorize(gh, "bob")["code"])
    bob = GitHub(TokenAuthStrategy(str(bob_token)), base_url=gh.api_url, timeout=10)
    [bobs] = bob.rest.apps.list_installation_repos_for_authenticated_user(
        gh.installation_id(REPO)
    ).parsed_data.repositories
    assert bobs.permissions and bobs.permissions.pull and not bobs.permissions.push

    owner_token = _exchange(gh, _authorize(gh, "octo")["code"])  # octo owns octo/demo
    owner = GitHub(TokenAuthStrategy(str(owner_token)), base_url=gh.api_url, timeout=10)
    [owned] = owner.rest.apps.list_installation_repos_for_authenticated_user(
        gh.installation_id(REPO)
    ).parsed_data.repositories
    assert owned.permissions and owned.permissions.admin


def test_codes_are_single_use_and_need_the_client_secret(gh: GitHubStandIn) -> None:
    code = _authorize(gh, "alice")["code"]
    with pytest.raises(AuthExpiredError) as wrong:
        _exchange(gh, code, secret="not-the-secret")
    assert wrong.value.args[1]["error"] == "incorrect_client_credentials"
    assert _exchange(gh, code)  # a refused try does not use the code up
    with pytest.raises(AuthExpiredError) as again:
        _exchange(gh, code)
    assert again.value.args[1]["error"] == "bad_verification_code"

    declined = _authorize(gh, "alice", cancel=True)
    assert declined["error"] == "access_denied" and "code" not in declined


def test_user_endpoints_refuse_installation_tokens_and_the_anonymous(gh: GitHubStandIn) -> None:
    installation = GitHub(
        AppInstallationAuthStrategy(gh.app_id, gh.private_key_pem, gh.installation_id(REPO)),
        base_url=gh.api_url,
        timeout=10,
    )
    with pytest.raises(RequestFailed) as refused:
        installation.rest.users.get_authenticated()
    assert refused.value.response.status_code == 403
    assert httpx.get(f"{gh.api_url}/user/installations", timeout=10).status_code == 401
    unknown = httpx.get(
        f"{gh.api_url}/login/oauth/authorize", params={"client_id": "Iv1.nope"}, timeout=10
    )
    assert unknown.status_code == 404
