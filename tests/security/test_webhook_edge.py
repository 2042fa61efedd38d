"""The webhook edge: signatures, sizes, statuses, rotation, and durable deduplication.

Most tests talk to the shared `rolecall serve` process; the rotation and restart tests
start their own, since they need other settings or a restart. One test runs the app in
this process to watch the comparison itself.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.ledger import Ledger, close_ledgers
from bot.settings import Settings
from bot.webhooks import MAX_BODY_BYTES, WEBHOOK_PATH, signature_matches
from tests.security.conftest import World

pytestmark = pytest.mark.usefixtures("bwrap")


def sign(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def post(
    url: str,
    body: bytes,
    secret: str,
    *,
    event: str = "issue_comment",
    delivery: str | None = None,
    **headers: str,
) -> httpx.Response:
    sent = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(secret, body),
        **headers,
    }
    return httpx.post(url + WEBHOOK_PATH, content=body, headers=sent, timeout=60)


def test_the_signature_is_checked_on_the_raw_bytes_in_constant_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def watched(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", watched)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path, webhook_secret="new", webhook_secret_previous="old"
    )
    with TestClient(create_app(settings, enqueue=lambda job_id: None)) as client:
        body = b'{"zen":  "Design for failure.", "hook_id": 1}'

        def send(content: bytes, signature: str) -> int:
            return client.post(
                WEBHOOK_PATH,
                content=content,
                headers={
                    "Content-Type": "application/json",
                    "X-GitHub-Event": "ping",
                    "X-GitHub-Delivery": str(uuid.uuid4()),
                    "X-Hub-Signature-256": signature,
                },
            ).status_code

        assert send(body, sign("new", body)) == 200
        # Every secret is compared, even after the first matched: timing tells nothing.
        assert len(compared) == 2
        # The same JSON in other bytes does not verify: the signature covers the raw body.
        assert send(json.dumps(json.loads(body)).encode(), sign("new", body)) == 401
        assert send(body, sign("new", body).upper()) == 401
    assert len(compared) == 6 and all(isinstance(a, bytes) for a, _ in compared)


def test_githubs_documented_test_vector_verifies(world: World) -> None:
    # https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    secret = b"It's a Secret to Everybody"
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert sign(secret, b"Hello, World!") == expected
    assert signature_matches([secret], b"Hello, World!", expected)
    assert not signature_matches([secret], b"Hello, World?", expected)
    # Through the running server: the vector is not JSON, so it is refused for that (400),
    # after its signature verified; the same body signed otherwise is a 401.
    world_secret = world.github.webhook_secret
    signed = post(world.rolecall.url, b"Hello, World!", world_secret)
    assert signed.status_code == 400 and "JSON" in signed.json()["error"]
    assert post(world.rolecall.url, b"Hello, World!", "It's a Secret").status_code == 401


def test_a_body_with_non_ascii_text_and_escaped_slashes_verifies(world: World) -> None:
    number = world.new_issue("Unicode")
    payload = world.comment_payload("alice", number, "Ünïcødé ✓ 🚀 — a/b/c <tag> no command")
    # As some senders do: raw UTF-8, and slashes escaped as `\/`.
    body = json.dumps(payload, ensure_ascii=False).replace("/", "\\/").encode()
    assert b"\\/" in body and "🚀".encode() in body
    answer = post(world.rolecall.url, body, world.github.webhook_secret)
    assert answer.status_code == 202, answer.text
    assert answer.json()["decision"] == "ignored"  # verified, parsed, decided
    recoded = json.dumps(payload).encode()  # the same payload, ASCII-escaped
    assert post(world.rolecall.url, recoded, world.github.webhook_secret).status_code == 202


def edge_app(data_dir: Path, **secrets: str) -> TestClient:
    """Rolecall's app (real handlers, real ledger file) in this process; `with` runs it."""
    settings = Settings(_env_file=None, data_dir=data_dir, **secrets)  # type: ignore[call-arg]
    return TestClient(create_app(settings, enqueue=lambda job_id: None))


def send(client: TestClient, body: bytes, secret: str, delivery: str | None = None) -> Any:
    return client.post(
        WEBHOOK_PATH,
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issue_comment",
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, body),
        },
    )


def test_a_secret_rotation_accepts_old_and_new_during_its_window(
    world: World, tmp_path: Path
) -> None:
    number = world.new_issue("Rotation")
    body = json.dumps(world.comment_payload("alice", number, "just a note")).encode()
    old, new = "the-old-" + uuid.uuid4().hex, "the-new-" + uuid.uuid4().hex
    with edge_app(tmp_path / "a", WEBHOOK_SECRET=new, WEBHOOK_SECRET_PREVIOUS=old) as client:
        assert send(client, body, new).status_code == 202
        assert send(client, body, old).status_code == 202
        assert send(client, body, "anything-else").status_code == 401
    close_ledgers()
    # The window closes when WEBHOOK_SECRET_PREVIOUS is removed: the old one is refused.
    with edge_app(tmp_path / "b", WEBHOOK_SECRET=new) as client:
        assert send(client, body, new).status_code == 202
        refused = send(client, body, old)
        assert refused.status_code == 401 and "WEBHOOK_SECRET" in refused.json()["error"]
    close_ledgers()


def raw_request(url: str, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes on a socket and read the status line: no client library in between."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def test_bodies_are_read_in_bounded_amounts(world: World) -> None:
    secret = world.github.webhook_secret
    before = len(world.jobs())
    # A declared size over the limit is refused before a byte of the body is read.
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: issue_comment\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: {sign(secret, b'')}\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    ).encode()
    status, _ = raw_request(world.rolecall.url, head)
    assert status == 413
    # A chunked body is counted as it arrives and refused once past the limit.
    sent = 0

    def chunks() -> Any:
        nonlocal sent
        piece = b" " * (1024 * 1024)
        for _ in range(MAX_BODY_BYTES // len(piece) + 8):
            sent += len(piece)
            yield piece

    answer = httpx.post(
        world.rolecall.url + WEBHOOK_PATH,
        content=chunks(),
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "issue_comment",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(secret, b"x"),
        },
        timeout=60,
    )
    assert answer.status_code == 413
    assert len(world.jobs()) == before


def test_each_refusal_has_its_status(world: World) -> None:
    url, secret = world.rolecall.url, world.github.webhook_secret
    body = json.dumps({"zen": "x", "hook_id": 1}).encode()
    assert httpx.get(url + WEBHOOK_PATH, timeout=10).status_code == 405
    wrong_type = post(url, body, secret, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong_type.status_code == 415
    no_event = httpx.post(
        url + WEBHOOK_PATH,
        content=body,
        headers={"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, body)},
        timeout=10,
    )
    assert no_event.status_code == 400
    too_big = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"X-GitHub-Event: ping\r\nX-GitHub-Delivery: {uuid.uuid4()}\r\n"
        f"X-Hub-Signature-256: {sign(secret, b'')}\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    ).encode()
    assert raw_request(url, too_big)[0] == 413
    assert post(url, body, "not-the-secret").status_code == 401
    assert post(url, b"{not json", secret).status_code == 400
    assert post(url, body, secret, event="ping").status_code == 200


def test_a_delivery_is_deduplicated_across_a_restart(world: World, tmp_path: Path) -> None:
    number = world.new_issue("Deliver me twice")
    body = json.dumps(world.comment_payload("alice", number, "/implement")).encode()
    secret, delivery = "a-secret-" + uuid.uuid4().hex, str(uuid.uuid4())
    with edge_app(tmp_path, WEBHOOK_SECRET=secret) as client:
        answer = send(client, body, secret, delivery)
        assert answer.status_code == 202 and answer.json()["decision"] == "job"
    close_ledgers()  # the app and every connection to its ledger are gone: a restart
    with edge_app(tmp_path, WEBHOOK_SECRET=secret) as client:
        repeat = send(client, body, secret, delivery)
        assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
        assert send(client, body, secret).json()["decision"] == "job"  # the control
    close_ledgers()
    ledger = Ledger(f"sqlite:///{tmp_path / 'rolecall.db'}")
    try:
        jobs = [j for j in ledger.list_jobs() if j.issue_number == number]
        assert len(jobs) == 2 and ledger.count_deliveries() == 2
        assert sum(1 for j in jobs if j.delivery_id == delivery) == 1
    finally:
        ledger.close()
