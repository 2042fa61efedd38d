"""Faults on demand, met by the real githubkit client.

githubkit retries a secondary rate limit once after `retry-after`; the stand-in's
request record shows exactly what went over the wire.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed, RequestTimeout, SecondaryRateLimitExceeded

from standins.github import GitHubStandIn

REPO = "octo/demo"


def _feature(gh: GitHubStandIn) -> None:
    gh.push_commit(REPO, "alice", branch="feature", files={"f.txt": "f\n"})


def test_secondary_rate_limit_403_is_retried_by_githubkit(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    _feature(gh)
    gh.fail_next("POST", r"/repos/.+/pulls", status=403, headers={"retry-after": "1"})
    pull = client.rest.pulls.create(
        "octo", "demo", title="Fix", head="feature", base="main"
    ).parsed_data
    assert pull.number == 1
    calls = [(r.method, r.status) for r in gh.requests if r.path == "/repos/octo/demo/pulls"]
    assert calls == [("POST", 403), ("POST", 201)]
    assert len(gh.pulls(REPO)) == 1


def test_429_is_a_secondary_rate_limit_too(client: GitHub[Any], gh: GitHubStandIn) -> None:
    gh.fail_next("GET", r"/repos/octo/demo", status=429, headers={"retry-after": "1"})
    assert client.rest.repos.get("octo", "demo").parsed_data.name == "demo"
    statuses = [r.status for r in gh.requests if r.path == "/repos/octo/demo"]
    assert statuses == [429, 200]


def test_persistent_rate_limit_surfaces_after_one_retry(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    gh.fail_next("GET", r"/repos/octo/demo", times=2, status=403, headers={"retry-after": "1"})
    with pytest.raises(SecondaryRateLimitExceeded) as exceeded:
        client.rest.repos.get("octo", "demo")
    body = exceeded.value.response.json()
    assert body["message"].startswith("You have exceeded a secondary rate limit")
    assert [r.status for r in gh.requests if r.path == "/repos/octo/demo"] == [403, 403]


def test_fault_with_custom_body_and_no_retry(gh: GitHubStandIn) -> None:
    gh.fail_next("GET", r"/repos/.+", status=502, body={"message": "Server Error"})
    url = f"{gh.api_url}/repos/octo/demo"
    headers = {"Authorization": f"token {gh.issue_token(REPO)}"}
    first = httpx.get(url, headers=headers, timeout=10)
    assert (first.status_code, first.json()) == (502, {"message": "Server Error"})
    assert httpx.get(url, headers=headers, timeout=10).status_code == 200


def test_permission_403_is_not_mistaken_for_a_rate_limit(
    gh: GitHubStandIn, client: GitHub[Any]
) -> None:
    gh.fail_next("POST", r"/repos/.+/issues/\d+/comments", status=403)
    number = gh.open_issue(REPO, "alice", "Bug", "")
    with pytest.raises(RequestFailed) as failed:
        client.rest.issues.create_comment("octo", "demo", number, body="hi")
    assert not isinstance(failed.value, SecondaryRateLimitExceeded)
    assert failed.value.response.status_code == 403


def test_stall_makes_the_client_time_out_once(gh: GitHubStandIn) -> None:
    # http_cache=False: with githubkit's default hishel cache client (hishel 1.4 here)
    # the timeout is not applied at all, the call simply waits for the stall.
    impatient = GitHub(gh.issue_token(REPO), base_url=gh.api_url, timeout=0.3, http_cache=False)
    gh.stall_next("GET", r"/repos/.+", seconds=2)
    with pytest.raises(RequestTimeout):
        impatient.rest.repos.get("octo", "demo")
    assert impatient.rest.repos.get("octo", "demo").parsed_data.name == "demo"
