"""From a decision about a delivery to the ledger row (and job) that records it.

Every row is fitted to the ledger's columns before it is queued for the writer
(`fit_to_ledger`), so the database never refuses a delivery for what is in it: a
refusal could only become a 5xx, and GitHub would show a delivery that no redelivery
can fix. Only the few payload fields that say where a job acts are read here
(`target_from_payload`); full parsing belongs in the worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from sqlalchemy import Table

from bot.store.deliveries import NewDelivery
from bot.store.tables import JOB_FIELDS, Delivery, DeliveryDecision, Job
from handlers.decisions import Decision, Ignore, Reply, StartJob

# --- from a decision to a ledger row -----------------------------------------------------

# The StartJob fields that are also Job columns (the rest stay in decision_json).
_START_JOB_COLUMNS = tuple(f.name for f in fields(StartJob) if f.name in JOB_FIELDS)


def delivery_record(
    delivery_id: str, event: str, payload: Mapping[str, Any], decision: Decision
) -> NewDelivery:
    """The ledger row (and job, if any) for a decision about one delivery.

    A Reply becomes a job of kind "reply" so that the polite answer is posted by a
    worker: the webhook answers fast and never talks to GitHub itself.
    """
    kind: DeliveryDecision
    job: dict[str, Any] | None = None
    if isinstance(decision, StartJob):
        kind = "job"
        job = {name: getattr(decision, name) for name in _START_JOB_COLUMNS}
    elif isinstance(decision, Reply):
        kind = "reply"
        job = {**target_from_payload(payload), "kind": "reply"}
    elif isinstance(decision, Ignore):
        kind = "ignored"
    else:
        raise TypeError(f"not a handlers decision: {decision!r}")
    if job is not None:
        job["decision_json"] = decision.to_dict()
    action = payload.get("action")
    return fit_to_ledger(
        NewDelivery(
            id=delivery_id,
            event=event,
            action=action if isinstance(action, str) else None,
            decision=kind,
            reason=decision.reason,
            job=job,
        )
    )


def ping_record(delivery_id: str, payload: Mapping[str, Any]) -> NewDelivery:
    zen = payload.get("zen")
    return fit_to_ledger(
        NewDelivery(
            id=delivery_id,
            event="ping",
            action=None,
            decision="ping",
            reason=zen if isinstance(zen, str) else "ping",
        )
    )


# --- what the ledger can hold ------------------------------------------------------------

# A reason is for the person asking "why didn't it react?"; past this it is clipped, so a
# payload's megabytes never become a ledger row or a log line.
MAX_REASON_CHARS = 2_000


def _column_lengths(table: Table) -> dict[str, int]:
    """The declared length of each bounded text column (PostgreSQL enforces them)."""
    lengths = {column.name: getattr(column.type, "length", None) for column in table.columns}
    return {name: length for name, length in lengths.items() if isinstance(length, int)}


_DELIVERY_LENGTHS = _column_lengths(Delivery.__table__)  # type: ignore[attr-defined]
_JOB_LENGTHS = _column_lengths(Job.__table__)  # type: ignore[attr-defined]


def fit_to_ledger(record: NewDelivery) -> NewDelivery:
    """`record` as every ledger backend can store it, the decision unchanged where it can be.

    Text from a payload may hold what a column cannot: NUL characters (PostgreSQL text
    refuses them; they become U+FFFD) or more characters than a bounded column declares
    (an `action` GitHub never sends is not stored; a job naming a role or a GitHub name
    longer than any can be is recorded as ignored instead, since it could never run).
    Numbers need no fitting: `bot.web.webhook_body` admits only 64-bit integers, and the
    ledger's integer columns for GitHub's ids are 64-bit.
    """
    action = _storable(record.action) if record.action is not None else None
    if action is not None and len(action) > _DELIVERY_LENGTHS["action"]:
        action = None
    reason = _storable(record.reason)
    unchanged = action is record.action and reason is record.reason
    if unchanged and record.job is None and len(reason) <= MAX_REASON_CHARS:
        return record  # as it came (the usual case): nothing to fit
    job = None
    if record.job is not None:
        job = {
            name: _storable(value) if isinstance(value, str) else value
            for name, value in record.job.items()
        }
        too_long = _first_too_long(job)
        if too_long is not None:
            name, length = too_long
            return replace(
                record,
                action=action,
                decision="ignored",
                job=None,
                reason=_clipped(
                    f"not queued: its {name.replace('_', ' ')} is {length} characters, more "
                    f"than any can be ({_JOB_LENGTHS[name]}); {reason}"
                ),
            )
    return replace(record, action=action, reason=_clipped(reason), job=job)


def _storable(text: str) -> str:
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _clipped(text: str) -> str:
    return text if len(text) <= MAX_REASON_CHARS else text[: MAX_REASON_CHARS - 1] + "…"


def _first_too_long(job: Mapping[str, Any]) -> tuple[str, int] | None:
    for name, limit in _JOB_LENGTHS.items():
        value = job.get(name)
        if isinstance(value, str) and len(value) > limit:
            return name, len(value)
    return None


def _get(payload: Mapping[str, Any], *path: str) -> Any:
    value: Any = payload
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def target_from_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Where a job acts, read from the few payload fields that say so.

    Only these fields are read on the request path; full parsing (githubkit, ~1 ms)
    belongs in the worker.
    """
    issue = _get(payload, "issue")
    pull = _get(payload, "pull_request")
    thread = issue if isinstance(issue, Mapping) else pull
    number = _get(thread, "number") if isinstance(thread, Mapping) else None
    return {
        "repo_full_name": _str_or_none(_get(payload, "repository", "full_name")),
        "installation_id": _int_or_none(_get(payload, "installation", "id")),
        "issue_number": _int_or_none(number),
        "is_pull_request": isinstance(pull, Mapping)
        or (isinstance(issue, Mapping) and isinstance(issue.get("pull_request"), Mapping)),
        "comment_id": _int_or_none(_get(payload, "comment", "id")),
        "sender_login": _str_or_none(_get(payload, "sender", "login")),
    }


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int_or_none(value: Any) -> int | None:
    """An id as GitHub sends it: an integer (never `true`, which Python counts as 1)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
