"""Commands and labels become jobs the worker routes; handlers never guess a repo's roles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from handler_payloads import PR_LINKS, comment_job, payload

from handlers.decisions import Decision, Ignore, Reply, StartJob
from handlers.dispatch import dispatch

BOT = "rolecall[bot]"
COMMENT = "issue_comment.created.with-installation"
LABELED_AT = datetime(2019, 5, 15, 15, 20, 18, tzinfo=UTC)
INSTALLATION = {"id": 1}


def job(command: str, notes: str = "", **changes: Any) -> StartJob:
    control = command in ("help", "status", "cancel", "retry")
    return comment_job(
        command if control else "implement",
        "" if control else "implementer" if command == "implement" else command,
        notes,
        command=command,
        reason=f"/{command} by @Codertocat on #1" if control else "",
        **changes,
    )


def resume(notes: str = "", **changes: Any) -> StartJob:
    """`/continue`: the worker finds the run to resume, and its role."""
    return comment_job(
        "continue",
        "",
        notes,
        command="continue",
        reason="/continue by @Codertocat on #1",
        **changes,
    )


def label_job(label: str, role: str, sender: str = "Codertocat") -> StartJob:
    return StartJob(
        kind="implement",
        role=role,
        repo_full_name="Codertocat/Hello-World",
        repo_id=186853002,
        installation_id=1,
        issue_number=1,
        is_pull_request=False,
        comment_id=None,
        sender_login=sender,
        notes="",
        trigger_at=LABELED_AT,
        trigger="label",
        label=label,
        issue_title="Spelling error in the README file",
        issue_body="It looks like you accidently spelled 'commit' with two 't's.",
    )


@pytest.mark.parametrize(
    ("body", "changes", "expected"),
    [
        ("/backend keep it small", {}, job("backend", "keep it small")),
        ("/Backend", {}, job("backend")),
        ("/shrug", {}, job("shrug")),  # the worker finds it names nothing, and stays quiet
        ("/help", {}, job("help")),
        ("/status", {}, job("status")),
        ("/cancel", {}, job("cancel")),
        ("/retry with more tests", {}, job("retry", "with more tests")),
        ("/cc @octocat\n/implement", {}, job("implement")),  # a built-in wins
        ("/continue run the tests", {}, resume("run the tests")),
        ("/backend\n/continue", {}, resume()),  # a built-in wins over a role name
        ("/continue", {"issue.pull_request": PR_LINKS}, resume(is_pull_request=True)),
        ("/backend\n\n/planner", {}, job("backend")),  # otherwise the first command
        ("> /backend", {}, Ignore("no visible command in the comment")),
        ("`/backend`", {}, Ignore("no visible command in the comment")),
        # On a pull request's conversation: control commands and role names reach the
        # worker (which says roles run on issues); /implement is explained at once.
        ("/status", {"issue.pull_request": PR_LINKS}, job("status", is_pull_request=True)),
        ("/backend", {"issue.pull_request": PR_LINKS}, job("backend", is_pull_request=True)),
        (
            "/implement",
            {"issue.pull_request": PR_LINKS},
            Reply(
                reason="/implement on a pull request",
                body=(
                    "@Codertocat `/implement` works on issues: it turns an issue into a draft "
                    "pull request. Please comment it on the issue you'd like implemented."
                ),
            ),
        ),
    ],
)
def test_commands(body: str, changes: dict[str, Any], expected: Decision) -> None:
    data = payload(COMMENT, **{"comment.body": body, **changes})
    assert dispatch("issue_comment", data, bot_login=BOT) == expected


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"label.name": "backend"}, label_job("backend", "backend")),
        ({"label.name": "rolecall:planner"}, label_job("rolecall:planner", "planner")),
        ({"label.name": "bug"}, label_job("bug", "bug")),  # the worker ignores it quietly
        (
            {"label.name": "backend", "sender.login": "helper[bot]", "sender.type": "Bot"},
            Ignore("sender @helper[bot] is a Bot, not a person"),
        ),
        (
            {"label.name": "backend", "sender.login": BOT, "sender.type": "Bot"},
            Ignore(f"sent by Rolecall itself (@{BOT})"),
        ),
    ],
)
def test_labels_start_jobs_for_the_labeler(changes: dict[str, Any], expected: Decision) -> None:
    data = payload("issues.labeled", installation=INSTALLATION, **changes)
    assert dispatch("issues", data, bot_login=BOT) == expected


def test_a_label_decision_round_trips_through_the_ledger_json() -> None:
    decision = label_job("rolecall:planner", "planner")
    assert StartJob.from_dict(decision.to_dict()) == decision
    assert "command" not in decision.to_dict(), "unset fields keep the stored shape"
    command = job("backend", "notes")
    assert StartJob.from_dict(command.to_dict()) == command
    assert decision.reason == "label 'rolecall:planner' by @Codertocat on #1: planner"
    assert command.reason == "/backend by @Codertocat on #1: backend"
