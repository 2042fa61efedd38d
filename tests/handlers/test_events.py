"""The small event models read real payloads and name what is missing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from handler_payloads import DELETE, PR_LINKS, payload

from handlers.events import EventError, IssueCommentEvent, IssuesEvent, parse_event


def test_reads_an_issue_comment_as_github_sends_it() -> None:
    event = parse_event(IssueCommentEvent, payload("issue_comment.created.with-installation"))
    assert event.action == "created"
    assert (event.sender.login, event.sender.type, event.sender.id) == (
        "Codertocat",
        "User",
        21031067,
    )
    assert event.installation is not None and event.installation.id == 1
    repo = event.repository
    assert (repo.full_name, repo.owner.login, repo.name, repo.default_branch, repo.id) == (
        "Codertocat/Hello-World",
        "Codertocat",
        "Hello-World",
        "master",
        186853002,
    )
    issue = event.issue
    assert (issue.number, issue.title, issue.state) == (
        1,
        "Spelling error in the README file",
        "open",
    )
    assert issue.body == "It looks like you accidently spelled 'commit' with two 't's."
    assert issue.created_at == datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)
    assert issue.user.login == "Codertocat"
    assert issue.is_pull_request is False
    comment = event.comment
    assert comment.id == 492700400
    assert comment.body == "You are totally right! I'll get this fixed right away."
    assert comment.created_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)
    assert comment.updated_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)
    assert (comment.user.login, comment.author_association) == ("Codertocat", "OWNER")


def test_a_repository_webhook_has_no_installation() -> None:
    event = parse_event(IssueCommentEvent, payload("issue_comment.created"))
    assert event.installation is None


def test_reads_the_label_of_a_labeled_issue() -> None:
    event = parse_event(IssuesEvent, payload("issues.labeled"))
    assert (event.action, event.label and event.label.name) == ("labeled", "bug")
    assert parse_event(IssuesEvent, payload("issues.opened")).label is None


@pytest.mark.parametrize("marker", [PR_LINKS, {}, None])
def test_an_issue_with_pull_request_is_a_pull_request(marker: object) -> None:
    data = payload("issue_comment.created.with-installation", **{"issue.pull_request": marker})
    assert parse_event(IssueCommentEvent, data).issue.is_pull_request is True


def test_null_bodies_read_as_empty_or_none() -> None:
    data = payload(
        "issue_comment.created.with-installation", **{"comment.body": None, "issue.body": None}
    )
    event = parse_event(IssueCommentEvent, data)
    assert (event.comment.body, event.issue.body) == ("", None)


def test_fields_github_adds_later_are_ignored() -> None:
    data = payload(
        "issue_comment.created.with-installation",
        **{"comment.new_field": {"x": 1}, "sender.new_flag": True, "brand_new": [1, 2]},
    )
    assert parse_event(IssueCommentEvent, data).comment.id == 492700400


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("comment.id", DELETE, "comment.id: Field required"),
        ("comment", DELETE, "comment: Field required"),
        ("sender.type", DELETE, "sender.type: Field required"),
        ("repository.default_branch", DELETE, "repository.default_branch: Field required"),
        ("issue.number", "one", "issue.number: Input should be a valid integer"),
        ("comment.created_at", "yesterday", "comment.created_at: Input should be a valid datetime"),
    ],
)
def test_a_missing_or_mistyped_field_is_named(path: str, value: object, named: str) -> None:
    data = payload("issue_comment.created.with-installation", **{path: value})
    with pytest.raises(EventError) as caught:
        parse_event(IssueCommentEvent, data, name="issue_comment.created")
    assert named in str(caught.value)
    assert str(caught.value).startswith("issue_comment.created payload is not usable: ")
