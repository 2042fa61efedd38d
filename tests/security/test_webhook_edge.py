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

from bot.settings import Settings
from bot.store.ledger import Ledger, open_ledger
from bot.web.app import create_app
from bot.web.webhooks import MAX_BODY_BYTES, WEBHOOK_PATH, signature_matches
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
    with TestClient(
        create_app(settings, ledger=open_ledger(settings), enqueue=lambda job_id: None)
    ) as client:
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
    return TestClient(
        create_app(settings, ledger=open_ledger(settings), enqueue=lambda job_id: None)
    )


def close_ledger(client: TestClient) -> None:
    """Close the ledger `create_app` opened: every connection to it is gone."""
    client.app.state.ledger.close()  # type: ignore[attr-defined]


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
    close_ledger(client)
    # The window closes when WEBHOOK_SECRET_PREVIOUS is removed: the old one is refused.
    with edge_app(tmp_path / "b", WEBHOOK_SECRET=new) as client:
        assert send(client, body, new).status_code == 202
        refused = send(client, body, old)
        assert refused.status_code == 401 and "WEBHOOK_SECRET" in refused.json()["error"]
    close_ledger(client)


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
    close_ledger(client)  # the app and every connection to its ledger are gone: a restart
    with edge_app(tmp_path, WEBHOOK_SECRET=secret) as client:
        repeat = send(client, body, secret, delivery)
        assert repeat.status_code == 200 and repeat.json()["duplicate"] is True
        assert send(client, body, secret).json()["decision"] == "job"  # the control
    close_ledger(client)
    ledger = Ledger(f"sqlite:///{tmp_path / 'rolecall.db'}")
    try:
        jobs = [j for j in ledger.list_jobs() if j.issue_number == number]
        assert len(jobs) == 2 and ledger.count_deliveries() == 2
        assert sum(1 for j in jobs if j.delivery_id == delivery) == 1
    finally:
        ledger.close()


# --- everything GitHub and an attacker can send (issue 9 §6) ------------------------------
#
# Each delivery below is raw bytes on a socket to the real `rolecall serve`, signed with
# the real secret: an attacker who knows the secret, or GitHub itself, could send it.
# Every one gets a deliberate answer: 2xx only once it is in the ledger, a 4xx that
# says why (and records nothing) otherwise; never a 5xx.

REAL_PAYLOADS = Path(__file__).parents[1] / "github-payloads"


def deliver(
    world: World,
    body: bytes,
    *,
    event: str = "issue_comment",
    delivery: str | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> tuple[int, dict[str, Any], str]:
    """POST `body` as raw HTTP/1.1 with GitHub's headers (or exactly `headers`, in order).

    Returns the status, the JSON answer and the delivery id. `headers` replaces the
    GitHub headers entirely, so a test can repeat or reorder them as it likes.
    """
    delivery = delivery or str(uuid.uuid4())
    secret = world.github.webhook_secret
    sent = headers or [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", event),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", sign(secret, body)),
    ]
    head = f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: rolecall\r\nConnection: close\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in sent)
    head += f"Content-Length: {len(body)}\r\n\r\n"
    host, port = world.rolecall.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(head.encode("latin-1") + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split(b" ")[1]), json.loads(payload), delivery


def recorded_delivery(world: World, delivery: str) -> Any:
    """The ledger's row for `delivery`, read from Rolecall's own database file."""
    world.jobs()  # opens the ledger file
    assert world.ledger is not None
    return world.ledger.get_delivery(delivery)


def assert_refused(world: World, answer: tuple[int, dict[str, Any], str], status: int) -> str:
    """A 4xx with a reason, and nothing recorded for it: no delivery row, no job."""
    code, body, delivery = answer
    assert code == status, (code, body)
    assert body["error"], body
    assert recorded_delivery(world, delivery) is None
    assert not [job for job in world.jobs() if job["delivery_id"] == delivery]
    return str(body["error"])


def assert_acknowledged(world: World, answer: tuple[int, dict[str, Any], str]) -> str:
    """A 2xx only for what is durably in the ledger (invariant 7); returns the decision."""
    code, body, delivery = answer
    assert code in (200, 202), (code, body)
    row = recorded_delivery(world, delivery)
    assert row is not None and row.decision == body["decision"], (row, body)
    return str(body["decision"])


def command_payload(world: World, body: str = "/implement") -> dict[str, Any]:
    """A real `/implement` comment by a writer, whose webhook a test sends itself."""
    return world.comment_payload("alice", world.new_issue("Edge"), body)


def encoded(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def test_every_real_github_payload_is_acknowledged_and_recorded(world: World) -> None:
    files = sorted(REAL_PAYLOADS.glob("*.json"))
    assert len(files) >= 10, f"the real payloads are missing from {REAL_PAYLOADS}"
    for path in files:
        event = path.name.split(".", 1)[0]
        decision = assert_acknowledged(world, deliver(world, path.read_bytes(), event=event))
        assert decision == ("ping" if event == "ping" else "ignored"), path.name


@pytest.mark.parametrize(
    "event",
    [
        "projects_v2_item",
        "projects_v2",
        "projects_v2_status_update",
        "security_and_analysis",
        "branch_protection_configuration",
        "personal_access_token_request",
        "repository_advisory",
    ],
)
def test_event_names_as_github_spells_them_are_ignored_not_refused(
    world: World, event: str
) -> None:
    payload = json.loads((REAL_PAYLOADS / "installation.created.json").read_text())
    payload["action"] = "edited"
    assert assert_acknowledged(world, deliver(world, encoded(payload), event=event)) == "ignored"


@pytest.mark.parametrize("levels", [1_000, 100_000])
def test_deeply_nested_json_is_refused_with_400(world: World, levels: int) -> None:
    payload = encoded(command_payload(world))
    for opener, closer in (b"[", b"]"), (b'{"a":', b"}"):
        nested = payload[:-1] + b', "extra": ' + opener * levels + b"1" + closer * levels + b"}"
        error = assert_refused(world, deliver(world, nested), 400)
        assert "nest" in error


def set_field(payload: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """`payload` with the dotted `path` set to `value` (made where it is missing)."""
    target = payload
    *parents, last = path.split(".")
    for key in parents:
        target = target.setdefault(key, {})
    target[last] = value
    return payload


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("comment.id", 2**64),
        ("installation.id", 2**63),
        ("issue.number", -(2**63) - 1),
        ("repository.owner.id", 10**30),  # a field no decision reads
        ("extra.deeply.nested", [1, 2, 10**4000]),
    ],
)
def test_integers_beyond_64_bits_are_refused_with_400(world: World, path: str, value: int) -> None:
    payload = set_field(command_payload(world), path, value)
    error = assert_refused(world, deliver(world, encoded(payload)), 400)
    assert "64-bit" in error


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
@pytest.mark.parametrize("path", ["comment.id", "repository.watchers_count"])
def test_non_finite_numbers_are_refused_with_400(world: World, constant: str, path: str) -> None:
    marker = "__the_number__"
    payload = set_field(command_payload(world), path, marker)
    body = encoded(payload).replace(f'"{marker}"'.encode(), constant.encode())
    assert constant.encode() in body
    error = assert_refused(world, deliver(world, body), 400)
    assert "finite" in error or "NaN" in error


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("comment.id", "492700400"),
        ("installation.id", "1"),
        ("issue.number", "1"),
        ("repository.id", "1"),
        ("sender.id", "7"),
        ("issue.number", 1.0),
        ("comment.id", True),
        ("comment.created_at", 1557933621),
    ],
)
def test_values_of_the_wrong_json_type_are_not_coerced(world: World, path: str, value: Any) -> None:
    payload = command_payload(world)
    if isinstance(value, float):
        value = float(int(payload["issue"]["number"]))  # the same number, as a float
    error = assert_refused(world, deliver(world, encoded(set_field(payload, path, value))), 400)
    assert path in error


@pytest.mark.parametrize(
    "created_at",
    ["2019-05-15T15:20:21", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"],
)
def test_times_without_a_zone_or_out_of_range_are_refused_with_400(
    world: World, created_at: str
) -> None:
    payload = set_field(command_payload(world), "comment.created_at", created_at)
    error = assert_refused(world, deliver(world, encoded(payload)), 400)
    assert "comment.created_at" in error


@pytest.mark.parametrize(
    "path",
    ["comment.body", "sender.login", "issue.title", "repository.description", "comment.user"],
)
@pytest.mark.parametrize("surrogate", ["\ud800", "\udfff", "\ud83d"])
def test_lone_surrogates_are_refused_with_400(world: World, path: str, surrogate: str) -> None:
    payload = command_payload(world)
    if path == "comment.user":  # in a key rather than a value
        payload["comment"]["user"][f"x{surrogate}"] = 1
    else:
        set_field(payload, path, f"/implement {surrogate} here")
    body = encoded(payload)  # json.dumps escapes it: \ud800
    assert b"\\ud" in body
    error = assert_refused(world, deliver(world, body), 400)
    assert "surrogate" in error


def test_surrogate_pairs_and_escaped_backslashes_are_text_like_any_other(world: World) -> None:
    payload = command_payload(world, "no command here 🚀 \\ud800 C:\\\\ud800")
    body = encoded(payload)  # the emoji as an escaped pair, the backslashes escaped
    assert b"\\ud83d\\ude80" in body and b"\\\\ud800" in body
    assert assert_acknowledged(world, deliver(world, body)) == "ignored"


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-8-sig", "latin-1"]
)
def test_bodies_that_are_not_utf8_are_refused_with_400(world: World, encoding: str) -> None:
    payload = command_payload(world, "/implement café")
    body = json.dumps(payload, ensure_ascii=False).encode(encoding)
    error = assert_refused(world, deliver(world, body), 400)
    assert "UTF-8" in error


@pytest.mark.parametrize("body", [b"[]", b'"issue_comment"', b"1", b"null", b"true", b" "])
def test_valid_json_that_is_not_an_object_is_refused_with_400(world: World, body: bytes) -> None:
    assert_refused(world, deliver(world, body), 400)


def github_headers(world: World, body: bytes, delivery: str) -> list[tuple[str, str]]:
    return [
        ("Content-Type", "application/json"),
        ("X-GitHub-Event", "issue_comment"),
        ("X-GitHub-Delivery", delivery),
        ("X-Hub-Signature-256", sign(world.github.webhook_secret, body)),
    ]


@pytest.mark.parametrize("valid_first", [True, False])
def test_more_than_one_signature_header_is_401_in_either_order(
    world: World, valid_first: bool
) -> None:
    body = encoded(command_payload(world))
    delivery = str(uuid.uuid4())
    headers = github_headers(world, body, delivery)
    forged = ("X-Hub-Signature-256", sign("not-the-secret", body))
    headers = [*headers, forged] if valid_first else [*headers[:3], forged, headers[3]]
    error = assert_refused(world, deliver(world, body, delivery=delivery, headers=headers), 401)
    assert "X-Hub-Signature-256" in error
    # Even the same valid signature twice: GitHub sends exactly one.
    twice = [*github_headers(world, body, delivery), github_headers(world, body, delivery)[3]]
    assert_refused(world, deliver(world, body, delivery=delivery, headers=twice), 401)


@pytest.mark.parametrize(
    ("name", "other"),
    [
        ("X-GitHub-Event", "ping"),
        ("X-GitHub-Delivery", "another-delivery-id"),
        ("Content-Type", "application/json"),
    ],
)
def test_a_repeated_github_header_is_refused_with_400(world: World, name: str, other: str) -> None:
    body = encoded(command_payload(world))
    delivery = str(uuid.uuid4())
    for headers in (
        [*github_headers(world, body, delivery), (name, other)],
        [(name, other), *github_headers(world, body, delivery)],
    ):
        error = assert_refused(world, deliver(world, body, delivery=delivery, headers=headers), 400)
        assert name in error
        assert recorded_delivery(world, "another-delivery-id") is None


@pytest.mark.parametrize(
    "delivery", ["\u00e9t\u00e9", "\xed\xa0\x80", "a" * 65, "../../etc", "id with spaces"]
)
def test_a_delivery_id_that_is_not_one_is_refused_with_400(world: World, delivery: str) -> None:
    body = encoded(command_payload(world))
    code, answer, _ = deliver(world, body, headers=github_headers(world, body, delivery))
    assert code == 400 and "X-GitHub-Delivery" in answer["error"]


def test_text_the_ledger_cannot_hold_verbatim_is_acknowledged_and_durable(world: World) -> None:
    # A NUL character, a command name far longer than any role's, an action longer than
    # any GitHub sends: real users can type the first two; all are answered and recorded.
    nul = assert_acknowledged(world, deliver(world, encoded(command_payload(world, "a\x00b"))))
    assert nul == "ignored"
    long_command = command_payload(world, "/" + "x" * 5_000)
    assert assert_acknowledged(world, deliver(world, encoded(long_command))) == "ignored"
    odd_action = set_field(command_payload(world, "a note"), "action", "created" * 100)
    assert assert_acknowledged(world, deliver(world, encoded(odd_action))) == "ignored"
