"""The Checks API (check runs) through githubkit: its answers, its refusals, its webhooks.

Every answer is parsed by githubkit's models, so a field the stand-in shapes wrongly
fails here; the refusals are GitHub's (422 for a body its schema or rules reject, 403
without `checks` permission, 404 for another repository's run).
"""

from __future__ import annotations

from typing import Any

import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import RequestFailed
from githubkit.webhooks import parse

from standins.github import GitHubStandIn
from standins.github.receiver import WebhookReceiver

REPO = "octo/demo"
RUNS = "/repos/octo/demo/check-runs"


def _head(gh: GitHubStandIn, branch: str = "feature", text: str = "x\n") -> str:
    return gh.push_commit(REPO, "alice", branch=branch, files={"new.txt": text}, message="Add")


def _refused(client: GitHub[Any], method: str, url: str, body: Any) -> dict[str, Any]:
    """GitHub's 422 body for a request githubkit itself would not send (raw JSON)."""
    with pytest.raises(RequestFailed) as failed:
        client.request(method, url, json=body)
    assert failed.value.response.status_code == 422, failed.value.response.text
    answer: dict[str, Any] = failed.value.response.json()
    assert answer["status"] == "422" and answer["documentation_url"]
    return answer


def test_a_run_goes_from_in_progress_to_completed(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    gh.open_pr(REPO, "alice", head="feature", title="Fix")
    created = client.rest.checks.create(
        "octo",
        "demo",
        name="Rolecall / implementer",
        head_sha=head,
        status="in_progress",
        external_id="42",
        output={"title": "Working on it", "summary": "Started."},
    )
    assert created.status_code == 201
    run = created.parsed_data
    assert (run.name, run.head_sha, run.status, run.conclusion) == (
        "Rolecall / implementer",
        head,
        "in_progress",
        None,
    )
    assert run.started_at is not None and run.completed_at is None
    assert run.external_id == "42"
    assert run.output.title == "Working on it" and run.output.summary == "Started."
    assert run.app is not None and run.app.slug == gh.app_slug
    assert run.check_suite is not None
    # Without a details_url, GitHub links the App's homepage.
    assert run.details_url == run.app.html_url
    assert [p.number for p in run.pull_requests] == [1]

    done = client.rest.checks.update(
        "octo",
        "demo",
        run.id,
        status="completed",
        conclusion="success",
        output={"title": "Done", "summary": "All good", "text": "details"},
    ).parsed_data
    assert (done.status, done.conclusion) == ("completed", "success")
    assert done.completed_at is not None and done.started_at == run.started_at
    assert (done.output.title, done.output.summary, done.output.text) == (
        "Done",
        "All good",
        "details",
    )
    again = client.rest.checks.get("octo", "demo", run.id).parsed_data
    assert again.model_dump() == done.model_dump()


def test_a_conclusion_alone_completes_the_run(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    run = client.rest.checks.create(
        "octo",
        "demo",
        name="lint",
        head_sha=head,
        conclusion="neutral",
        output={"title": "Stopped early", "summary": "The turn limit was reached."},
    ).parsed_data
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert run.completed_at is not None
    # Queued is the default status; updating the output keeps status and conclusion.
    queued = client.rest.checks.create("octo", "demo", name="later", head_sha=head).parsed_data
    assert (queued.status, queued.conclusion, queued.output.title) == ("queued", None, None)
    client.rest.checks.update("octo", "demo", run.id, output={"title": "T", "summary": "S"})
    kept = client.rest.checks.get("octo", "demo", run.id).parsed_data
    assert (kept.status, kept.conclusion, kept.output.summary) == ("completed", "neutral", "S")


def test_runs_on_one_commit_share_a_check_suite(client: GitHub[Any], gh: GitHubStandIn) -> None:
    first, second = _head(gh, "one", "1\n"), _head(gh, "two", "2\n")
    a = client.rest.checks.create("octo", "demo", name="a", head_sha=first).parsed_data
    b = client.rest.checks.create("octo", "demo", name="b", head_sha=first).parsed_data
    c = client.rest.checks.create("octo", "demo", name="a", head_sha=second).parsed_data
    assert a.check_suite is not None and b.check_suite is not None and c.check_suite is not None
    assert a.check_suite.id == b.check_suite.id != c.check_suite.id


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"head_sha": "HEAD"}, '"name" wasn\'t supplied'),
        ({"name": "x"}, '"head_sha" wasn\'t supplied'),
        ({"name": 7, "head_sha": "HEAD"}, "is not a str"),
        ({"name": "x", "head_sha": "HEAD", "status": "completed"}, "conclusion"),
        ({"name": "x", "head_sha": "HEAD", "completed_at": "2024-01-01T00:00:00Z"}, "conclusion"),
        ({"name": "x", "head_sha": "HEAD", "status": "done"}, "status"),
        ({"name": "x", "head_sha": "HEAD", "status": "waiting"}, "status"),
        ({"name": "x", "head_sha": "HEAD", "conclusion": "stale"}, "conclusion"),
        ({"name": "x", "head_sha": "HEAD", "started_at": "yesterday"}, "started_at"),
        ({"name": "x", "head_sha": "HEAD", "output": {"title": "T"}}, '"summary" wasn\'t'),
        ({"name": "x", "head_sha": "HEAD", "output": {"summary": "S"}}, '"title" wasn\'t'),
        (
            {"name": "x", "head_sha": "HEAD", "output": {"title": "T", "summary": "s" * 65536}},
            "Only 65535 characters are allowed; 65536 were supplied.",
        ),
        (
            {"name": "x", "head_sha": "HEAD", "actions": [{"label": "a"}] * 4},
            "Only 3 actions",
        ),
    ],
)
def test_a_body_github_refuses_is_422(
    client: GitHub[Any], gh: GitHubStandIn, body: dict[str, Any], says: str
) -> None:
    head = gh.branches(REPO)["main"]
    body = {k: (head if v == "HEAD" else v) for k, v in body.items()}
    answer = _refused(client, "POST", RUNS, body)
    assert answer["message"].startswith("Invalid request.")
    assert says in answer["message"]
    assert gh.check_runs(REPO) == []


def test_a_summary_over_the_byte_limit_is_refused(client: GitHub[Any], gh: GitHubStandIn) -> None:
    """GitHub counts the summary in bytes too: 40000 "é" are 80000 bytes."""
    head = gh.branches(REPO)["main"]
    output = {"title": "T", "summary": "é" * 40000}
    answer = _refused(client, "POST", RUNS, {"name": "x", "head_sha": head, "output": output})
    assert answer["message"] == "Validation Failed"
    assert answer["errors"] == [
        {
            "resource": "CheckRun",
            "code": "custom",
            "field": "summary",
            "message": "summary exceeds a maximum bytesize of 65535",
        }
    ]
    fits = {"title": "T", "summary": "s" * 65535}
    run = client.rest.checks.create("octo", "demo", name="x", head_sha=head, output=fits)
    assert run.parsed_data.output.summary == "s" * 65535


@pytest.mark.parametrize("head_sha", ["main", "0" * 40, "abc"])
def test_head_sha_must_be_a_full_commit_id_the_repository_holds(
    client: GitHub[Any], gh: GitHubStandIn, head_sha: str
) -> None:
    answer = _refused(client, "POST", RUNS, {"name": "x", "head_sha": head_sha})
    assert answer["message"] == f"No commit found for SHA: {head_sha}"


def test_an_update_github_refuses_changes_nothing(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    run = client.rest.checks.create(
        "octo", "demo", name="x", head_sha=head, status="in_progress"
    ).parsed_data
    _refused(client, "PATCH", f"{RUNS}/{run.id}", {"status": "completed"})
    _refused(client, "PATCH", f"{RUNS}/{run.id}", {"output": {"title": "only a title"}})
    same = client.rest.checks.get("octo", "demo", run.id).parsed_data
    assert (same.status, same.conclusion, same.output.title) == ("in_progress", None, None)


def test_checks_permission_is_required(
    client: GitHub[Any], gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> None:
    head = _head(gh)
    run = client.rest.checks.create("octo", "demo", name="x", head_sha=head).parsed_data
    installation = gh.installation_id(REPO)
    reader = app_client.with_auth(
        app_client.auth.as_installation(installation, permissions={"checks": "read"})
    )
    assert reader.rest.checks.get("octo", "demo", run.id).parsed_data.id == run.id
    with pytest.raises(RequestFailed) as failed:
        reader.rest.checks.create("octo", "demo", name="y", head_sha=head)
    assert failed.value.response.status_code == 403
    assert failed.value.response.json()["message"] == "Resource not accessible by integration"
    with pytest.raises(RequestFailed) as failed:
        reader.rest.checks.update("octo", "demo", run.id, conclusion="success")
    assert failed.value.response.status_code == 403
    without = app_client.with_auth(
        app_client.auth.as_installation(installation, permissions={"contents": "write"})
    )
    with pytest.raises(RequestFailed) as failed:
        without.rest.checks.get("octo", "demo", run.id)
    assert failed.value.response.status_code == 403
    with pytest.raises(RequestFailed) as failed:
        without.rest.checks.list_for_ref("octo", "demo", head)
    assert failed.value.response.status_code == 403


def test_a_run_of_another_repository_is_not_found(client: GitHub[Any], gh: GitHubStandIn) -> None:
    gh.create_repo("octo/other", files={"README.md": "other\n"})
    other_head = gh.branches("octo/other")["main"]
    run = client.rest.checks.create("octo", "other", name="x", head_sha=other_head).parsed_data
    for call in (
        lambda: client.rest.checks.get("octo", "demo", run.id),
        lambda: client.rest.checks.update("octo", "demo", run.id, conclusion="success"),
        lambda: client.rest.checks.get("octo", "demo", 999_999_999),
    ):
        with pytest.raises(RequestFailed) as failed:
            call()
        assert failed.value.response.status_code == 404


def test_listing_the_runs_of_a_commit(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    first = client.rest.checks.create(
        "octo", "demo", name="Rolecall / fixer", head_sha=head, conclusion="neutral"
    ).parsed_data
    second = client.rest.checks.create(
        "octo", "demo", name="Rolecall / fixer", head_sha=head, status="in_progress"
    ).parsed_data
    other = client.rest.checks.create(
        "octo", "demo", name="lint", head_sha=head, conclusion="success"
    ).parsed_data
    client.rest.checks.create("octo", "demo", name="lint", head_sha=gh.branches(REPO)["main"])

    def ids(**query: Any) -> list[int]:
        page = client.rest.checks.list_for_ref("octo", "demo", head, **query).parsed_data
        if "page" not in query:
            assert page.total_count == len(page.check_runs)
        return [r.id for r in page.check_runs]

    # Newest first; by default only the newest run of each name.
    assert ids() == [other.id, second.id]
    assert ids(filter_="all") == [other.id, second.id, first.id]
    assert ids(filter_="all", check_name="Rolecall / fixer") == [second.id, first.id]
    assert ids(filter_="all", status="completed") == [other.id, first.id]
    assert ids(app_id=gh.app_id) == [other.id, second.id]
    assert ids(app_id=1) == []
    # A branch name (with a slash) names its head commit too.
    gh.push_commit(REPO, "alice", branch="rolecall/issue-1", files={"a": "1\n"}, message="A")
    branch_head = gh.branches(REPO)["rolecall/issue-1"]
    client.rest.checks.create("octo", "demo", name="x", head_sha=branch_head)
    by_branch = client.rest.checks.list_for_ref("octo", "demo", "rolecall/issue-1").parsed_data
    assert [r.head_sha for r in by_branch.check_runs] == [branch_head]
    assert ids(filter_="all", per_page=1, page=2) == [second.id]
    with pytest.raises(RequestFailed) as failed:
        client.rest.checks.list_for_ref("octo", "demo", "no-such-branch")
    assert failed.value.response.status_code == 422


def test_listing_pages_with_a_link_header(client: GitHub[Any], gh: GitHubStandIn) -> None:
    head = _head(gh)
    for name in ("a", "b", "c"):
        client.rest.checks.create("octo", "demo", name=name, head_sha=head)
    page = client.rest.checks.list_for_ref("octo", "demo", head, per_page=2)
    assert page.parsed_data.total_count == 3 and len(page.parsed_data.check_runs) == 2
    assert 'rel="next"' in page.headers["link"]


def _check_run_events(receiver: WebhookReceiver, count: int) -> list[Any]:
    received = receiver.wait_for(count)
    assert len(received) >= count
    found = []
    for got in received:
        if got.event != "check_run":
            continue
        event = parse("check_run", got.body)
        type(event).model_validate_json(got.body, strict=True)
        found.append(event)
    return found


def test_check_run_webhooks_created_and_completed(
    client: GitHub[Any], gh: GitHubStandIn, receiver: WebhookReceiver
) -> None:
    gh.app_events.append("check_run")
    head = _head(gh)
    gh.open_pr(REPO, "alice", head="feature", title="Fix")
    before = len(receiver.received)
    run = client.rest.checks.create(
        "octo", "demo", name="x", head_sha=head, status="in_progress"
    ).parsed_data
    client.rest.checks.update("octo", "demo", run.id, output={"title": "T", "summary": "S"})
    client.rest.checks.update("octo", "demo", run.id, conclusion="failure")
    events = _check_run_events(receiver, before + 2)
    assert [e.action for e in events] == ["created", "completed"]
    created, completed = events
    assert created.check_run.id == run.id and created.check_run.status == "in_progress"
    assert created.check_run.check_suite.status == "in_progress"
    assert created.check_run.check_suite.head_branch == "feature"
    assert [p.number for p in created.check_run.pull_requests] == [1]
    assert created.sender.login == gh.bot_login
    assert completed.check_run.conclusion == "failure"
    assert completed.check_run.check_suite.status == "completed"
    assert completed.check_run.check_suite.conclusion == "failure"
    # An already-completed run announces both at once.
    client.rest.checks.create("octo", "demo", name="y", head_sha=head, conclusion="success")
    both = _check_run_events(receiver, before + 4)[2:]
    assert [e.action for e in both] == ["created", "completed"]


def test_no_check_run_webhooks_without_the_subscription(
    client: GitHub[Any], gh: GitHubStandIn, receiver: WebhookReceiver
) -> None:
    assert "check_run" not in gh.app_events
    head = _head(gh)
    client.rest.checks.create("octo", "demo", name="x", head_sha=head, conclusion="success")
    assert gh.wait_for_deliveries()
    assert [d for d in gh.deliveries if d.event == "check_run"] == []
