"""Every delivery gets a deliberate answer: real payloads, and every mutation of what they say.

The real GitHub payloads in tests/github-payloads are sent to a real server (uvicorn, the
real handlers, a real ledger), and then each of them again with every field a decision
reads (taken from the parsing models in handlers.events, so a field added there is
covered here) replaced by a value of another JSON type, an extreme value, text a ledger
cannot hold verbatim, or nothing at all. Each answer must be deliberate:

- a 2xx only for a delivery that is in the ledger (invariant 7), with the decision it
  announced;
- a 4xx that says why, with nothing recorded;
- never a 5xx: a server error says "try again", and nothing here would ever succeed.
"""

from __future__ import annotations

import copy
import json
import types
import typing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from sqlmodel import Session, select

from bot.store.ledger import Delivery as LedgerDelivery
from bot.store.ledger import Ledger
from handlers.events import (
    IssueCommentEvent,
    IssuesEvent,
    PullRequestReviewCommentEvent,
    PullRequestReviewEvent,
    WebhookEvent,
)
from tests.bot.test_webhooks import Edge, edge_for, make_settings, real_decide

REAL_PAYLOADS = Path(__file__).parents[1] / "github-payloads"
MISSING = object()
# What a ledger might not hold as it is: the widest id, text longer than any column, a NUL.
LEDGER_MUTATIONS: list[Any] = [MISSING, None, 2**63 - 1, "x" * 1_000, "a\x00b"]
# Those, values of every other JSON type, and times GitHub never writes.
MUTATIONS: list[Any] = [
    *LEDGER_MUTATIONS,
    True,
    -1,
    1.5,
    "",
    "123",
    [],
    {},
    "2019-05-15T15:20:21",
    "0001-01-01T00:00:00+01:00",
    1557933621,
]


@dataclass(frozen=True)
class Delivery:
    name: str
    event: str
    body: bytes


def read(name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((REAL_PAYLOADS / name).read_text())
    return found


def variants() -> list[tuple[str, str, type[WebhookEvent], dict[str, Any]]]:
    """Real payloads, each also shaped to reach the deepest decision its handler makes."""
    comment = read("issue_comment.created.with-installation.json")
    on_pull = copy.deepcopy(comment)
    on_pull["issue"]["pull_request"] = {"url": "https://api.github.com/repos/x/y/pulls/1"}
    labeled = read("issues.labeled.json")
    labeled["installation"] = {"id": 1}
    review = read("pull_request_review.submitted.json")
    review["installation"] = {"id": 1}
    review["review"]["state"] = "changes_requested"
    review["pull_request"]["user"]["type"] = "Bot"
    review["pull_request"]["head"]["ref"] = "rolecall/implement-1"
    review["pull_request"]["head"]["repo"] = review["pull_request"]["base"]["repo"]
    reply = read("pull_request_review_comment.created.json")
    reply["comment"]["in_reply_to_id"] = 1
    return [
        ("issue_comment", "/implement", IssueCommentEvent, _commented(comment, "/implement")),
        ("issue_comment", "/fix on a PR", IssueCommentEvent, _commented(on_pull, "/fix")),
        ("issues", "labeled", IssuesEvent, labeled),
        ("pull_request_review", "submitted", PullRequestReviewEvent, review),
        ("pull_request_review_comment", "reply", PullRequestReviewCommentEvent, reply),
    ]


def _commented(payload: dict[str, Any], body: str) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed["comment"]["body"] = body
    return changed


def model_paths(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every field path `model` reads, objects included, from the model's own declaration."""
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        yield path
        for inner in _models_in(field.annotation):
            yield from model_paths(inner, path)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def mutated(payload: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any] | None:
    """`payload` with `path` set to `value` (or removed); None when its parent is absent."""
    changed = copy.deepcopy(payload)
    parent: Any = changed
    for key in path[:-1]:
        parent = parent.get(key) if isinstance(parent, dict) else None
    if not isinstance(parent, dict):
        return None
    if value is MISSING:
        parent.pop(path[-1], None)
    else:
        parent[path[-1]] = value
    return changed


def all_deliveries(mutations: list[Any]) -> list[Delivery]:
    deliveries = [
        Delivery(f"real {path.name}", path.name.split(".", 1)[0], path.read_bytes())
        for path in sorted(REAL_PAYLOADS.glob("*.json"))
    ]
    for event, label, model, payload in variants():
        body = json.dumps(payload).encode()
        deliveries.append(Delivery(f"{event} {label}", event, body))
        # Bodies broken as a whole: cut short, followed by more, or only partly JSON.
        for cut in (1, len(body) // 2, len(body) - 1):
            deliveries.append(Delivery(f"{event} {label} cut at {cut}", event, body[:cut]))
        deliveries.append(Delivery(f"{event} {label} twice", event, body + body))
        for path in model_paths(model):
            for n, value in enumerate(mutations):
                changed = mutated(payload, path, value)
                if changed is not None:
                    name = f"{event} {label}: {'.'.join(path)} = mutation {n}"
                    deliveries.append(Delivery(name, event, json.dumps(changed).encode()))
    return deliveries


def send_all(edge: Edge, deliveries: list[Delivery]) -> list[tuple[Delivery, str, int, Any]]:
    """Each delivery under its own id, eight at a time (so commits are grouped)."""

    def send(numbered: tuple[int, Delivery]) -> tuple[Delivery, str, int, Any]:
        number, delivery = numbered
        delivery_id = f"total-{number}"
        response = edge.post(delivery.body, event=delivery.event, delivery=delivery_id)
        return delivery, delivery_id, response.status_code, response.json()

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, enumerate(deliveries)))


@dataclass
class Run:
    """A running edge and the mutations to send it."""

    edge: Edge
    mutations: list[Any]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    """Every mutation on SQLite; on PostgreSQL, which refuses more, those a ledger might."""
    url, mutations = None, MUTATIONS
    if request.param == "postgres":
        postgres: Ledger = request.getfixturevalue("postgres_ledger")
        url, mutations = postgres.url, LEDGER_MUTATIONS
    with edge_for(make_settings(tmp_path, database_url=url), real_decide) as running:
        yield Run(running, mutations)  # its httpx client is thread-safe and pools connections


def recorded_decisions(ledger: Ledger) -> dict[str, str]:
    with Session(ledger.engine) as session:
        return {row.id: row.decision for row in session.exec(select(LedgerDelivery))}


def test_every_delivery_gets_a_deliberate_answer_and_every_2xx_is_durable(run: Run) -> None:
    deliveries = all_deliveries(run.mutations)
    assert len(deliveries) > 40 * len(run.mutations)  # the models' fields were found
    answers = send_all(run.edge, deliveries)

    server_errors = [(d.name, status, body) for d, _, status, body in answers if status >= 500]
    assert not server_errors, server_errors[:10]
    recorded = recorded_decisions(run.edge.ledger)
    for delivery, delivery_id, status, body in answers:
        row = recorded.get(delivery_id)
        if status < 300:
            assert row is not None, f"{delivery.name}: acknowledged but not recorded"
            assert row == body["decision"], delivery.name
        else:
            assert 400 <= status < 500, (delivery.name, status, body)
            assert row is None, f"{delivery.name}: refused ({status}) but recorded"
            assert body["error"], delivery.name
    real = [(d.name, status) for d, _, status, _ in answers if d.name.startswith("real ")]
    assert real and all(status in (200, 202) for _, status in real), real
