"""The webhook URL as GitHub (and anyone else) sees it: real uvicorn, real HTTP.

Each test gets a fresh data dir, a real server on a 127.0.0.1 port and an httpx client.
The decision function is a small local one shaped like `handlers.dispatch.dispatch`, so
these tests pin the edge's behaviour whatever the handlers decide.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from bot.settings import Settings
from bot.store.ledger import Ledger, NewDelivery, Recorded, open_ledger
from bot.web.app import create_app
from bot.web.intake import Intake
from bot.web.webhooks import MAX_BODY_BYTES, WEBHOOK_PATH, sign, signature_matches
from handlers.decisions import Decision, Ignore, Reply, StartJob
from handlers.events import EventError

SECRET = "webhook-secret-for-tests"
PAYLOADS = Path(__file__).parent / "payloads"


# --- a decision function with handlers.dispatch.dispatch's signature -----------------------


def decide(event: str, payload: Mapping[str, Any], *, bot_login: str | None) -> Decision:
    """Decides by the comment's first word, whatever the real handlers decide."""
    body = payload.get("comment", {}).get("body", "") if event == "issue_comment" else ""
    if body.startswith("/explode"):
        raise RuntimeError("a bug in a handler")
    if body.startswith("/missing"):
        raise EventError(event, ["issue.number: field required"])
    if body.startswith("/implement"):
        return StartJob(
            kind="implement",
            role="implementer",
            repo_full_name=payload["repository"]["full_name"],
            repo_id=payload["repository"]["id"],
            installation_id=payload["installation"]["id"],
            issue_number=payload["issue"]["number"],
            is_pull_request=False,
            comment_id=payload["comment"]["id"],
            sender_login=payload["sender"]["login"],
            notes="",
            trigger_at=datetime.fromisoformat(payload["comment"]["created_at"]),
            trigger="comment",
        )
    if body.startswith("/"):
        return Reply(reason="unknown command", body="I don't know that command.")
    return Ignore(reason="no command")


def comment_payload(body: str = "/implement", padding: int = 0) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        (PAYLOADS / "issue_comment.created.with-installation.json").read_text()
    )
    payload["comment"]["body"] = body + " " * padding
    return payload


# --- a real server -------------------------------------------------------------------------


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "queue_url": None,
        "webhook_secret": SECRET,
        "webhook_secret_previous": None,
        "app_id": None,
        "private_key": None,
        "private_key_path": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` under uvicorn on a free 127.0.0.1 port; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped during start-up"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


class Enqueued:
    """Stands in for the queue: remembers the job ids it was handed, thread-safely."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self._lock = threading.Lock()

    def __call__(self, job_id: int) -> None:
        with self._lock:
            self.ids.append(job_id)

    def wait_for(self, count: int) -> list[int]:
        # Jobs are handed to the queue just after their commit, by another thread.
        deadline = time.monotonic() + 20
        while len(self.ids) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return sorted(self.ids)


@dataclass
class Edge:
    url: str
    client: httpx.Client
    ledger: Ledger
    enqueued: Enqueued
    app: FastAPI

    def post(
        self,
        body: bytes,
        *,
        event: str = "issue_comment",
        delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        secret: str = SECRET,
        headers: Mapping[str, str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> httpx.Response:
        sent = {
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(secret.encode(), body),
            "User-Agent": "GitHub-Hookshot/test",
            **(headers or {}),
        }
        for name in drop:
            sent.pop(name)
        return self.client.post(self.url + WEBHOOK_PATH, content=body, headers=sent)

    def counts(self) -> tuple[int, int]:
        return self.ledger.count_deliveries(), sum(self.ledger.count_jobs_by_state().values())


@contextmanager
def edge_for(settings: Settings, decide_fn: Callable[..., Any] = decide) -> Iterator[Edge]:
    enqueued = Enqueued()
    app = create_app(settings, ledger=open_ledger(settings), decide=decide_fn, enqueue=enqueued)
    ledger = open_ledger(settings)
    try:
        with serving(app) as url, httpx.Client(timeout=60) as client:
            yield Edge(url, client, ledger, enqueued, app)
    finally:
        ledger.close()
        app.state.ledger.close()


@pytest.fixture
def edge(tmp_path: Path) -> Iterator[Edge]:
    with edge_for(make_settings(tmp_path)) as running:
        yield running


# --- the refusals ---------------------------------------------------------------------------

BODY = json.dumps(comment_payload()).encode()


def test_the_wrong_method_is_405_and_records_nothing(edge: Edge) -> None:
    response = edge.client.get(edge.url + WEBHOOK_PATH)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "use POST" in response.json()["error"]
    assert edge.counts() == (0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_content_is_415(edge: Edge, content_type: str) -> None:
    response = edge.post(BODY, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "application/json" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_content_type_parameters_are_accepted(edge: Edge) -> None:
    response = edge.post(BODY, headers={"Content-Type": "Application/JSON; charset=utf-8"})
    assert response.status_code == 202


@pytest.mark.parametrize("header", ["X-GitHub-Event", "X-GitHub-Delivery", "X-Hub-Signature-256"])
def test_a_missing_github_header_is_400(edge: Edge, header: str) -> None:
    response = edge.post(BODY, drop=(header,))
    assert response.status_code == 400
    assert f"missing {header}" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_a_body_over_25_mib_with_content_length_is_413(edge: Edge) -> None:
    response = edge.post(b"x" * (MAX_BODY_BYTES + 1))
    assert response.status_code == 413
    assert "25 MiB" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_a_chunked_body_over_25_mib_is_413(edge: Edge) -> None:
    piece = b"x" * (1024 * 1024)

    def chunks() -> Iterator[bytes]:
        for _ in range(26):
            yield piece

    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": "chunked-delivery",
        "X-Hub-Signature-256": "sha256=" + "0" * 64,
    }
    response = edge.client.post(edge.url + WEBHOOK_PATH, content=chunks(), headers=headers)
    assert response.request.headers.get("transfer-encoding") == "chunked"
    assert response.status_code == 413
    assert edge.counts() == (0, 0)


def test_a_wrong_signature_is_401_and_says_what_to_check(edge: Edge) -> None:
    response = edge.post(BODY, secret="not-the-secret")
    assert response.status_code == 401
    assert "WEBHOOK_SECRET" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_a_signature_over_other_bytes_is_401(edge: Edge) -> None:
    tampered = BODY.replace(b"/implement", b"/implemenT")
    response = edge.post(tampered, headers={"X-Hub-Signature-256": sign(SECRET.encode(), BODY)})
    assert response.status_code == 401
    assert edge.counts() == (0, 0)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"an object?"', b"null", b""])
def test_signed_but_not_a_json_object_is_400(edge: Edge, body: bytes) -> None:
    response = edge.post(body)
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_webhooks_answer_503_until_a_secret_is_configured(tmp_path: Path) -> None:
    with edge_for(make_settings(tmp_path, webhook_secret=None)) as edge:
        response = edge.post(BODY)
        assert response.status_code == 503
        assert "set WEBHOOK_SECRET" in response.json()["error"]
        assert edge.counts() == (0, 0)


def test_a_payload_the_handlers_cannot_use_is_400_and_records_nothing(edge: Edge) -> None:
    response = edge.post(json.dumps(comment_payload("/missing")).encode())
    assert response.status_code == 400
    assert "issue.number: field required" in response.json()["error"]
    assert edge.counts() == (0, 0)


def test_a_failing_handler_is_reported_and_nothing_is_recorded(edge: Edge) -> None:
    response = edge.post(json.dumps(comment_payload("/explode")).encode())
    assert response.status_code == 500
    assert "redeliver" in response.json()["error"]
    assert edge.counts() == (0, 0)


# --- what is accepted -------------------------------------------------------------------------


def test_ping_is_200_and_recorded(edge: Edge) -> None:
    body = (PAYLOADS / "ping.json").read_bytes()
    response = edge.post(body, event="ping", delivery="ping-1")
    assert response.status_code == 200
    assert response.json()["decision"] == "ping"
    delivery = edge.ledger.get_delivery("ping-1")
    assert delivery is not None and delivery.decision == "ping"
    assert edge.counts() == (1, 0)


def test_a_command_is_202_with_one_delivery_and_one_queued_job(edge: Edge) -> None:
    response = edge.post(BODY, delivery="d-1")
    assert response.status_code == 202
    answer = response.json()
    assert answer["delivery"] == "d-1" and answer["decision"] == "job"
    assert edge.counts() == (1, 1)
    job = edge.ledger.get_job(answer["job_id"])
    assert job is not None
    assert (job.state, job.kind, job.role, job.delivery_id) == (
        "queued",
        "implement",
        "implementer",
        "d-1",
    )
    assert job.repo_full_name == "Codertocat/Hello-World" and job.issue_number == 1
    assert job.comment_id == 492700400 and job.sender_login == "Codertocat"
    assert job.trigger_at == datetime(2019, 5, 15, 15, 20, 21, tzinfo=UTC)
    assert StartJob.from_dict(job.decision_json).role == "implementer"
    delivery = edge.ledger.get_delivery("d-1")
    assert delivery is not None and delivery.job_id == job.id
    assert (delivery.event, delivery.action) == ("issue_comment", "created")
    assert edge.enqueued.wait_for(1) == [job.id]


def test_a_redelivery_is_200_duplicate_and_makes_no_second_job(edge: Edge) -> None:
    first = edge.post(BODY, delivery="d-2")
    again = edge.post(BODY, delivery="d-2")
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json() == {"delivery": "d-2", "duplicate": True}
    assert edge.counts() == (1, 1)
    assert edge.enqueued.wait_for(1) == [first.json()["job_id"]]


def test_a_reply_becomes_a_reply_job_for_the_worker(edge: Edge) -> None:
    response = edge.post(json.dumps(comment_payload("/frobnicate")).encode(), delivery="d-3")
    assert response.status_code == 202
    assert response.json()["decision"] == "reply"
    job = edge.ledger.get_job(response.json()["job_id"])
    assert job is not None
    assert job.kind == "reply" and job.decision_json["body"] == "I don't know that command."
    assert (job.repo_full_name, job.issue_number, job.installation_id) == (
        "Codertocat/Hello-World",
        1,
        1,
    )


def test_an_ignored_event_is_recorded_without_a_job(edge: Edge) -> None:
    response = edge.post(json.dumps(comment_payload("thanks!")).encode(), delivery="d-4")
    assert response.status_code == 202
    assert response.json()["decision"] == "ignored"
    assert edge.counts() == (1, 0)


def test_during_a_secret_rotation_old_and_new_secrets_are_accepted(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, webhook_secret="the-new-secret", webhook_secret_previous="the-old-secret"
    )
    with edge_for(settings) as edge:
        assert edge.post(BODY, delivery="new", secret="the-new-secret").status_code == 202
        assert edge.post(BODY, delivery="old", secret="the-old-secret").status_code == 202
        assert edge.post(BODY, delivery="other", secret="another-secret").status_code == 401
        assert edge.counts() == (2, 2)


def test_githubs_documented_test_vector_verifies() -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    secret = b"It's a Secret to Everybody"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(secret, b"Hello, World!") == expected
    assert signature_matches([secret], b"Hello, World!", expected)
    assert not signature_matches([secret], b"Hello, World?", expected)
    assert not signature_matches([b"other", secret[:-1]], b"Hello, World!", expected)
    assert not signature_matches([secret], b"Hello, World!", "sha1=abc\u00e9")


def test_many_concurrent_deliveries_are_all_durable_and_deduplicated(edge: Edge) -> None:
    # 200 deliveries, 16 at a time; every tenth one is sent twice (a redelivery race).
    ids = [f"bulk-{n}" for n in range(200)]
    sends = ids + ids[::10]
    body = json.dumps(comment_payload(padding=16_000)).encode()
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=16)) as client:
        sender = Edge(edge.url, client, edge.ledger, edge.enqueued, edge.app)
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda d: sender.post(body, delivery=d).status_code, sends))
    assert statuses.count(202) == 200
    assert statuses.count(200) == 20
    assert edge.counts() == (200, 200)
    assert len(set(edge.enqueued.wait_for(200))) == 200 == len(edge.enqueued.ids)


class GatedLedger(Ledger):
    """Holds the first commit until released, as a slow disk would."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.entered = threading.Event()
        self.release = threading.Event()
        self.batches: list[int] = []

    def record_deliveries(self, batch: Any) -> list[Recorded]:
        if not self.entered.is_set():
            self.entered.set()
            self.release.wait(20)
        self.batches.append(len(batch))
        return super().record_deliveries(batch)

    def intake_connection(self) -> None:
        # The intake then writes every batch through record_deliveries, held above; how
        # it groups deliveries does not depend on which way it writes them.
        return None


def test_deliveries_arriving_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    ledger = GatedLedger(f"sqlite:///{tmp_path / 'ledger.db'}")
    intake = Intake(ledger, lambda job_id: None)
    intake.start()

    async def submit_all() -> list[Recorded]:
        first = asyncio.ensure_future(intake.submit(_ignored("first")))
        await asyncio.to_thread(ledger.entered.wait, 20)  # the writer is committing "first"
        rest = [asyncio.ensure_future(intake.submit(_ignored(f"d{n}"))) for n in range(99)]
        await asyncio.sleep(0)  # each submit queues its delivery, then awaits the commit
        ledger.release.set()
        return await asyncio.gather(first, *rest)

    try:
        results = asyncio.run(submit_all())
    finally:
        intake.stop()
        ledger.close()
    assert len(results) == 100 and not any(r.duplicate for r in results)
    assert ledger.batches == [1, 99]
    assert ledger.count_deliveries() == 100


def test_a_lone_delivery_is_committed_without_waiting_for_company(tmp_path: Path) -> None:
    """Batches wait for more deliveries only while more keep coming (an hour here)."""
    ledger = GatedLedger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.release.set()
    intake = Intake(ledger, lambda job_id: None, group_window=3600)
    intake.start()

    async def one_then_a_crowd() -> list[Recorded]:
        alone = await asyncio.wait_for(intake.submit(_ignored("alone")), 60)
        crowd = [intake.submit(_ignored(f"crowd-{n}")) for n in range(30)]
        return [alone, *await asyncio.wait_for(asyncio.gather(*crowd), 60)]

    try:
        results = asyncio.run(one_then_a_crowd())
    finally:
        intake.stop()
        ledger.close()
    assert len(results) == 31 and not any(r.duplicate for r in results)
    assert ledger.batches == [1, 30]


def test_a_delivery_arriving_while_another_writer_holds_the_ledger_is_recorded(
    edge: Edge,
) -> None:
    # A job's worker (or another process) is in the middle of a write transaction.
    blocker = sqlite3.connect(edge.ledger.url.removeprefix("sqlite:///"), timeout=20)
    blocker.isolation_level = None
    blocker.execute("BEGIN IMMEDIATE")
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(edge.post, BODY, delivery="while-locked")
        time.sleep(0.5)  # let it reach the intake while the lock is held
        blocker.execute("ROLLBACK")
        blocker.close()
        assert answer.result().status_code == 202
    assert edge.counts() == (1, 1)
    assert edge.enqueued.wait_for(1) == [edge.ledger.get_delivery("while-locked").job_id]


def _ignored(delivery_id: str) -> NewDelivery:
    return NewDelivery(
        id=delivery_id, event="issues", action="opened", decision="ignored", reason="test"
    )


def test_the_dashboard_lists_jobs_only_to_whom_may_see_them(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, app_id=1, private_key="-----BEGIN KEY-----", operator_token="op-" + "7" * 30
    )
    with edge_for(settings) as edge:
        edge.post(BODY, delivery="page-1")
        anonymous = edge.client.get(edge.url + "/")
        assert anonymous.status_code == 200 and "Sign in to Rolecall" in anonymous.text
        assert 'class="job"' not in anonymous.text
        page = edge.client.get(edge.url + "/", headers={"Authorization": f"Bearer op-{'7' * 30}"})
        assert page.status_code == 200
        assert page.text.count('class="job"') == 1 and "state-queued" in page.text
        health = edge.client.get(edge.url + "/healthz")
        assert health.status_code == 200 and health.json()["configured"] is True


# --- bodies and headers GitHub never sends (issue 9 §6) -------------------------------------
#
# Each is signed with the real secret, so only what the body or headers say decides the
# answer: a 400 or 401 that says why and records nothing, or a 2xx once recorded.


def test_integers_are_read_up_to_64_bits_and_refused_past_them(edge: Edge) -> None:
    def with_number(value: int) -> bytes:
        payload = comment_payload("/implement")
        payload["comment"]["id"] = value
        payload["repository"]["owner"]["site_admin_level"] = value  # read by no decision
        return json.dumps(payload).encode()

    assert edge.post(with_number(2**63 - 1), delivery="max").status_code == 202
    assert edge.post(with_number(-(2**63)), delivery="min").status_code == 202
    past_python_int_parsing = BODY[:-1] + b', "n": ' + b"9" * 5_000 + b"}"
    for delivery, body in (
        ("over", with_number(2**63)),
        ("under", with_number(-(2**63) - 1)),
        ("huge", past_python_int_parsing),
    ):
        response = edge.post(body, delivery=delivery)
        assert response.status_code == 400, response.text
        assert "64-bit" in response.json()["error"]
    assert edge.counts() == (2, 2)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e309", b"-2e400"])
def test_numbers_that_are_not_finite_are_refused(edge: Edge, literal: bytes) -> None:
    response = edge.post(BODY[:-1] + b', "score": ' + literal + b"}")
    assert response.status_code == 400
    assert edge.counts() == (0, 0)


def test_nesting_is_refused_with_400_before_it_exhausts_the_parser(edge: Edge) -> None:
    shallow = BODY[:-1] + b', "x": ' + b"[" * 50 + b"]" * 50 + b"}"
    assert edge.post(shallow, delivery="shallow").status_code == 202
    for delivery, levels in (("deep", 1_000), ("deeper", 1_000_000)):
        deep = BODY[:-1] + b', "x": ' + b"[" * levels + b"]" * levels + b"}"
        response = edge.post(deep, delivery=delivery)
        assert response.status_code == 400 and "nests" in response.json()["error"]
    assert edge.counts() == (1, 1)


@pytest.mark.parametrize(
    "escaped",
    [
        rb"\ud800",  # a high surrogate alone
        rb"\uDFFF",  # a low one, upper-case hex
        rb"\ud83d\ud83d",  # two highs are not a pair
        rb"\ude80\ud83d",  # a pair in the wrong order
        rb"\\\ud800",  # an escaped backslash, then a lone surrogate
    ],
)
def test_lone_surrogates_are_refused_wherever_they_are(edge: Edge, escaped: bytes) -> None:
    for where in (b'"comment_text": "x', b'"key_'):
        body = BODY[:-1] + b", " + where + escaped + (b'"}' if where[-1:] == b"x" else b'": 1}')
        response = edge.post(body)
        assert response.status_code == 400, body[-60:]
        assert "surrogate" in response.json()["error"]
    assert edge.counts() == (0, 0)


@pytest.mark.parametrize(
    "escaped", [rb"\ud83d\ude80", rb"\uD83D\uDE80", rb"\\ud800", rb"\\\\ud800", rb"\u005cud800"]
)
def test_surrogate_pairs_and_escaped_backslashes_are_read_as_text(
    edge: Edge, escaped: bytes
) -> None:
    response = edge.post(BODY[:-1] + b', "text": "x' + escaped + b'"}')
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16"),
        ("utf-16-be", "UTF-16"),
        ("utf-32", "UTF-32"),
        ("utf-32-be", "UTF-32"),
        ("utf-8-sig", "byte order mark"),
        ("cp1252", "not UTF-8"),
    ],
)
def test_a_body_that_is_not_utf8_is_refused(edge: Edge, encoding: str, named: str) -> None:
    body = json.dumps(comment_payload("/implement naïve"), ensure_ascii=False).encode(encoding)
    response = edge.post(body)
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert edge.counts() == (0, 0)


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("X-Hub-Signature-256", 401),
        ("X-GitHub-Event", 400),
        ("X-GitHub-Delivery", 400),
        ("Content-Type", 400),
    ],
)
def test_a_header_github_sends_once_is_refused_when_repeated(
    edge: Edge, name: str, status: int
) -> None:
    good = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "issue_comment",
        "X-GitHub-Delivery": "repeated-1",
        "X-Hub-Signature-256": sign(SECRET.encode(), BODY),
    }
    others = {
        "Content-Type": "text/plain",
        "X-GitHub-Event": "ping",
        "X-GitHub-Delivery": "repeated-2",
        "X-Hub-Signature-256": sign(b"forged", BODY),
    }
    for order in ((good[name], others[name]), (others[name], good[name]), (good[name],) * 2):
        headers = [(key, value) for key, value in good.items() if key != name]
        headers += [(name, value) for value in order]
        response = edge.client.post(edge.url + WEBHOOK_PATH, content=BODY, headers=headers)
        assert response.status_code == status, (order, response.text)
        assert f"more than one {name}" in response.json()["error"]
    assert edge.counts() == (0, 0)


@pytest.mark.parametrize(
    "event", ["projects_v2_item", "projects_v2", "security_and_analysis", "sub_issues"]
)
def test_event_names_with_digits_reach_the_decision(edge: Edge, event: str) -> None:
    response = edge.post(BODY, event=event, delivery=f"event-{event}")
    assert response.status_code == 202
    assert response.json()["decision"] == "ignored"
    delivery = edge.ledger.get_delivery(f"event-{event}")
    assert delivery is not None and delivery.event == event


@pytest.mark.parametrize("event", ["Issue_comment", "2fa", "_x", "issue-comment", "a" * 65])
def test_event_names_github_cannot_send_are_refused(edge: Edge, event: str) -> None:
    response = edge.post(BODY, event=event)
    assert response.status_code == 400
    assert "X-GitHub-Event" in response.json()["error"]


# --- every row fits every ledger --------------------------------------------------------------


def real_decide(event: str, payload: Mapping[str, Any], *, bot_login: str | None) -> Decision:
    """The real handlers, as `rolecall serve` wires them."""
    from handlers.dispatch import dispatch

    return dispatch(event, payload, bot_login=bot_login)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """None for the default SQLite file; a PostgreSQL schema of its own otherwise."""
    if request.param == "sqlite":
        yield None
        return
    postgres: Ledger = request.getfixturevalue("postgres_ledger")
    yield postgres.url


def test_text_and_ids_every_ledger_holds_are_recorded_as_github_sent_them(
    tmp_path: Path, ledger_url: str | None
) -> None:
    settings = make_settings(tmp_path, database_url=ledger_url)
    with edge_for(settings, real_decide) as edge:
        payload = comment_payload("/implement")
        payload["comment"]["id"] = 3_000_000_000  # GitHub's ids are past 2**31
        payload["installation"]["id"] = 2**63 - 1
        payload["sender"]["login"] = "Codertocat\x00"  # PostgreSQL text holds no NUL
        answer = edge.post(json.dumps(payload).encode(), delivery="wide")
        assert answer.status_code == 202, answer.text
        job = edge.ledger.get_job(answer.json()["job_id"])
        assert job is not None
        assert (job.comment_id, job.installation_id) == (3_000_000_000, 2**63 - 1)
        assert job.sender_login == "Codertocat\ufffd"

        ping = json.loads((PAYLOADS / "ping.json").read_text())
        ping["zen"] = "Keep it\x00 logically awesome." + "!" * 100_000
        answer = edge.post(json.dumps(ping).encode(), event="ping", delivery="zen")
        assert answer.status_code == 200, answer.text
        delivery = edge.ledger.get_delivery("zen")
        assert delivery is not None and delivery.reason.startswith("Keep it\ufffd logically")
        assert len(delivery.reason) <= 2_000


def test_what_no_column_can_hold_is_recorded_as_ignored_not_refused(
    tmp_path: Path, ledger_url: str | None
) -> None:
    settings = make_settings(tmp_path, database_url=ledger_url)
    with edge_for(settings, real_decide) as edge:
        long_role = comment_payload("/" + "r" * 201)  # a role's name: at most 200
        answer = edge.post(json.dumps(long_role).encode(), delivery="long-role")
        assert answer.status_code == 202, answer.text
        assert answer.json()["decision"] == "ignored"
        assert "role is 201 characters" in answer.json()["reason"]

        odd_action = comment_payload("/implement")
        odd_action["action"] = "created" + "_" * 100
        answer = edge.post(json.dumps(odd_action).encode(), delivery="long-action")
        assert answer.status_code == 202, answer.text
        delivery = edge.ledger.get_delivery("long-action")
        assert delivery is not None and delivery.action is None
        assert edge.counts() == (2, 0)


@pytest.mark.postgres
def test_a_ledger_made_with_32_bit_id_columns_is_widened_on_start(
    tmp_path: Path, postgres_ledger: Ledger
) -> None:
    with postgres_ledger.engine.begin() as conn:  # as an older Rolecall created them
        for column in ("installation_id", "issue_number", "comment_id", "tracking_comment_id"):
            conn.exec_driver_sql(f"ALTER TABLE job ALTER COLUMN {column} TYPE INTEGER")
    settings = make_settings(tmp_path, database_url=postgres_ledger.url)
    with edge_for(settings, real_decide) as edge:
        payload = comment_payload("/implement")
        payload["comment"]["id"] = 3_000_000_000
        answer = edge.post(json.dumps(payload).encode(), delivery="after-upgrade")
        assert answer.status_code == 202, answer.text
        job = edge.ledger.get_job(answer.json()["job_id"])
        assert job is not None and job.comment_id == 3_000_000_000
