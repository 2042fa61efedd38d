"""GraphQL review threads: listed and resolved through githubkit's `graphql`."""

from __future__ import annotations

from typing import Any

import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import GraphQLFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"
NEW_APP_PY = "".join(f"line {i}\n" if i != 3 else "line three\n" for i in range(1, 21))

THREADS = """
query Threads($owner: String!, $name: String!, $number: Int!) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 50) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id
          isResolved
          comments(first: 20) { nodes { databaseId author { login } } }
        }
      }
    }
  }
}
"""

RESOLVE = """
mutation Resolve($threadId: ID!) {
  resolveReviewThread(input: {threadId: $threadId}) {
    thread { id isResolved }
  }
}
"""


@pytest.fixture
def reviewed(gh: GitHubStandIn) -> int:
    gh.push_commit(REPO, "alice", branch="feature", files={"src/app.py": NEW_APP_PY})
    number = gh.open_pr(REPO, "alice", head="feature", title="Feature")
    gh.submit_review(
        REPO,
        "bob",
        number,
        state="commented",
        body="",
        comments=[
            {"path": "src/app.py", "line": 3, "body": "one"},
            {"path": "src/app.py", "line": 4, "body": "two"},
        ],
    )
    return number


def _threads(client: GitHub[Any], number: int) -> dict[str, Any]:
    data = client.graphql(THREADS, {"owner": "octo", "name": "demo", "number": number})
    return data["repository"]["pullRequest"]["reviewThreads"]


def test_review_threads_query_and_resolve(
    client: GitHub[Any], gh: GitHubStandIn, reviewed: int
) -> None:
    threads = _threads(client, reviewed)
    assert threads["totalCount"] == 2 and threads["pageInfo"]["hasNextPage"] is False
    comment_ids = [c["id"] for c in gh.review_comments(REPO, reviewed)]
    listed = [n["comments"]["nodes"][0]["databaseId"] for n in threads["nodes"]]
    assert listed == comment_ids
    assert threads["nodes"][0]["comments"]["nodes"][0]["author"]["login"] == "bob"
    first = threads["nodes"][0]["id"]
    result = client.graphql(RESOLVE, {"threadId": first})
    assert result["resolveReviewThread"]["thread"] == {"id": first, "isResolved": True}
    assert [n["isResolved"] for n in _threads(client, reviewed)["nodes"]] == [True, False]
    resolved = next(t for t in gh.review_threads(REPO, reviewed) if t["id"] == first)
    assert resolved["resolved_by"] == "rolecall[bot]"


def test_pagination_with_first_and_after(
    client: GitHub[Any], gh: GitHubStandIn, reviewed: int
) -> None:
    query = (
        'query($after: String) { repository(owner: "octo", name: "demo") {'
        f" pullRequest(number: {reviewed}) {{ reviewThreads(first: 1, after: $after) {{"
        " pageInfo { hasNextPage endCursor } nodes { id } } } } }"
    )
    page = client.graphql(query)["repository"]["pullRequest"]["reviewThreads"]
    assert page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    rest = client.graphql(query, {"after": after})["repository"]["pullRequest"]["reviewThreads"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert page["nodes"][0]["id"] != rest["nodes"][0]["id"]


def test_graphql_errors_have_githubs_shape(client: GitHub[Any], reviewed: int) -> None:
    with pytest.raises(GraphQLFailed) as unknown_field:
        client.graphql('query { repository(owner: "octo", name: "demo") { stars } }')
    error = unknown_field.value.response.errors[0]
    assert error.extensions is not None and error.extensions["code"] == "undefinedField"
    with pytest.raises(GraphQLFailed) as missing:
        client.graphql('query { repository(owner: "octo", name: "nope") { id } }')
    assert missing.value.response.errors[0].type == "NOT_FOUND"
    with pytest.raises(GraphQLFailed) as bad_syntax:
        client.graphql("query { repository(owner: ")
    assert "Parse error" in bad_syntax.value.response.errors[0].message
    with pytest.raises(GraphQLFailed) as bad_thread:
        client.graphql(RESOLVE, {"threadId": "PRRT_nope"})
    assert bad_thread.value.response.errors[0].type == "NOT_FOUND"


def test_resolving_needs_pull_requests_write(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy], reviewed: int
) -> None:
    read_only = app_client.with_auth(
        app_client.auth.as_installation(
            gh.installation_id(REPO), permissions={"pull_requests": "read"}
        )
    )
    thread = _threads(read_only, reviewed)["nodes"][0]["id"]
    with pytest.raises(GraphQLFailed) as forbidden:
        read_only.graphql(RESOLVE, {"threadId": thread})
    assert forbidden.value.response.errors[0].type == "FORBIDDEN"
    assert not any(t["is_resolved"] for t in gh.review_threads(REPO, reviewed))
