"""dispatch over real GitHub payloads (bodies swapped), asserting the exact decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from handler_payloads import DELETE, PR_LINKS, payload

from handlers.decisions import Decision, Ignore, Reply, StartJob
from handlers.dispatch import dispatch
from handlers.events import EventError
from handlers.router import Context, Router

BOT = "rolecall[bot]"
COMMENT = "issue_comment.created.with-installation"
COMMENTED_AT = datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)


def implement_job(notes: str = "", sender: str = "Codertocat") -> StartJob:
    return StartJob(
        kind="implement",
        role="implementer",
        repo_full_name="Codertocat/Hello-World",
        repo_id=186853002,
        installation_id=1,
        issue_number=1,
        is_pull_request=False,
        comment_id=492700400,
        sender_login=sender,
        notes=notes,
        trigger_at=COMMENTED_AT,
        trigger="comment",
        issue_title="Spelling error in the README file",
        issue_body="It looks like you accidently spelled 'commit' with two 't's.",
        command="implement",
    )


NO_COMMAND = Ignore("no visible command in the comment")
ON_A_PR = Reply(
    reason="/implement on a pull request",
    body=(
        "@Codertocat `/implement` works on issues: it turns an issue into a draft pull "
        "request. Please comment it on the issue you'd like implemented."
    ),
)


@pytest.mark.parametrize(
    ("event", "name", "changes", "expected"),
    [
        # A visible /implement on an issue, by a person: the implementer starts.
        ("issue_comment", COMMENT, {"comment.body": "/implement"}, implement_job()),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "Looks good.\r\n/implement keep the public API unchanged"},
            implement_job("keep the public API unchanged"),
        ),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement one\n\n/implement two"},
            implement_job("one"),
        ),
        # The original body, and commands nobody can see, are not commands.
        ("issue_comment", COMMENT, {}, NO_COMMAND),
        ("issue_comment", COMMENT, {"comment.body": "> /implement"}, NO_COMMAND),
        ("issue_comment", COMMENT, {"comment.body": "```\n/implement\n```"}, NO_COMMAND),
        ("issue_comment", COMMENT, {"comment.body": "<!--\n/implement\n-->"}, NO_COMMAND),
        ("issue_comment", COMMENT, {"comment.body": "/imple\u200bment"}, NO_COMMAND),
        ("issue_comment", COMMENT, {"comment.body": "`/implement`"}, NO_COMMAND),
        # Any other command may name a role: the worker decides (see test_role_commands).
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/review this"},
            replace(implement_job("this"), role="review", command="review", reason=""),
        ),
        ("issue_comment", COMMENT, {"comment.body": None}, NO_COMMAND),
        # On a pull request's conversation: a short explanation instead.
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "issue.pull_request": PR_LINKS},
            ON_A_PR,
        ),
        # Senders Rolecall does not act for.
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "sender.type": "Bot", "sender.login": "other[bot]"},
            Ignore("sender @other[bot] is a Bot, not a person"),
        ),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "sender.login": BOT},  # typed User, still itself
            Ignore(f"sent by Rolecall itself (@{BOT})"),
        ),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "sender.login": BOT, "sender.type": "Bot"},
            Ignore(f"sent by Rolecall itself (@{BOT})"),
        ),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "issue.pull_request": PR_LINKS, "sender.type": "Bot"},
            Ignore("sender @Codertocat is a Bot, not a person"),  # no replies to bots
        ),
        (
            "issue_comment",
            COMMENT,
            {"comment.body": "/implement", "sender.type": "Organization"},
            Ignore("sender @Codertocat is a Organization, not a person"),
        ),
        # A repository webhook, not the App's.
        (
            "issue_comment",
            "issue_comment.created",
            {"comment.body": "/implement"},
            Ignore("no installation in the payload: not a delivery to the GitHub App"),
        ),
        # Edits and deletions never trigger.
        (
            "issue_comment",
            COMMENT,
            {"action": "edited", "comment.body": "/implement"},
            Ignore("issue_comment.edited: commands count only in newly created comments"),
        ),
        (
            "issue_comment",
            COMMENT,
            {"action": "deleted", "comment.body": "/implement"},
            Ignore("issue_comment.deleted: commands count only in newly created comments"),
        ),
        # A label on a repository webhook (the sample payload has no installation).
        (
            "issues",
            "issues.labeled",
            {},
            Ignore("no installation in the payload: not a delivery to the GitHub App"),
        ),
        # Events nobody handles yet.
        ("issues", "issues.opened", {}, Ignore("no handler for issues.opened")),
        ("ping", "ping", {}, Ignore("no handler for ping")),
        ("installation", "installation.created", {}, Ignore("no handler for installation.created")),
        (
            "pull_request_review_comment",
            "pull_request_review_comment.created",
            {"comment.body": "/implement"},
            Ignore(
                "inline comment of review 237895671: gathered by the job of its review, "
                "which reads the review's comments from the API"
            ),
        ),
        (
            "check_suite",
            "check_suite.completed",
            {},
            Ignore("no handler for check_suite.completed"),
        ),
    ],
)
def test_dispatch(event: str, name: str, changes: dict[str, Any], expected: Decision) -> None:
    assert dispatch(event, payload(name, **changes), bot_login=BOT) == expected


def test_an_allowlisted_bot_may_ask() -> None:
    data = payload(
        COMMENT, **{"comment.body": "/implement", "sender.type": "Bot", "sender.login": "ci[bot]"}
    )
    decision = dispatch("issue_comment", data, bot_login=BOT, allowed_bots={"ci[bot]"})
    assert decision == implement_job(sender="ci[bot]")


def test_without_a_bot_login_its_own_bot_account_is_still_a_bot() -> None:
    data = payload(
        COMMENT, **{"comment.body": "/implement", "sender.type": "Bot", "sender.login": BOT}
    )
    assert dispatch("issue_comment", data, bot_login=None) == Ignore(
        f"sender @{BOT} is a Bot, not a person"
    )


def test_a_payload_missing_what_the_decision_needs_is_an_error() -> None:
    data = payload(COMMENT, **{"comment.body": "/implement", "comment.id": DELETE})
    with pytest.raises(EventError, match=r"issue_comment\.created payload .* comment\.id"):
        dispatch("issue_comment", data, bot_login=BOT)


def test_a_router_refuses_two_handlers_for_one_name() -> None:
    router = Router()

    @router.on("issues.opened")
    def first(ctx: Context) -> Decision:
        return Ignore("first")

    with pytest.raises(ValueError, match=r"issues\.opened already has a handler"):
        router.on("issues.opened")(first)
    with pytest.raises(ValueError, match="already has a handler"):
        Router(router, router)


def test_a_bare_event_handler_takes_every_action_but_an_exact_one_wins() -> None:
    router = Router()

    @router.on("issues")
    def any_action(ctx: Context) -> Decision:
        return Ignore(f"any: {ctx.name}")

    @router.on("issues.opened")
    def opened(ctx: Context) -> Decision:
        return Ignore(f"exact: {ctx.name}")

    assert router.dispatch("issues", {"action": "opened"}, bot_login=None) == Ignore(
        "exact: issues.opened"
    )
    assert router.dispatch("issues", {"action": "closed"}, bot_login=None) == Ignore(
        "any: issues.closed"
    )
    assert router.dispatch("push", {}, bot_login=None) == Ignore("no handler for push")
