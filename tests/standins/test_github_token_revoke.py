"""`DELETE /installation/token` revokes the caller's own token, as GitHub does."""

from __future__ import annotations

import pytest
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn
from tests.standins.conftest import REPO


def test_a_revoked_token_is_bad_credentials_and_others_still_work(gh: GitHubStandIn) -> None:
    revoked, kept = gh.issue_token(REPO), gh.issue_token(REPO)
    client = GitHub(TokenAuthStrategy(revoked), base_url=gh.api_url, timeout=10, http_cache=False)
    assert client.rest.apps.revoke_installation_access_token().status_code == 204
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get("octo", "demo")
    assert failed.value.response.status_code == 401
    other = GitHub(TokenAuthStrategy(kept), base_url=gh.api_url, timeout=10, http_cache=False)
    assert other.rest.repos.get("octo", "demo").status_code == 200
