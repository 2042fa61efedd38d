"""The one way out of the sandbox: an HTTP CONNECT proxy that admits listed host names only.

A sandboxed command has no network (its network namespace holds only a loopback
interface). A role that needs package registries is given this proxy instead of the
host's network: it listens on a Unix socket in a private directory that the sandbox
binds read-only at `SANDBOX_DIR`; inside, a small forwarder (started by the command's
prologue, see `agents.sandbox.forwarder`) relays `127.0.0.1:PROXY_PORT` to that socket, and
`HTTPS_PROXY`/`HTTP_PROXY` point there, so pip, npm, cargo and curl use it unchanged.

Every decision is made here, on the host, from the CONNECT line alone: the forwarder and
anything else inside the sandbox can be replaced by the agent and gain nothing. Rules
(checked with `agents.sandbox.allowlist`):

- Only `CONNECT host:port`; plain-HTTP proxying (`GET http://…`) is refused, so only TLS
  tunnels leave and their content is the registry's business.
- The host must be a listed name (exact, or below a `*.` wildcard of at least two
  labels), compared case-insensitively without a trailing dot. Addresses are refused in
  every spelling: `127.0.0.1`, `[::1]`, and the numeric forms C resolvers also accept
  (`2130706433`, `0177.0.0.1`, `0x7f.1`), as are cloud metadata names. The port must be
  the listed one, 443 when none is listed.
- DNS is not trusted, not even for listed names (whoever controls a listed domain's DNS,
  or a name below a listed wildcard, picks the address). The name is resolved once; if
  any address it resolves to is not public (loopback, private, link-local, unique-local,
  shared/CGNAT, multicast, unspecified, reserved, an IPv6 form of one of those, or a
  cloud metadata address) the CONNECT is refused with a 403 that says so; otherwise the
  proxy connects to exactly the addresses it checked, never resolving the name again (a
  second lookup is how DNS rebinding gets from a checked address to an internal one).
- `resolver` and `allow_private` exist for tests, which have no internet: a test
  resolves its own names to loopback and allows one loopback network for the upstream it
  runs. Production passes neither: the system resolver, and no private address at all.
  Metadata addresses are refused even where `allow_private` covers them.
- An empty or malformed allow-list never means "everything": `parse_allowlist` raises on
  any bad entry and callers then run the sandbox without the proxy, i.e. without network.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from agents.sandbox.allowlist import (
    AllowlistError,
    HostRule,
    IPAddress,
    IPNetwork,
    Resolver,
    check_target,
    network_refusal,
    parse_allowlist,
    resolve_public,
    system_resolver,
)
from agents.sandbox.forwarder import SOCKET_NAME

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 8192


@dataclass(frozen=True)
class EgressDecision:
    """One CONNECT the proxy answered: where to, and whether it let it through."""

    target: str
    allowed: bool
    reason: str


class EgressProxy:
    """The host side: a CONNECT proxy on a Unix socket in a fresh private directory.

    Use as a context manager around the agent run; `directory` is what the sandbox binds.
    `decisions` records every request, for the job's log and for tests.
    """

    def __init__(
        self,
        rules: Iterable[HostRule],
        *,
        resolver: Resolver = system_resolver,
        allow_private: frozenset[IPNetwork] = frozenset(),
        connect_timeout: float = 10.0,
        idle_timeout: float = 300.0,
        max_connections: int = 32,
    ) -> None:
        self.rules = tuple(rules)
        if not self.rules:
            raise AllowlistError("an egress proxy needs at least one allowed host")
        self.resolver = resolver
        self.allow_private = allow_private
        self.connect_timeout = connect_timeout
        self.idle_timeout = idle_timeout
        self.decisions: list[EgressDecision] = []
        self._slots = threading.BoundedSemaphore(max_connections)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: socket.socket | None = None
        # A short path: Unix socket paths are limited to 107 bytes.
        self.directory = Path(tempfile.mkdtemp(prefix="rolecall-egress-"))

    @property
    def socket_path(self) -> Path:
        return self.directory / SOCKET_NAME

    def start(self) -> EgressProxy:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.socket_path))
        server.listen(64)
        server.settimeout(0.2)
        self._server = server
        self._thread = threading.Thread(target=self._accept_loop, name="rolecall-egress")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._server is not None:
            self._server.close()
        with self._lock:
            for conn in list(self._open):
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> EgressProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._server is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self._slots.acquire(blocking=False):
                _answer(conn, 503, "too many connections through the egress proxy")
                conn.close()
                continue
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        self._track(client)
        try:
            client.settimeout(self.connect_timeout)
            head = _read_head(client)
            target, refusal = self._check(head)
            if refusal is not None:
                self._record(target, False, refusal)
                _answer(client, 403 if target else 405, refusal)
                return
            host, port_text = target.rsplit(":", 1)
            port = int(port_text)
            addresses, refusal = self._resolve(host, port)
            if refusal is not None:
                self._record(target, False, refusal)
                _answer(client, 403 if addresses else 502, refusal)
                return
            try:
                upstream = self._connect(addresses, port)
            except OSError as exc:
                self._record(target, False, f"cannot connect: {exc}")
                _answer(client, 502, f"cannot reach {target}")
                return
            self._track(upstream)
            self._record(target, True, "allowed")
            client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            self._relay(client, upstream)
        except (OSError, ValueError) as exc:
            log.debug("egress connection ended: %s", exc)
        finally:
            for conn in (client, upstream):
                if conn is not None:
                    self._untrack(conn)
                    conn.close()
            self._slots.release()

    def _check(self, head: bytes) -> tuple[str, str | None]:
        """(target, None) for an allowed CONNECT, else (target or "", why it is refused)."""
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = line.split()
        if len(parts) != 3 or parts[0] != "CONNECT" or not parts[2].startswith("HTTP/1."):
            return "", "only CONNECT host:port is allowed through this proxy (use https)"
        host, _, port_text = parts[1].rpartition(":")
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            return parts[1], f"{parts[1]} is not host:port"
        return check_target(self.rules, host, int(port_text))

    def _resolve(self, host: str, port: int) -> tuple[list[IPAddress], str | None]:
        """The addresses to connect to, or why not (`allowlist.resolve_public`)."""
        return resolve_public(host, port, self.resolver, self.allow_private)

    def _connect(self, addresses: Sequence[IPAddress], port: int) -> socket.socket:
        """A connection to the first of the checked `addresses` that answers (no DNS here)."""
        last: OSError | None = None
        for ip in addresses:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            conn = socket.socket(family, socket.SOCK_STREAM)
            conn.settimeout(self.connect_timeout)
            try:
                conn.connect((str(ip), port))
            except OSError as exc:
                conn.close()
                last = exc
                continue
            return conn
        raise last or OSError("no address to connect to")

    def _relay(self, a: socket.socket, b: socket.socket) -> None:
        """Copy both ways until either side closes or nothing moves for `idle_timeout`."""
        for conn in (a, b):
            conn.setblocking(False)
        peer = {a: b, b: a}
        idle_until = time.monotonic() + self.idle_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ)
            selector.register(b, selectors.EVENT_READ)
            while not self._stopping.is_set() and time.monotonic() < idle_until:
                ready = selector.select(timeout=min(self.idle_timeout, 1.0))
                if not ready:
                    continue
                idle_until = time.monotonic() + self.idle_timeout
                for key, _ in ready:
                    source = key.fileobj
                    assert isinstance(source, socket.socket)
                    try:
                        data = source.recv(65536)
                    except BlockingIOError:
                        continue
                    if not data:
                        return
                    peer[source].settimeout(self.idle_timeout)
                    peer[source].sendall(data)
                    peer[source].setblocking(False)

    def _record(self, target: str, allowed: bool, reason: str) -> None:
        with self._lock:
            self.decisions.append(EgressDecision(target, allowed, reason))
        log.info("egress %s: %s", "allowed" if allowed else "refused", reason)

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.discard(conn)


def _read_head(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(1024)
        if not chunk:
            raise ValueError("the client closed before finishing its request")
        data += chunk
        if len(data) > MAX_HEAD_BYTES:
            raise ValueError("request head too large")
    return data


def _answer(conn: socket.socket, status: int, reason: str) -> None:
    titles = {403: "Forbidden", 405: "Method Not Allowed", 502: "Bad Gateway", 503: "Busy"}
    body = (reason + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {titles.get(status, 'Error')}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        conn.sendall(head.encode() + body)


def egress_for(
    allowlist: str,
    granted_roles: Iterable[str],
    role: str,
    *,
    resolver: Resolver = system_resolver,
    allow_private: frozenset[IPNetwork] = frozenset(),
) -> EgressProxy | None:
    """The (unstarted) proxy for `role` if it is granted network, else None: no network.

    `granted_roles` holds role names (compared case-insensitively) or `*` for all. An
    allow-list that is empty or has any malformed entry gives None, logged as an error:
    a typo never widens what the agent can reach. `resolver` and `allow_private` are the
    test seam described in the module's docstring; production leaves them alone.
    """
    granted = frozenset(granted_roles)
    if network_refusal(allowlist, granted, role) is None:
        return EgressProxy(
            parse_allowlist(allowlist), resolver=resolver, allow_private=allow_private
        )
    if allowlist.strip() and granted:
        try:
            parse_allowlist(allowlist)
        except AllowlistError as exc:
            log.error(
                "the network allow-list is malformed (%s); %s runs without network", exc, role
            )
    return None
