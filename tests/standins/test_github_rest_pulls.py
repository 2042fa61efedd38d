"""Pull requests, reviews, review comments and check runs through githubkit.

The 422s and the diff-derived answers come from the real git repositories, so
these tests also prove the stand-in computes them the way GitHub does.
"""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn

REPO = "octo/demo"
NEW_APP_PY = "".join(f"line {i}\n" if i != 3 else "line three\n" for i in range(1, 21))


def _feature(gh: GitHubStandIn, branch: str = "feature") -> str:
    return gh.push_commit(
        REPO,
        "alice",
        branch=branch,
        files={"src/app.py": NEW_APP_PY, "docs/new.md": "hello\n"},
        message="Change line 3, add docs",
    )


def test_open_pull_request_as_draft(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head_sha = _feature(gh, "rolecall/issue-1")
    created = client.rest.pulls.create(
        "octo",
        "demo",
        title="Fix",
        head="rolecall/issue-1",
        base="main",
        body="Closes #1",
        draft=True,
    )
    pull = created.parsed_data
    assert created.status_code == 201
    assert pull.draft is True
    assert pull.head.sha == head_sha and pull.head.ref == "rolecall/issue-1"
    assert pull.base.sha == gh.branches(REPO)["main"]
    assert pull.user is not None and pull.user.login == "rolecall[bot]"
    assert (pull.commits, pull.changed_files, pull.additions, pull.deletions) == (1, 2, 2, 1)
    assert client.rest.pulls.get("octo", "demo", pull.number).parsed_data.title == "Fix"
    # A PR is an issue too: same number, reachable through the issues API.
    as_issue = client.rest.issues.get("octo", "demo", pull.number).parsed_data
    assert as_issue.pull_request is not None


def test_head_may_be_qualified_with_the_owner(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    pull = client.rest.pulls.create(
        "octo", "demo", title="Fix", head="octo:feature", base="main"
    ).parsed_data
    assert pull.head.label == "octo:feature"


def test_duplicate_pull_request_is_422(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    gh.open_pr(REPO, "alice", head="feature", base="main", title="First")
    with pytest.raises(RequestFailed) as failed:
        client.rest.pulls.create("octo", "demo", title="Again", head="feature", base="main")
    body = failed.value.response.json()
    assert failed.value.response.status_code == 422
    assert body["message"] == "Validation Failed"
    assert body["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "A pull request already exists for octo:feature.",
        }
    ]


def test_no_commits_between_is_422(client: GitHub[Any], gh: GitHubStandIn) -> None:
    # A branch made with plain git at main's commit: nothing to propose.
    subprocess.run(
        ["git", "--git-dir", str(gh.repo_path(REPO)), "branch", "empty", "main"], check=True
    )
    with pytest.raises(RequestFailed) as failed:
        client.rest.pulls.create("octo", "demo", title="Nothing", head="empty", base="main")
    assert failed.value.response.status_code == 422
    assert failed.value.response.json()["errors"] == [
        {
            "resource": "PullRequest",
            "code": "custom",
            "message": "No commits between main and empty",
        }
    ]


def test_missing_head_branch_is_422(client: GitHub[Any]) -> None:
    with pytest.raises(RequestFailed) as failed:
        client.rest.pulls.create("octo", "demo", title="Ghost", head="ghost", base="main")
    assert failed.value.response.status_code == 422
    assert failed.value.response.json()["errors"][0]["field"] == "head"


def test_list_by_head_and_update(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh, "one")
    _feature(gh, "two")
    first = gh.open_pr(REPO, "alice", head="one", title="One")
    gh.open_pr(REPO, "alice", head="two", title="Two")
    found = client.rest.pulls.list("octo", "demo", head="octo:one", state="open").parsed_data
    assert [p.number for p in found] == [first]
    updated = client.rest.pulls.update(
        "octo", "demo", first, title="One, renamed", state="closed"
    ).parsed_data
    assert (updated.title, updated.state) == ("One, renamed", "closed")
    assert client.rest.pulls.list("octo", "demo", head="octo:one").parsed_data == []
    everything = client.rest.pulls.list("octo", "demo", state="all").parsed_data
    assert len(everything) == 2


def test_files_and_commits_of_a_pull_request(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _feature(gh)
    number = gh.open_pr(REPO, "alice", head="feature", title="Fix")
    files = {
        f.filename: f for f in client.rest.pulls.list_files("octo", "demo", number).parsed_data
    }
    assert set(files) == {"src/app.py", "docs/new.md"}
    assert files["docs/new.md"].status == "added"
    assert (files["src/app.py"].additions, files["src/app.py"].deletions) == (1, 1)
    assert files["src/app.py"].patch is not None
    assert "+line three" in files["src/app.py"].patch
    commits = client.rest.pulls.list_commits("octo", "demo", number).parsed_data
    assert [c.sha for c in commits] == [head]


def test_a_push_moves_the_pull_request_head(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    number = gh.open_pr(REPO, "alice", head="feature", title="Fix")
    newer = gh.push_commit(REPO, "alice", branch="feature", files={"more.txt": "x\n"})
    assert client.rest.pulls.get("octo", "demo", number).parsed_data.head.sha == newer


def test_review_with_inline_comments_then_reply(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    number = gh.open_pr(REPO, "alice", head="feature", title="Fix")
    created = client.rest.pulls.create_review(
        "octo",
        "demo",
        number,
        event="COMMENT",
        body="Two notes",
        comments=[
            {"path": "src/app.py", "line": 3, "side": "RIGHT", "body": "Why three?"},
            {"path": "docs/new.md", "line": 1, "body": "Say more"},
        ],
    )
    review = created.parsed_data
    assert review.state == "COMMENTED"
    assert review.user is not None and review.user.login == "rolecall[bot]"
    inline = client.rest.pulls.list_comments_for_review("octo", "demo", number, review.id)
    assert sorted(c.path for c in inline.parsed_data) == ["docs/new.md", "src/app.py"]
    comments = client.rest.pulls.list_review_comments("octo", "demo", number).parsed_data
    on_app = next(c for c in comments if c.path == "src/app.py")
    assert (on_app.line, on_app.side) == (3, "RIGHT")
    assert on_app.diff_hunk.startswith("@@") and on_app.diff_hunk.endswith("+line three")
    reply = client.rest.pulls.create_reply_for_review_comment(
        "octo", "demo", number, on_app.id, body="Because."
    ).parsed_data
    assert reply.in_reply_to_id == on_app.id
    threads = gh.review_threads(REPO, number)
    assert [t["comment_ids"] for t in threads if t["path"] == "src/app.py"] == [
        [on_app.id, reply.id]
    ]
    reviews = client.rest.pulls.list_reviews("octo", "demo", number).parsed_data
    assert [r.state for r in reviews] == ["COMMENTED", "COMMENTED"]


def test_person_review_is_visible_to_the_app(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    number = gh.open_pr(REPO, "octo", head="feature", title="Fix")
    review_id = gh.submit_review(
        REPO,
        "alice",
        number,
        state="changes_requested",
        body="Please fix",
        comments=[{"path": "src/app.py", "line": 3, "body": "Not like this"}],
    )
    reviews = client.rest.pulls.list_reviews("octo", "demo", number).parsed_data
    assert [(r.id, r.state) for r in reviews] == [(review_id, "CHANGES_REQUESTED")]
    comment = client.rest.pulls.list_review_comments("octo", "demo", number).parsed_data[0]
    assert comment.pull_request_review_id == review_id
    reacted = client.rest.reactions.create_for_pull_request_review_comment(
        "octo", "demo", comment.id, content="eyes"
    )
    assert reacted.status_code == 201
    assert [r["content"] for r in gh.reactions(REPO, review_comment=comment.id)] == ["eyes"]


def test_inline_comment_outside_the_diff_is_422(client: GitHub[Any], gh: GitHubStandIn) -> None:
    _feature(gh)
    number = gh.open_pr(REPO, "alice", head="feature", title="Fix")
    with pytest.raises(RequestFailed) as failed:
        client.rest.pulls.create_review(
            "octo",
            "demo",
            number,
            event="COMMENT",
            body="x",
            comments=[{"path": "src/app.py", "line": 19, "body": "far from the change"}],
        )
    assert failed.value.response.status_code == 422
    assert failed.value.response.json()["errors"] == ["Line could not be resolved"]
    assert gh.reviews(REPO, number) == []


def test_the_app_cannot_approve_its_own_pull_request(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    _feature(gh)
    number = client.rest.pulls.create(
        "octo", "demo", title="Mine", head="feature", base="main"
    ).parsed_data.number
    with pytest.raises(RequestFailed) as failed:
        client.rest.pulls.create_review("octo", "demo", number, event="APPROVE")
    assert failed.value.response.status_code == 422


def test_check_run_create_and_complete(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _feature(gh)
    gh.open_pr(REPO, "alice", head="feature", title="Fix")
    run = client.rest.checks.create(
        "octo", "demo", name="rolecall", head_sha=head, status="in_progress"
    ).parsed_data
    assert run.status == "in_progress" and run.app is not None
    assert [p.number for p in run.pull_requests] == [1]
    done = client.rest.checks.update(
        "octo",
        "demo",
        run.id,
        conclusion="success",
        output={"title": "Done", "summary": "All good"},
    ).parsed_data
    assert (done.status, done.conclusion, done.output.title) == ("completed", "success", "Done")
    assert [r["conclusion"] for r in gh.check_runs(REPO)] == ["success"]


def test_single_review_comment_and_reply_through_the_comments_endpoint(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    head = _feature(gh)
    number = gh.open_pr(REPO, "alice", head="feature", title="Fix")
    created = client.rest.pulls.create_review_comment(
        "octo", "demo", number, body="Nit", commit_id=head, path="src/app.py", line=3, side="RIGHT"
    )
    assert created.status_code == 201
    comment = created.parsed_data
    assert (comment.path, comment.line, comment.commit_id) == ("src/app.py", 3, head)
    reply = client.rest.pulls.create_review_comment(
        "octo",
        "demo",
        number,
        body="Fixed",
        in_reply_to=comment.id,
        commit_id=head,  # githubkit's body model insists; GitHub ignores them for replies
        path="src/app.py",
    ).parsed_data
    assert reply.in_reply_to_id == comment.id
    assert [t["comment_ids"] for t in gh.review_threads(REPO, number)] == [[comment.id, reply.id]]


def test_repository_without_the_app_has_no_installation(
    gh: GitHubStandIn, app_client: GitHub[Any]
) -> None:
    gh.create_repo("octo/private-stuff", install=False)
    with pytest.raises(RequestFailed) as failed:
        app_client.rest.apps.get_repo_installation("octo", "private-stuff")
    assert failed.value.response.status_code == 404
