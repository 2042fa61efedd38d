"""Decisions are stored durably: they survive JSON and refuse damaged records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from handlers.decisions import Decision, Ignore, Reply, StartJob, decision_from_dict

JOB = StartJob(
    kind="implement",
    role="implementer",
    repo_full_name="octo/widgets",
    repo_id=42,
    installation_id=7,
    issue_number=12,
    is_pull_request=False,
    comment_id=99,
    sender_login="alice",
    notes="keep the public API unchanged",
    trigger_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    trigger="comment",
)


@pytest.mark.parametrize(
    "decision",
    [
        Ignore("no visible /implement command in the comment"),
        Reply("/implement on a pull request", "`/implement` works on issues."),
        JOB,
        StartJob(**{**JOB.__dict__, "comment_id": None, "trigger": "label", "label": "rolecall"}),
    ],
)
def test_decisions_round_trip_through_json(decision: Decision) -> None:
    stored = json.loads(json.dumps(decision.to_dict()))
    assert decision_from_dict(stored) == decision
    assert type(decision).from_dict(stored) == decision


def test_to_dict_is_tagged_plain_json() -> None:
    assert JOB.to_dict() == {
        "type": "start_job",
        "kind": "implement",
        "role": "implementer",
        "repo_full_name": "octo/widgets",
        "repo_id": 42,
        "installation_id": 7,
        "issue_number": 12,
        "is_pull_request": False,
        "comment_id": 99,
        "sender_login": "alice",
        "notes": "keep the public API unchanged",
        "trigger_at": "2024-05-01T12:00:00+00:00",
        "trigger": "comment",
        "label": None,
        "issue_title": "",
        "issue_body": "",
        "reason": "/implement by @alice on #12: implementer",
    }
    assert Ignore("x").to_dict() == {"type": "ignore", "reason": "x"}
    assert Reply("x", "y").to_dict() == {"type": "reply", "reason": "x", "body": "y"}


def test_trigger_time_is_kept_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    job = StartJob(**{**JOB.__dict__, "trigger_at": datetime(2024, 5, 1, 14, 0, tzinfo=plus_two)})
    assert job.trigger_at == JOB.trigger_at
    assert job.to_dict()["trigger_at"] == "2024-05-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"trigger_at": datetime(2024, 5, 1, 12, 0)}, "timezone"),
        ({"trigger": "push"}, "trigger must be"),
    ],
)
def test_a_start_job_refuses_impossible_values(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        StartJob(**{**JOB.__dict__, "reason": "", **changes})


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"type": "launch"}, "not a stored decision"),
        ({"repo_id": "42"}, "'repo_id' is not a int"),
        ({"repo_id": True}, "'repo_id' is not a int"),
        ({"is_pull_request": 0}, "'is_pull_request' is not a bool"),
        ({"comment_id": "99"}, "'comment_id' is not a int"),
        ({"trigger_at": "yesterday"}, "Invalid isoformat"),
        ({"notes": None}, "'notes' is not a str"),
    ],
)
def test_damaged_records_are_refused(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        decision_from_dict({**JOB.to_dict(), **changes})


def test_a_record_missing_a_field_is_refused() -> None:
    record = JOB.to_dict()
    del record["installation_id"]
    with pytest.raises(ValueError, match="lacks 'installation_id'"):
        decision_from_dict(record)
