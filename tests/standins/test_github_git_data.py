"""The Git Data API (`/git/commits`, `/git/ref`, `/git/refs`) against real bare repositories.

Rolecall's `/ci` makes an empty commit with the head's tree and moves the branch to it
without force. These tests prove the stand-in does what GitHub does with those calls:
the commit object is really written (`git commit-tree`), a ref moves only forward unless
`force` is given (422 "Update is not a fast forward"), unknown objects and refs get
GitHub's 404 and 422 answers, a moved branch is recorded in the activity log and moves
its pull request, and every answer parses with githubkit's own response model and holds
no field that model lacks.
"""

from __future__ import annotations

from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed
from pydantic import BaseModel

from standins.github import GitHubStandIn
from standins.github.gitrepo import git

REPO = "octo/demo"


def _keys_match_model(data: Any, model: type[BaseModel]) -> None:
    """The JSON holds exactly the model's fields (by alias), recursively for sub-models."""
    fields = {(f.alias or name): f for name, f in model.model_fields.items()}
    assert set(data) == set(fields), (model.__name__, sorted(set(data) ^ set(fields)))
    for key, field in fields.items():
        annotation = field.annotation
        inner = getattr(annotation, "__args__", (annotation,))
        for candidate in inner:
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                values = data[key] if isinstance(data[key], list) else [data[key]]
                for value in values:
                    if value is not None:
                        _keys_match_model(value, candidate)


def _head(gh: GitHubStandIn, branch: str = "main") -> str:
    return gh.branches(REPO)[branch]


def _tree(gh: GitHubStandIn, sha: str) -> str:
    return git(gh.repo_path(REPO), "rev-parse", f"{sha}^{{tree}}")


def test_get_a_commit(client: GitHub[Any], gh: GitHubStandIn) -> None:
    sha = gh.push_commit(REPO, "alice", branch="feature", files={"a.txt": "a\n"}, message="Add a")
    response = client.rest.git.get_commit("octo", "demo", sha)
    commit = response.parsed_data
    assert commit.sha == sha and commit.message == "Add a"
    assert commit.tree.sha == _tree(gh, sha)
    assert [p.sha for p in commit.parents] == [_head(gh)]
    assert commit.author.name == "alice" and commit.verification.verified is False
    _keys_match_model(response.json(), type(commit))


def test_an_unknown_commit_is_404(client: GitHub[Any], gh: GitHubStandIn) -> None:
    for sha in ("0" * 40, _tree(gh, _head(gh)), "not-a-sha"):
        with pytest.raises(RequestFailed) as failed:
            client.rest.git.get_commit("octo", "demo", sha)
        assert failed.value.response.status_code == 404, sha
        assert failed.value.response.json()["message"] == "Not Found"


def test_create_an_empty_commit_on_the_head(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = gh.push_commit(REPO, "alice", branch="feature", files={"a.txt": "a\n"})
    tree = _tree(gh, head)
    response = client.rest.git.create_commit(
        "octo", "demo", message="ci: run the checks", tree=tree, parents=[head]
    )
    assert response.status_code == 201
    commit = response.parsed_data
    _keys_match_model(response.json(), type(commit))
    assert commit.tree.sha == tree and [p.sha for p in commit.parents] == [head]
    assert commit.message == "ci: run the checks"
    # Written for real, by the App's bot account when no author is given, and on no branch.
    repo = gh.repo_path(REPO)
    assert git(repo, "cat-file", "-t", commit.sha) == "commit"
    assert git(repo, "log", "-1", "--format=%an|%cn|%T|%P|%B", commit.sha) == (
        f"{gh.bot_login}|{gh.bot_login}|{tree}|{head}|ci: run the checks"
    )
    assert commit.sha not in gh.branches(REPO).values()
    assert commit.url.endswith(f"/repos/{REPO}/git/commits/{commit.sha}")


def test_create_a_commit_with_an_author(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    author = {"name": "Alice", "email": "alice@example.com", "date": "2024-01-02T03:04:05Z"}
    commit = client.rest.git.create_commit(
        "octo", "demo", message="m", tree=_tree(gh, head), parents=[head], author=author
    ).parsed_data
    assert (commit.author.name, commit.author.email) == ("Alice", "alice@example.com")
    assert commit.author.date.isoformat().startswith("2024-01-02T03:04:05")
    # The committer defaults to the author, as GitHub documents.
    assert (commit.committer.name, commit.committer.email) == ("Alice", "alice@example.com")


def test_create_commit_refuses_what_github_refuses(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    tree = _tree(gh, head)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"message": "m", "tree": "1" * 40, "parents": [head]}, "Tree SHA does not exist"),
        ({"message": "m", "tree": head, "parents": [head]}, "Tree SHA does not exist"),
        (
            {"message": "m", "tree": tree, "parents": ["2" * 40]},
            "Parent SHA does not exist or is not a commit object",
        ),
        (
            {"message": "m", "tree": tree, "parents": [tree]},
            "Parent SHA does not exist or is not a commit object",
        ),
        ({"tree": tree, "parents": [head]}, '"message" wasn\'t supplied'),
        ({"message": "m", "parents": [head]}, '"tree" wasn\'t supplied'),
    ]
    for body, message in cases:
        with pytest.raises(RequestFailed) as failed:
            client.request("POST", "/repos/octo/demo/git/commits", json=body)
        assert failed.value.response.status_code == 422, body
        assert message in failed.value.response.json()["message"], body


def test_a_read_only_token_cannot_create_commits_or_move_refs(gh: GitHubStandIn) -> None:
    token = gh.issue_token(REPO, permissions={"contents": "read"})
    reader = GitHub(token, base_url=gh.api_url, timeout=10)
    head = _head(gh)
    with pytest.raises(RequestFailed) as failed:
        reader.rest.git.create_commit("octo", "demo", message="m", tree=_tree(gh, head))
    assert failed.value.response.status_code == 403
    with pytest.raises(RequestFailed) as failed:
        reader.rest.git.update_ref("octo", "demo", "heads/main", sha=head)
    assert failed.value.response.status_code == 403
    assert reader.rest.git.get_ref("octo", "demo", "heads/main").parsed_data.object_.sha == head


def test_get_a_ref(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = gh.push_commit(REPO, "alice", branch="rolecall/issue-1-x", files={"a": "a\n"})
    response = client.rest.git.get_ref("octo", "demo", "heads/rolecall/issue-1-x")
    ref = response.parsed_data
    _keys_match_model(response.json(), type(ref))
    assert ref.ref == "refs/heads/rolecall/issue-1-x"
    assert (ref.object_.sha, ref.object_.type) == (head, "commit")
    with pytest.raises(RequestFailed) as failed:
        client.rest.git.get_ref("octo", "demo", "heads/nope")
    assert failed.value.response.status_code == 404


def test_move_a_branch_forward(client: GitHub[Any], gh: GitHubStandIn) -> None:
    branch = "rolecall/issue-2-ci"
    head = gh.push_commit(REPO, gh.bot_login, branch=branch, files={"a": "a\n"})
    number = gh.open_pr(REPO, gh.bot_login, head=branch, title="T", draft=True)
    new = client.rest.git.create_commit(
        "octo", "demo", message="ci", tree=_tree(gh, head), parents=[head]
    ).parsed_data.sha
    response = client.rest.git.update_ref("octo", "demo", f"heads/{branch}", sha=new, force=False)
    assert response.status_code == 200
    _keys_match_model(response.json(), type(response.parsed_data))
    assert response.parsed_data.object_.sha == new
    assert gh.branches(REPO)[branch] == new
    # As on GitHub: the PR follows its branch, and the activity log names who moved it.
    assert gh.pull(REPO, number)["head"]["sha"] == new
    activity = client.rest.repos.list_activities(
        "octo", "demo", ref=f"refs/heads/{branch}", per_page=1
    ).parsed_data[0]
    assert (activity.before, activity.after, activity.activity_type) == (head, new, "push")
    assert activity.actor is not None and activity.actor.login == gh.bot_login
    assert gh.wait_for_deliveries()
    sync = [d for d in gh.deliveries if d.action == "synchronize"]
    assert [(d.payload["before"], d.payload["after"]) for d in sync] == [(head, new)]


def test_a_non_fast_forward_needs_force(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = gh.push_commit(REPO, "alice", branch="feature", files={"a": "a\n"})
    base = _head(gh)
    sideways = client.rest.git.create_commit(
        "octo", "demo", message="elsewhere", tree=_tree(gh, base), parents=[base]
    ).parsed_data.sha
    for sha in (sideways, base):  # a sibling, and going backwards
        with pytest.raises(RequestFailed) as failed:
            client.rest.git.update_ref("octo", "demo", "heads/feature", sha=sha, force=False)
        assert failed.value.response.status_code == 422
        assert failed.value.response.json()["message"] == "Update is not a fast forward"
        assert gh.branches(REPO)["feature"] == head
    with pytest.raises(RequestFailed):  # `force` left out means false
        client.rest.git.update_ref("octo", "demo", "heads/feature", sha=sideways)
    moved = client.rest.git.update_ref("octo", "demo", "heads/feature", sha=sideways, force=True)
    assert moved.parsed_data.object_.sha == sideways == gh.branches(REPO)["feature"]
    activity = client.rest.repos.list_activities(
        "octo", "demo", ref="refs/heads/feature", per_page=1
    ).parsed_data[0]
    assert activity.activity_type == "force_push"


def test_update_ref_refuses_unknown_refs_and_objects(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    head = _head(gh)
    cases = [
        ("heads/nope", head, "Reference does not exist"),
        ("heads/main", "3" * 40, "Object does not exist"),
    ]
    for ref, sha, message in cases:
        with pytest.raises(RequestFailed) as failed:
            client.rest.git.update_ref("octo", "demo", ref, sha=sha)
        assert failed.value.response.status_code == 422, ref
        assert failed.value.response.json()["message"] == message, ref
    assert "nope" not in gh.branches(REPO) and gh.branches(REPO)["main"] == head
    with pytest.raises(RequestFailed) as failed:
        client.request("PATCH", "/repos/octo/demo/git/refs/heads/main", json={})
    assert failed.value.response.status_code == 422
    assert '"sha" wasn\'t supplied' in failed.value.response.json()["message"]
