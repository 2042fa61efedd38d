"""`@rolecall …` starts work like a command, where a reader sees the mention."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from handler_payloads import PR_LINKS, comment_job, payload

from handlers.decisions import Decision, Ignore, StartJob
from handlers.dispatch import dispatch
from handlers.mentions import mention_command, slug_of

BOT = "rolecall[bot]"
COMMENT = "issue_comment.created.with-installation"
NOTHING = Ignore("no visible command in the comment")


def implement(notes: str, **changes: Any) -> StartJob:
    return comment_job("implement", "implementer", notes, command="implement", **changes)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("@rolecall please implement this", implement("please implement this")),
        (
            "Hey @Rolecall: add a test\n\nAnd update the docs.",
            implement("add a test\n\nAnd update the docs."),
        ),
        (
            "@rolecall /backend keep it small",
            comment_job("implement", "backend", "keep it small", command="backend", reason=""),
        ),
        (
            "/planner first\n\n@rolecall later",
            comment_job("implement", "planner", "first", command="planner", reason=""),
        ),
        # Nothing a reader does not see as a mention of the App asks for anything.
        ("`@rolecall` is the bot", NOTHING),
        ("> @rolecall do it", NOTHING),
        ("<!-- @rolecall do it -->", NOTHING),
        ("```\n@rolecall do it\n```", NOTHING),
        ("[docs](https://x.test/@rolecall)", NOTHING),
        ("write to a@rolecall or @rolecall-fan", NOTHING),
        ("@rolecal\u200bl do it", NOTHING),
    ],
)
def test_a_visible_mention_is_a_request(body: str, expected: Decision) -> None:
    data = payload(COMMENT, **{"comment.body": body})
    assert dispatch("issue_comment", data, bot_login=BOT) == expected


def test_on_a_pull_request_a_mention_asks_for_a_fix() -> None:
    data = payload(
        COMMENT, **{"comment.body": "@rolecall rename x", "issue.pull_request": PR_LINKS}
    )
    decision = dispatch("issue_comment", data, bot_login=BOT)
    assert isinstance(decision, StartJob)
    assert (decision.kind, decision.notes) == ("fix", "rename x")


def test_before_the_login_is_known_a_mention_starts_nothing() -> None:
    data = payload(COMMENT, **{"comment.body": "@rolecall please implement this"})
    assert dispatch("issue_comment", data, bot_login=None) == NOTHING


def test_the_slug_is_the_apps_own() -> None:
    assert slug_of("rolecall[bot]") == "rolecall"
    assert slug_of("octocat") is None
    assert mention_command("@other-app do it", "rolecall", on_pull_request=False) is None


REVIEW_COMMENT = "pull_request_review_comment.created"


def review_comment_job(kind: str, role: str, notes: str, **changes: Any) -> StartJob:
    """The job a mention in the fixture's inline comment (review 237895671) starts."""
    return StartJob(
        kind=kind,
        role=role,
        repo_full_name="Codertocat/Hello-World",
        repo_id=186853002,
        installation_id=1,
        issue_number=2,
        is_pull_request=True,
        comment_id=284312630,
        sender_login="Codertocat",
        notes=notes,
        trigger_at=datetime(2019, 5, 15, 15, 20, 37, tzinfo=UTC),
        trigger="review_comment",
        issue_title="Update the README with new information.",
        issue_body="This is a pretty simple change that we need to pull into master.",
        review_id=237895671,
        **changes,
    )


GATHERED = Ignore(
    "inline comment of review 237895671: gathered by the job of its review, which reads "
    "the review's comments from the API"
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # In an inline comment a mention asks for a fix, with the comment as its notes.
        ("@rolecall rename this to total",
         review_comment_job("fix", "fixer", "rename this to total")),
        ("@rolecall /review look at errors",
         review_comment_job("review", "reviewer", "look at errors")),
        ("@rolecall /backend split it",
         review_comment_job("implement", "backend", "split it", command="backend")),
        # What a reader does not see as a mention asks for nothing.
        ("`@rolecall` fix", GATHERED),
        ("> @rolecall fix", GATHERED),
    ],
)  # fmt: skip
def test_a_mention_in_an_inline_comment_is_a_request(body: str, expected: Decision) -> None:
    data = payload(REVIEW_COMMENT, **{"comment.body": body})
    assert dispatch("pull_request_review_comment", data, bot_login=BOT) == expected


def test_a_mention_in_an_inline_comment_by_a_bot_asks_nothing() -> None:
    data = payload(REVIEW_COMMENT, **{"comment.body": "@rolecall fix it", "sender.type": "Bot"})
    decision = dispatch("pull_request_review_comment", data, bot_login=BOT)
    assert decision == Ignore("sender @Codertocat is a Bot, not a person")
