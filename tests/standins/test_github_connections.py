"""The stand-in records which TCP connection carried each request, as an access log would."""

from __future__ import annotations

import httpx

from standins.github import GitHubStandIn
from tests.standins.conftest import REPO


def test_requests_on_one_keep_alive_connection_share_its_number(gh: GitHubStandIn) -> None:
    headers = {"Authorization": f"token {gh.issue_token(REPO)}"}
    with httpx.Client(base_url=gh.api_url, headers=headers, timeout=10) as client:
        client.get(f"/repos/{REPO}")
        client.get(f"/repos/{REPO}/issues")
    with httpx.Client(base_url=gh.api_url, headers=headers, timeout=10) as client:
        client.get(f"/repos/{REPO}")
    first, second, third = gh.requests
    assert first.connection == second.connection != third.connection
    assert first.connection > 0 and third.connection > 0
