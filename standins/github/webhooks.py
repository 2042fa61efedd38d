"""Webhook deliveries as GitHub makes them: signed, headed, recorded, redeliverable.

Headers match GitHub's (`X-GitHub-Event`, `X-GitHub-Delivery`, `X-GitHub-Hook-*`,
both signatures, `User-Agent: GitHub-Hookshot/...`), the body is compact JSON signed
as sent, and each POST waits at most 10 s like GitHub. A receiver that is down or
slow is recorded as a failed delivery, never raised: that is GitHub's behaviour and
what Rolecall must survive.

People's actions deliver synchronously (the test continues once the receiver
answered); deliveries caused by the App's own API calls go through a background
queue, so an API call never waits on the App's own webhook receiver.
"""

from __future__ import annotations

import hmac
import http.client
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

HOOKSHOT_AGENT = "GitHub-Hookshot/5f4a2c1"
DELIVERY_TIMEOUT = 10.0
_BODY_LIMIT = 65536


@dataclass
class Delivery:
    """One attempt to deliver one event; a redelivery is a new record with the same id."""

    id: str
    event: str
    action: str | None
    payload: dict[str, Any] = field(repr=False)
    status: int | None = None
    response_body: str | None = field(default=None, repr=False)
    error: str | None = None
    redelivery: bool = False
    url: str | None = None
    body: bytes = field(default=b"", repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    # Wall-clock times it was created and answered, for timelines (`rolecall demo`).
    sent_at: float = field(default_factory=time.time)
    answered_at: float | None = None
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def sign(secret: str, body: bytes, digest: str = "sha256") -> str:
    return f"{digest}=" + hmac.new(secret.encode(), body, digest).hexdigest()


class Webhooks:
    """Builds, signs, sends and remembers deliveries for the App's one webhook."""

    def __init__(self, secret: str, app_id: int, hook_id: int) -> None:
        self.secret = secret
        self.app_id = app_id
        self.hook_id = hook_id
        self.url: str | None = None
        self.timeout = DELIVERY_TIMEOUT
        self._lock = threading.Lock()
        self._log: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._worker: threading.Thread | None = None

    @property
    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._log)

    def start(self) -> None:
        self._worker = threading.Thread(
            target=self._drain, name="github-standin-webhooks", daemon=True
        )
        self._worker.start()

    def stop(self) -> None:
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(timeout=self.timeout + 5)
            self._worker = None

    def emit(self, event: str, payload: dict[str, Any], *, wait: bool) -> Delivery:
        """Record a delivery and send it, now (`wait`) or from the background queue."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        delivery = Delivery(
            id=str(uuid.uuid4()),
            event=event,
            action=payload.get("action"),
            payload=payload,
            body=body,
        )
        delivery.headers = self._headers(delivery)
        with self._lock:
            self._log.append(delivery)
        if wait or self._worker is None:
            self._send(delivery)
        else:
            self._queue.put(delivery)
        return delivery

    def redeliver(self, delivery_id: str) -> Delivery:
        """GitHub's "Redeliver": the same body and the same X-GitHub-Delivery, sent again."""
        with self._lock:
            original = next((d for d in self._log if d.id == delivery_id), None)
        if original is None:
            raise KeyError(f"no delivery {delivery_id}")
        again = Delivery(
            id=original.id,
            event=original.event,
            action=original.action,
            payload=original.payload,
            body=original.body,
            redelivery=True,
        )
        again.headers = self._headers(again)
        with self._lock:
            self._log.append(again)
        self._send(again)
        return again

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every queued delivery was attempted; False if that took too long."""
        with self._lock:
            pending = [d for d in self._log if not d.done.is_set()]
        return all(d.done.wait(timeout) for d in pending)

    # internals ---------------------------------------------------------------------

    def _headers(self, delivery: Delivery) -> dict[str, str]:
        return {
            "Accept": "*/*",
            "Content-Type": "application/json",
            "User-Agent": HOOKSHOT_AGENT,
            "X-GitHub-Delivery": delivery.id,
            "X-GitHub-Event": delivery.event,
            "X-GitHub-Hook-ID": str(self.hook_id),
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-Hub-Signature": sign(self.secret, delivery.body, "sha1"),
            "X-Hub-Signature-256": sign(self.secret, delivery.body, "sha256"),
        }

    def _drain(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            self._send(delivery)

    def _send(self, delivery: Delivery) -> None:
        url = self.url
        delivery.url = url
        try:
            if url is None:
                return
            parts = urlsplit(url)
            conn_type = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = conn_type(parts.hostname or "127.0.0.1", parts.port, timeout=self.timeout)
            try:
                target = parts.path or "/"
                if parts.query:
                    target += f"?{parts.query}"
                conn.request("POST", target, body=delivery.body, headers=delivery.headers)
                response = conn.getresponse()
                delivery.response_body = response.read(_BODY_LIMIT).decode(errors="replace")
                delivery.status = response.status
            finally:
                conn.close()
        except (OSError, http.client.HTTPException) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        finally:
            delivery.answered_at = time.time()
            delivery.done.set()
