"""`DELETE /installation/token` revokes the caller's own token, as GitHub does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from githubkit import GitHub, TokenAuthStrategy
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "gh") as stand_in:
        stand_in.create_repo(REPO, files={"README.md": "demo\n"})
        yield stand_in
        assert stand_in.server_errors == []


def test_a_revoked_token_is_bad_credentials_and_others_still_work(gh: GitHubStandIn) -> None:
    revoked, kept = gh.issue_token(REPO), gh.issue_token(REPO)
    client = GitHub(TokenAuthStrategy(revoked), base_url=gh.api_url, timeout=10, http_cache=False)
    assert client.rest.apps.revoke_installation_access_token().status_code == 204
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get("octo", "demo")
    assert failed.value.response.status_code == 401
    other = GitHub(TokenAuthStrategy(kept), base_url=gh.api_url, timeout=10, http_cache=False)
    assert other.rest.repos.get("octo", "demo").status_code == 200
