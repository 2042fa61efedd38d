"""What a handler decides: nothing, a polite answer, or a job.

Decisions are stored durably (the ledger records every delivery's decision, and a job's
decision is what the worker runs), so each one round-trips through JSON: `to_dict` gives
plain JSON types with a `type` tag, and `decision_from_dict` rebuilds the same value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal, TypeAlias, get_args

Trigger = Literal["comment", "label", "review", "review_comment"]


@dataclass(frozen=True)
class Ignore:
    """Nothing to do; `reason` is recorded so "why didn't it react?" has an answer."""

    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "ignore", "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Ignore:
        _check_type(data, "ignore")
        return cls(reason=_field(data, "reason", str))


@dataclass(frozen=True)
class Reply:
    """Answer on the thread (refuse politely, explain) without starting any work."""

    reason: str
    body: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "reply", "reason": self.reason, "body": self.body}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reply:
        _check_type(data, "reply")
        return cls(reason=_field(data, "reason", str), body=_field(data, "body", str))


@dataclass(frozen=True)
class StartJob:
    """Work to queue. Everything here comes from the payload, as it was at `trigger_at`.

    The worker still checks the sender's live permission and that the target is open:
    a payload says who asked, not whether they may.
    """

    kind: str
    role: str
    repo_full_name: str
    repo_id: int
    installation_id: int
    issue_number: int
    is_pull_request: bool
    comment_id: int | None
    sender_login: str
    notes: str
    trigger_at: datetime
    trigger: Trigger
    label: str | None = None
    # The issue as the payload showed it at trigger time (invariant 3): the worker briefs
    # from these, never from a later fetch the author may have edited since.
    issue_title: str = ""
    issue_body: str = ""
    # A submitted review that triggered the job, and the PR head it reviewed (the review's
    # `commit_id`), so the worker can tell whether the branch moved since. Stored only when
    # set, so decisions of other kinds keep the shape they always had.
    review_id: int | None = None
    head_sha: str = ""
    # The slash command as typed ("implement", "backend", "help"; "" for a label). Which
    # role it runs is the worker's call: roles and `.github/rolecall.yml` live on the
    # default branch, which a handler cannot read.
    command: str = ""
    # Last and defaulted so the fields above keep their documented order; the ledger
    # records it like every other decision's reason.
    reason: str = ""

    def __post_init__(self) -> None:
        if self.trigger not in get_args(Trigger):
            raise ValueError(
                f"trigger must be one of {', '.join(get_args(Trigger))}, not {self.trigger!r}"
            )
        if self.trigger_at.tzinfo is None:
            raise ValueError("trigger_at must carry a timezone (GitHub's times are UTC)")
        object.__setattr__(self, "trigger_at", self.trigger_at.astimezone(UTC))
        if not self.reason:
            how = {"label": f"label {self.label!r}", "review": "review"}.get(
                self.trigger, f"/{self.command or self.kind}"
            )
            reason = f"{how} by @{self.sender_login} on #{self.issue_number}: {self.role}"
            object.__setattr__(self, "reason", reason)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["trigger_at"] = self.trigger_at.isoformat()
        for name, unset in _STORED_WHEN_SET.items():
            if data[name] == unset:
                del data[name]
        return {"type": "start_job", **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StartJob:
        _check_type(data, "start_job")
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name == "trigger_at":
                values["trigger_at"] = datetime.fromisoformat(_field(data, "trigger_at", str))
            elif spec.name in ("comment_id", "label", "review_id"):
                kind: type = str if spec.name == "label" else int
                value = data.get(spec.name)
                values[spec.name] = None if value is None else _field(data, spec.name, kind)
            elif spec.name in _STORED_WHEN_SET and spec.name not in data:
                values[spec.name] = _STORED_WHEN_SET[spec.name]
            else:
                values[spec.name] = _field(data, spec.name, _FIELD_TYPES[spec.name])
        return cls(**values)


_FIELD_TYPES: dict[str, type] = {
    "reason": str,
    "kind": str,
    "role": str,
    "repo_full_name": str,
    "repo_id": int,
    "installation_id": int,
    "issue_number": int,
    "is_pull_request": bool,
    "sender_login": str,
    "notes": str,
    "trigger": str,
    "issue_title": str,
    "issue_body": str,
    "head_sha": str,
    "command": str,
}
# Fields `to_dict` leaves out while they hold these values (see StartJob).
_STORED_WHEN_SET: dict[str, Any] = {"review_id": None, "head_sha": "", "command": ""}

Decision: TypeAlias = Ignore | Reply | StartJob

_BY_TYPE: dict[str, type[Ignore] | type[Reply] | type[StartJob]] = {
    "ignore": Ignore,
    "reply": Reply,
    "start_job": StartJob,
}


def decision_from_dict(data: Mapping[str, Any]) -> Decision:
    """The decision `to_dict` wrote, whichever kind it was."""
    kind = _BY_TYPE.get(str(data.get("type")))
    if kind is None:
        raise ValueError(f"not a stored decision: type {data.get('type')!r}")
    return kind.from_dict(data)


def _check_type(data: Mapping[str, Any], expected: str) -> None:
    if data.get("type", expected) != expected:
        raise ValueError(f"expected a stored {expected!r} decision, got {data.get('type')!r}")


def _field(data: Mapping[str, Any], name: str, kind: type) -> Any:
    """`data[name]`, checked to be a `kind`: stored jobs are read back, never trusted blind."""
    if name not in data:
        raise ValueError(f"stored decision lacks {name!r}")
    value = data[name]
    # bool is an int in Python; a stored flag must not pass for a number, nor vice versa.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"stored decision field {name!r} is not a {kind.__name__}: {value!r}")
    return value
