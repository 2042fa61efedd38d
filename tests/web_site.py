"""A real local web site and a table DNS for the WebFetch tests (agents and security).

No HTTP library is mocked: `Site` is a threaded HTTP server on a loopback address that
serves what a test puts in `routes` and records every request and connection, so a test
can say "nothing arrived". `TableResolver` is the resolver seam of the egress proxy's
rules (`agents.sandbox.allowlist.Resolver`): it answers names from a table, one answer
per question in turn, and records every question.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from agents.sandbox.allowlist import IPAddress, IPNetwork

# One route: write the whole answer (status line, headers, body) with the handler.
Route = Callable[[http.server.BaseHTTPRequestHandler], None]


def page(
    body: bytes | str, content_type: str = "text/html; charset=utf-8", status: int = 200
) -> Route:
    """A route that answers `body` with a length."""
    data = body.encode() if isinstance(body, str) else body

    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def redirect(location: str, status: int = 302) -> Route:
    def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


class Site:
    """A web server on `address`; `routes` by path, `requests` as (path, Host) it got."""

    def __init__(self, address: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, str]] = []
        self.headers: list[list[tuple[str, str]]] = []  # every request's headers, in order
        self.connections = 0
        self.sent = 0  # bytes streamed by `endless` routes
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                path = self.path
                site.requests.append((path, self.headers.get("Host", "")))
                site.headers.append(list(self.headers.items()))
                route = site.routes.get(path.split("?", 1)[0])
                if route is None:
                    page("no such page", "text/plain", 404)(self)
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, object]:
                conn, peer = super().get_request()
                site.connections += 1
                if tls is not None:
                    conn = tls.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
                return conn, peer

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that gave up (as WebFetch does on purpose) is not an error

        self.server = Server((address, 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def endless(self, chunk: bytes = b"x" * 65536, *, delay: float = 0.0) -> Route:
        """A route that streams `chunk` for ever (no length), counting into `sent`."""
        stop = threading.Event()

        def answer(handler: http.server.BaseHTTPRequestHandler) -> None:
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Connection", "close")
            handler.end_headers()
            handler.close_connection = True
            try:
                while not stop.wait(delay):
                    handler.wfile.write(chunk)
                    self.sent += len(chunk)
            except OSError:
                return  # the client went away: what a capped fetch does

        return answer


@contextmanager
def site_on(address: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[Site]:
    site = Site(address, tls)
    try:
        yield site
    finally:
        site.close()


@dataclass
class TableResolver:
    """Answers from a table, one answer per question in turn; records every question."""

    answers: dict[str, list[list[str]]]
    questions: list[str] = field(default_factory=list)

    def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        self.questions.append(host)
        turns = self.answers.get(host)
        if not turns:
            raise OSError(f"no such host: {host}")
        answer = turns[0] if len(turns) == 1 else turns.pop(0)
        return [ipaddress.ip_address(a) for a in answer]


def networks(*cidrs: str) -> frozenset[IPNetwork]:
    return frozenset(ipaddress.ip_network(c) for c in cidrs)


# Loopback is not public; the tests allow exactly the address their site listens on
# (production allows nothing: agents.sandbox.netproxy).
SITE_ONLY = networks("127.0.0.1/32")
