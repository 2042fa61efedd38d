"""The gates before action, one predicate at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from handlers.decisions import Ignore, StartJob, Trigger
from handlers.events import Account
from handlers.guards import (
    filter_to_trigger_time,
    has_write,
    is_allowlisted_bot,
    is_self,
    is_user_sender,
    refusal_helps,
    screen_sender,
)


def account(login: str, type_: str = "User") -> Account:
    return Account(login=login, type=type_, id=1)


@pytest.mark.parametrize(
    ("type_", "expected"),
    [
        ("User", True),
        ("Bot", False),
        ("Organization", False),
        ("Mannequin", False),
        ("user", False),
    ],
)
def test_is_user_sender(type_: str, expected: bool) -> None:
    assert is_user_sender(account("someone", type_)) is expected


@pytest.mark.parametrize(
    ("login", "type_", "bot_login", "expected"),
    [
        ("rolecall[bot]", "Bot", "rolecall[bot]", True),
        ("rolecall[bot]", "User", "rolecall[bot]", True),  # whatever type it claims
        ("RoleCall[bot]", "Bot", "rolecall[bot]", True),
        ("rolecall[bot]", "Bot", "rolecall", True),
        ("rolecall", "User", "rolecall[bot]", True),  # errs towards ignoring
        ("alice", "User", "rolecall[bot]", False),
        ("rolecall-fan", "User", "rolecall[bot]", False),
        ("rolecall[bot]", "Bot", None, False),
        ("rolecall[bot]", "Bot", "", False),
    ],
)
def test_is_self(login: str, type_: str, bot_login: str | None, expected: bool) -> None:
    assert is_self(account(login, type_), bot_login) is expected


@pytest.mark.parametrize(
    ("login", "type_", "expected"),
    [
        ("renovate[bot]", "Bot", True),
        ("Renovate[bot]", "Bot", True),
        ("renovate[bot]", "User", False),  # a user named like the bot is just a user
        ("renovate", "Bot", False),  # the whole login, suffix included
        ("renovate[bot]x", "Bot", False),
        ("dependabot[bot]", "Bot", False),
    ],
)
def test_is_allowlisted_bot(login: str, type_: str, expected: bool) -> None:
    assert is_allowlisted_bot(account(login, type_), {"renovate[bot]"}) is expected


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        ("admin", True),
        ("maintain", True),
        ("write", True),
        ("WRITE", True),
        ("triage", False),
        ("read", False),
        ("none", False),
        ("", False),
        (None, False),
        ("OWNER", False),  # an author_association is not a permission
        ("MEMBER", False),
        ("COLLABORATOR", False),
    ],
)
def test_has_write(permission: str | None, expected: bool) -> None:
    assert has_write(permission) is expected


@pytest.mark.parametrize(
    ("login", "type_", "allowlist", "expected"),
    [
        ("alice", "User", (), None),
        ("rolecall[bot]", "User", (), Ignore("sent by Rolecall itself (@rolecall[bot])")),
        (
            "rolecall[bot]",
            "Bot",
            {"rolecall[bot]"},
            Ignore("sent by Rolecall itself (@rolecall[bot])"),
        ),
        ("other[bot]", "Bot", (), Ignore("sender @other[bot] is a Bot, not a person")),
        ("other[bot]", "Bot", {"other[bot]"}, None),
        ("acme", "Organization", (), Ignore("sender @acme is a Organization, not a person")),
    ],
)
def test_screen_sender(
    login: str, type_: str, allowlist: set[str], expected: Ignore | None
) -> None:
    assert screen_sender(account(login, type_), "rolecall[bot]", allowlist) == expected


@dataclass(frozen=True)
class Item:
    name: str
    created_at: datetime
    updated_at: datetime | None


TRIGGER = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


def test_filter_to_trigger_time_keeps_what_stood_before_the_trigger() -> None:
    items = [
        Item("before", TRIGGER - 60 * SECOND, TRIGGER - 60 * SECOND),
        Item("never-updated", TRIGGER - SECOND, None),
        Item("edited-before", TRIGGER - 60 * SECOND, TRIGGER - SECOND),
        Item("edited-at", TRIGGER - 60 * SECOND, TRIGGER),
        Item("edited-after", TRIGGER - 60 * SECOND, TRIGGER + SECOND),
        Item("created-at", TRIGGER, TRIGGER),
        Item("created-after", TRIGGER + SECOND, TRIGGER + SECOND),
    ]
    kept = filter_to_trigger_time(items, TRIGGER)
    assert [item.name for item in kept] == ["before", "never-updated", "edited-before"]


def test_filter_to_trigger_time_compares_instants_across_timezones() -> None:
    cest = datetime(2024, 5, 1, 13, 59, tzinfo=UTC).astimezone()  # any local zone
    naive_before = datetime(2024, 5, 1, 11, 59)  # naive: taken as UTC
    items = [Item("aware", cest, None), Item("naive", naive_before, None)]
    assert [item.name for item in filter_to_trigger_time(items, TRIGGER)] == ["naive"]


def request(trigger: Trigger, *, command: str = "", label: str | None = None) -> StartJob:
    return StartJob(
        kind="fix" if trigger == "review" else "implement",
        role="implementer",
        repo_full_name="octo/calc",
        repo_id=1,
        installation_id=1,
        issue_number=7,
        is_pull_request=trigger == "review",
        comment_id=None,
        sender_login="mallory",
        notes="",
        trigger_at=datetime(2024, 5, 1, tzinfo=UTC),
        trigger=trigger,
        label=label,
        command=command,
    )


@pytest.mark.parametrize(
    ("asked", "expected"),
    [
        (request("comment", command="implement"), True),
        (request("comment", command="status"), True),
        (request("comment", command="cancel"), True),
        (request("comment", command="ci"), True),
        (request("comment", command="cc"), False),  # maybe meant for people
        (request("comment", command="backend"), False),  # a role only the repo can confirm
        (request("label", label="rolecall:backend"), True),
        (request("label", label="Rolecall:Backend"), True),
        (request("label", label="bug"), False),
        (request("label", label="backend"), False),
        (request("review"), False),  # feedback, not a request for work
    ],
)
def test_a_refusal_is_posted_only_when_rolecall_was_named(asked: StartJob, expected: bool) -> None:
    assert refusal_helps(asked) is expected
