"""A tiny webhook receiver: what tests point `GitHubStandIn.webhook_url` at.

It keeps the raw body and headers of every POST (so signatures can be verified on
the exact bytes) and answers with a status a test can change, e.g. 500 to see a
delivery recorded as failed.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def event(self) -> str:
        return self.headers.get("x-github-event", "")


class WebhookReceiver:
    def __init__(self, status: int = 202, body: bytes = b'{"ok":true}', delay: float = 0.0) -> None:
        self.status = status
        self.body = body
        self.delay = delay  # seconds to wait before answering, to play a slow receiver
        self._received: list[Received] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                """Silent; tests read `received`."""

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver._cond:
                    receiver._received.append(Received(self.path, headers, raw))
                    receiver._cond.notify_all()
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}/api/github/webhooks"

    @property
    def received(self) -> list[Received]:
        with self._cond:
            return list(self._received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until `count` deliveries arrived (background deliveries are async)."""
        with self._cond:
            self._cond.wait_for(lambda: len(self._received) >= count, timeout)
            return list(self._received)

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
