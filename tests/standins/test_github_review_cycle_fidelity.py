"""What review cycles rely on the GitHub stand-in for, as GitHub does it.

`refs/pull/<n>/head` is served over smart HTTP by the base repository, also for a PR
from a fork (what `workspace.fetch_pull_head` fetches); a review's inline comments are
stamped no later than the review (GitHub writes them, pending, before it is submitted),
and the webhooks of a review parse with githubkit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from githubkit import GitHub
from githubkit.webhooks import parse

from agents import workspace
from standins.github import GitHubStandIn

REPO = "octo/demo"
CHANGED = "".join(f"line {i}\n" if i != 3 else "line three\n" for i in range(1, 21))


def test_a_fork_pull_request_head_is_fetched_from_the_base_repository(
    gh: GitHubStandIn, tmp_path: Path
) -> None:
    gh.add_user("carol")
    fork = gh.fork(REPO, "carol")
    head = gh.push_commit(fork, "carol", branch="patch", files={"src/app.py": CHANGED})
    number = int(gh.open_pr(REPO, "carol", head="patch", title="Patch", from_fork=True))
    token = gh.issue_token(REPO)
    mirror = workspace.sync_mirror(tmp_path, "octo", "demo", gh.clone_url(REPO), token)

    assert workspace.fetch_pull_head(mirror, gh.clone_url(REPO), token, number) == head
    worktree = tmp_path / "wt"
    workspace.create_worktree(mirror, worktree, head, "rolecall/review-1")
    assert (worktree / "src" / "app.py").read_text() == CHANGED


def test_review_comments_are_not_stamped_after_their_review(
    client: GitHub[Any], gh: GitHubStandIn
) -> None:
    gh.push_commit(REPO, "alice", branch="feature", files={"src/app.py": CHANGED})
    number = int(gh.open_pr(REPO, "alice", head="feature", title="Feature"))
    review = gh.submit_review(
        REPO,
        "bob",
        number,
        state="commented",
        comments=[{"path": "src/app.py", "line": n, "body": f"c{n}"} for n in range(1, 6)],
    )
    submitted = client.rest.pulls.get_review("octo", "demo", number, review).parsed_data
    comments = client.rest.pulls.list_review_comments("octo", "demo", number).parsed_data
    assert submitted.submitted_at is not None
    assert all(c.created_at <= submitted.submitted_at for c in comments)
    for delivery in review.deliveries:
        event = parse(delivery.event, delivery.body)
        assert event.action in ("submitted", "created")
