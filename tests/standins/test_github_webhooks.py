"""Webhooks as GitHub sends them: headers, signatures, payload shapes, failures.

Each delivery is checked the way Rolecall will check it (githubkit `verify` on
the raw body, `parse` to a typed event, and a strict pydantic validation), and its
payload is compared with a real GitHub payload of the same event for missing keys.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path
from typing import Any

import pytest
from githubkit import GitHub
from githubkit.webhooks import parse, verify

from standins.github import Delivery, GitHubStandIn
from standins.github.receiver import Received, WebhookReceiver

REPO = "octo/demo"
SAMPLES = Path("/work/shared/github-payloads")
NEW_APP_PY = "".join(f"line {i}\n" if i != 3 else "line three\n" for i in range(1, 21))


def _check(gh: GitHubStandIn, got: Received, event: str, action: str) -> Any:
    """Verify and parse one received delivery; returns the typed event."""
    assert got.headers["x-github-event"] == event
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"].startswith("GitHub-Hookshot/")
    assert re.fullmatch(r"[0-9a-f-]{36}", got.headers["x-github-delivery"])
    assert got.headers["x-github-hook-installation-target-type"] == "integration"
    assert got.headers["x-github-hook-installation-target-id"] == str(gh.app_id)
    assert got.headers["x-github-hook-id"].isdigit()
    assert verify(gh.webhook_secret, got.body, got.headers["x-hub-signature-256"])
    assert verify(gh.webhook_secret, got.body, got.headers["x-hub-signature"])
    assert not verify("wrong-secret", got.body, got.headers["x-hub-signature-256"])
    parsed = parse(event, got.body)
    assert parsed.action == action  # type: ignore[union-attr]
    type(parsed).model_validate_json(got.body, strict=True)
    return parsed


def _missing(sample: Any, ours: Any, path: str = "") -> list[str]:
    """Keys a real payload has that ours lacks (where ours has an object at all)."""
    if not isinstance(sample, dict) or not isinstance(ours, dict):
        return []
    out: list[str] = []
    for key, value in sample.items():
        if key not in ours:
            out.append(f"{path}{key}")
        else:
            out += _missing(value, ours[key], f"{path}{key}.")
    return out


def _compare_with_sample(payload: dict[str, Any], sample_name: str) -> None:
    sample = json.loads((SAMPLES / sample_name).read_text())
    if "organization" not in payload:  # that sample's repository belongs to an org
        sample.pop("organization", None)
    assert _missing(sample, payload) == []


@pytest.fixture
def feature_pr(gh: GitHubStandIn) -> int:
    gh.push_commit(REPO, "alice", branch="feature", files={"src/app.py": NEW_APP_PY})
    return gh.open_pr(REPO, "alice", head="feature", base="main", title="Feature", body="b")


def test_issue_comment_created_is_signed_and_parses(
    gh: GitHubStandIn, receiver: WebhookReceiver
) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "It breaks")
    comment = gh.comment(REPO, "alice", number, "/implement please")
    got = receiver.received[-1]
    event = _check(gh, got, "issue_comment", "created")
    assert event.comment.id == comment
    assert event.comment.body == "/implement please"
    assert event.sender.login == "alice"
    assert event.installation is not None
    assert event.installation.id == gh.installation_id(REPO)
    assert comment.delivery is not None
    assert got.headers["x-github-delivery"] == comment.delivery.id
    assert (comment.delivery.status, comment.delivery.response_body) == (202, '{"ok":true}')
    _compare_with_sample(json.loads(got.body), "issue_comment.created.with-installation.json")


def test_issues_opened_and_labeled_parse(gh: GitHubStandIn, receiver: WebhookReceiver) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "It breaks")
    delivery = gh.label(REPO, "alice", number, "rolecall:implementer")
    opened, labeled = receiver.received
    _check(gh, opened, "issues", "opened")
    event = _check(gh, labeled, "issues", "labeled")
    assert event.label is not None and event.label.name == "rolecall:implementer"
    assert delivery is not None and delivery.status == 202
    _compare_with_sample(json.loads(opened.body), "issues.opened.json")
    _compare_with_sample(json.loads(labeled.body), "issues.labeled.json")


def test_comment_edited_carries_the_old_body(gh: GitHubStandIn, receiver: WebhookReceiver) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    comment = gh.comment(REPO, "alice", number, "/implement")
    gh.edit_comment(REPO, "alice", comment, "/implement with tests")
    event = _check(gh, receiver.received[-1], "issue_comment", "edited")
    assert event.changes.body is not None and event.changes.body.from_ == "/implement"
    assert event.comment.body == "/implement with tests"


def test_pull_request_opened_and_synchronize_parse(
    gh: GitHubStandIn, receiver: WebhookReceiver, feature_pr: int
) -> None:
    gh.push_commit(REPO, "bob", branch="feature", files={"b.txt": "b\n"})
    opened, synchronize = receiver.received
    event = _check(gh, opened, "pull_request", "opened")
    assert event.number == feature_pr
    assert event.pull_request.head.ref == "feature"
    _check(gh, synchronize, "pull_request", "synchronize")
    _compare_with_sample(json.loads(synchronize.body), "pull_request.synchronize.json")


def test_review_submitted_and_review_comment_created_parse(
    gh: GitHubStandIn, receiver: WebhookReceiver, feature_pr: int
) -> None:
    review = gh.submit_review(
        REPO,
        "bob",
        feature_pr,
        state="changes_requested",
        body="Needs work",
        comments=[{"path": "src/app.py", "line": 3, "body": "Not three"}],
    )
    assert len(review.deliveries) == 2
    submitted, commented = receiver.received[-2:]
    event = _check(gh, submitted, "pull_request_review", "submitted")
    assert event.review.id == review and event.review.state == "changes_requested"
    inline = _check(gh, commented, "pull_request_review_comment", "created")
    assert inline.comment.pull_request_review_id == review
    assert (inline.comment.path, inline.comment.line) == ("src/app.py", 3)
    _compare_with_sample(json.loads(submitted.body), "pull_request_review.submitted.json")
    _compare_with_sample(json.loads(commented.body), "pull_request_review_comment.created.json")


def test_comment_on_a_pull_request_names_the_pull_request(
    gh: GitHubStandIn, receiver: WebhookReceiver, feature_pr: int
) -> None:
    gh.comment(REPO, "alice", feature_pr, "/review")
    event = _check(gh, receiver.received[-1], "issue_comment", "created")
    assert event.issue.number == feature_pr
    assert event.issue.pull_request is not None


def test_labeling_a_pull_request_is_a_pull_request_event(
    gh: GitHubStandIn, receiver: WebhookReceiver, feature_pr: int
) -> None:
    gh.label(REPO, "alice", feature_pr, "rolecall:reviewer")
    event = _check(gh, receiver.received[-1], "pull_request", "labeled")
    assert event.label is not None and event.label.name == "rolecall:reviewer"


def test_the_apps_own_actions_are_announced_with_the_bot_as_sender(
    gh: GitHubStandIn, receiver: WebhookReceiver, client: GitHub[Any]
) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    client.rest.issues.create_comment("octo", "demo", number, body="On it")
    assert gh.wait_for_deliveries()
    got = receiver.wait_for(2)[-1]
    event = _check(gh, got, "issue_comment", "created")
    assert event.sender.login == "rolecall[bot]" and event.sender.type == "Bot"
    assert event.comment.performed_via_github_app is not None


def test_org_owned_repository_payloads_name_the_organization(
    gh: GitHubStandIn, receiver: WebhookReceiver
) -> None:
    gh.add_org("acme")
    gh.create_repo("acme/widgets")
    number = gh.open_issue("acme/widgets", "alice", "Bug", "")
    event = _check(gh, receiver.received[-1], "issues", "opened")
    assert event.organization is not None and event.organization.login == "acme"
    assert event.issue.number == number
    assert event.installation is not None
    assert event.installation.id == gh.installation_id("acme/widgets")
    assert gh.installation_id("acme") != gh.installation_id(REPO)


def test_redelivery_keeps_the_delivery_id(gh: GitHubStandIn, receiver: WebhookReceiver) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    first = gh.comment(REPO, "alice", number, "/implement").delivery
    assert first is not None
    again = gh.redeliver(first.id)
    one, two = receiver.received[-2:]
    assert one.headers["x-github-delivery"] == two.headers["x-github-delivery"] == first.id
    assert one.body == two.body
    assert again.redelivery and again.status == 202
    assert [d.id for d in gh.deliveries].count(first.id) == 2


def test_failures_are_recorded_not_raised(gh: GitHubStandIn) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gh.webhook_url = f"http://127.0.0.1:{port}/api/github/webhooks"  # nothing listens
    number = gh.open_issue(REPO, "alice", "Bug", "")
    down = gh.comment(REPO, "alice", number, "/implement").delivery
    assert isinstance(down, Delivery)
    assert down.status is None and down.error is not None and not down.ok
    with WebhookReceiver(status=500, body=b"boom") as broken:
        gh.webhook_url = broken.url
        failed = gh.comment(REPO, "alice", number, "/implement").delivery
    assert failed is not None and (failed.status, failed.response_body) == (500, "boom")


def test_a_slow_receiver_times_out(gh: GitHubStandIn) -> None:
    gh.webhook_timeout = 0.3
    with WebhookReceiver(delay=1.0) as slow:
        gh.webhook_url = slow.url
        number = gh.open_issue(REPO, "alice", "Bug", "")
        delivery = number.delivery
    assert delivery is not None and delivery.status is None
    assert delivery.error is not None and "timed out" in delivery.error.lower()


def test_without_a_webhook_url_deliveries_are_recorded_only(gh: GitHubStandIn) -> None:
    number = gh.open_issue(REPO, "alice", "Bug", "")
    recorded = gh.deliveries[-1]
    assert (recorded.event, recorded.action) == ("issues", "opened")
    assert recorded.payload["issue"]["number"] == number
    assert recorded.status is None and recorded.error is None and recorded.url is None
