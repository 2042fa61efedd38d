"""Repositories, issues, comments, reactions and labels through githubkit.

Every call reads `.parsed_data`, so each response is validated by githubkit's own
model for that endpoint; the assertions then check what GitHub ends up holding.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"


def test_repository_and_branch_as_githubkit_models(client: GitHub[Any], gh: GitHubStandIn) -> None:
    repo = client.rest.repos.get("octo", "demo").parsed_data
    assert repo.full_name == REPO
    assert repo.default_branch == "main"
    assert repo.clone_url == f"{gh.api_url}/octo/demo.git"
    branch = client.rest.repos.get_branch("octo", "demo", "main").parsed_data
    assert branch.commit.sha == gh.branches(REPO)["main"]
    assert branch.commit.commit.message == "Initial commit"
    names = [b.name for b in client.rest.repos.list_branches("octo", "demo").parsed_data]
    assert names == ["main"]


def test_branch_names_with_slashes_resolve(client: GitHub[Any], gh: GitHubStandIn) -> None:
    sha = gh.push_commit(REPO, "alice", branch="rolecall/issue-7", files={"a.txt": "a\n"})
    branch = client.rest.repos.get_branch("octo", "demo", "rolecall/issue-7").parsed_data
    assert branch.name == "rolecall/issue-7"
    assert branch.commit.sha == sha
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get_branch("octo", "demo", "nope")
    assert failed.value.response.status_code == 404


@pytest.mark.parametrize(
    ("login", "level", "permission"),
    [
        ("octo", None, "admin"),
        ("alice", "write", "write"),
        ("bob", "read", "read"),
        ("carol", "maintain", "write"),
        ("dave", "triage", "read"),
        ("erin", "none", "none"),
    ],
)
def test_collaborator_permission_reports_role_and_legacy_permission(
    client: GitHub[Any], gh: GitHubStandIn, login: str, level: Any, permission: str
) -> None:
    if level is not None:
        gh.set_permission(REPO, login, level)
    answer = client.rest.repos.get_collaborator_permission_level("octo", "demo", login).parsed_data
    assert answer.permission == permission
    assert answer.role_name == (level or "admin")
    assert answer.user is not None and answer.user.login == login


def test_permission_of_unknown_user_is_404(client: GitHub[Any]) -> None:
    with pytest.raises(RequestFailed) as failed:
        client.rest.repos.get_collaborator_permission_level("octo", "demo", "nobody")
    assert failed.value.response.status_code == 404


def test_issue_lifecycle_through_the_api(client: GitHub[Any], gh: GitHubStandIn) -> None:
    created = client.rest.issues.create("octo", "demo", title="From the bot", body="text")
    issue = created.parsed_data
    assert created.status_code == 201
    assert issue.user is not None and issue.user.login == "rolecall[bot]"
    assert issue.user.type == "Bot"
    fetched = client.rest.issues.get("octo", "demo", issue.number).parsed_data
    assert fetched.title == "From the bot"
    closed = client.rest.issues.update(
        "octo", "demo", issue.number, state="closed", state_reason="not_planned"
    ).parsed_data
    assert closed.state == "closed"
    assert gh.issue(REPO, issue.number)["state_reason"] == "not_planned"


def test_comment_create_list_edit_delete(client: GitHub[Any], gh: GitHubStandIn) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "It breaks")
    human = gh.comment(REPO, "alice", number, "/implement please")
    created = client.rest.issues.create_comment("octo", "demo", number, body="👀 on it")
    mine = created.parsed_data
    assert created.status_code == 201
    assert mine.user is not None and mine.user.login == "rolecall[bot]"
    assert mine.performed_via_github_app is not None
    listed = client.rest.issues.list_comments("octo", "demo", number).parsed_data
    assert [c.id for c in listed] == [human, mine.id]
    assert listed[0].author_association == "COLLABORATOR"
    edited = client.rest.issues.update_comment("octo", "demo", mine.id, body="done").parsed_data
    assert edited.body == "done"
    assert client.rest.issues.get_comment("octo", "demo", mine.id).parsed_data.body == "done"
    assert client.rest.issues.delete_comment("octo", "demo", mine.id).status_code == 204
    assert [c["id"] for c in gh.comments(REPO, number)] == [human]


def test_comments_paginate_with_link_headers(client: GitHub[Any], gh: GitHubStandIn) -> None:
    number = gh.open_issue(REPO, "alice", "Chatty", "")
    for i in range(5):
        gh.comment(REPO, "alice", number, f"comment {i}")
    first = client.rest.issues.list_comments("octo", "demo", number, per_page=2)
    assert len(first.parsed_data) == 2
    assert 'rel="next"' in first.headers["link"]
    every = list(
        client.rest.paginate(
            client.rest.issues.list_comments,
            owner="octo",
            repo="demo",
            issue_number=number,
            per_page=2,
        )
    )
    assert [c.body for c in every] == [f"comment {i}" for i in range(5)]


def test_reactions_are_created_once_per_user_and_content(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    comment = gh.comment(REPO, "alice", number, "/implement")
    first = client.rest.reactions.create_for_issue_comment("octo", "demo", comment, content="eyes")
    again = client.rest.reactions.create_for_issue_comment("octo", "demo", comment, content="eyes")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.parsed_data.id == again.parsed_data.id
    assert first.parsed_data.user is not None
    assert first.parsed_data.user.login == "rolecall[bot]"
    on_issue = client.rest.reactions.create_for_issue("octo", "demo", number, content="rocket")
    assert on_issue.status_code == 201
    listed = client.rest.reactions.list_for_issue_comment("octo", "demo", comment).parsed_data
    assert [r.content for r in listed] == ["eyes"]
    assert [r["content"] for r in gh.reactions(REPO, issue=number)] == ["rocket"]
    rollup = client.rest.issues.get_comment("octo", "demo", comment).parsed_data.reactions
    assert rollup is not None and rollup.eyes == 1 and rollup.total_count == 1


def test_invalid_reaction_content_is_422(client: GitHub[Any], gh: GitHubStandIn) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    response = httpx.post(
        f"{gh.api_url}/repos/octo/demo/issues/{number}/reactions",
        headers={"Authorization": f"token {gh.issue_token(REPO)}"},
        json={"content": "thumbsup"},
        timeout=10,
    )
    assert response.status_code == 422


def test_labels_add_and_remove(client: GitHub[Any], gh: GitHubStandIn) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    added = client.rest.issues.add_labels(
        "octo", "demo", number, labels=["rolecall:implementer", "bug"]
    ).parsed_data
    assert sorted(label.name for label in added) == ["bug", "rolecall:implementer"]
    left = client.rest.issues.remove_label("octo", "demo", number, "rolecall:implementer")
    assert [label.name for label in left.parsed_data] == ["bug"]
    assert [label["name"] for label in gh.issue(REPO, number)["labels"]] == ["bug"]
    with pytest.raises(RequestFailed) as failed:
        client.rest.issues.remove_label("octo", "demo", number, "absent")
    assert failed.value.response.status_code == 404


def test_missing_issue_and_missing_body_are_githubs_errors(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    with pytest.raises(RequestFailed) as failed:
        client.rest.issues.get("octo", "demo", 404)
    assert failed.value.response.status_code == 404
    number = gh.open_issue(REPO, "alice", "Bug", "")
    response = httpx.post(
        f"{gh.api_url}/repos/octo/demo/issues/{number}/comments",
        headers={"Authorization": f"token {gh.issue_token(REPO)}"},
        json={},
        timeout=10,
    )
    assert response.status_code == 422
    assert response.json()["message"] == "Validation Failed"
