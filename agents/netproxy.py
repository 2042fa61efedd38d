"""The one way out of the sandbox: an HTTP CONNECT proxy that admits listed host names only.

A sandboxed command has no network (its network namespace holds only a loopback
interface). A role that needs package registries is given this proxy instead of the
host's network: it listens on a Unix socket in a private directory that the sandbox
binds read-only at `SANDBOX_DIR`; inside, a small forwarder (started by the command's
prologue, see `forwarder_prologue`) relays `127.0.0.1:PROXY_PORT` to that socket, and
`HTTPS_PROXY`/`HTTP_PROXY` point there, so pip, npm, cargo and curl use it unchanged.

Every decision is made here, on the host, from the CONNECT line alone: the forwarder and
anything else inside the sandbox can be replaced by the agent and gain nothing. Rules:

- Only `CONNECT host:port`; plain-HTTP proxying (`GET http://…`) is refused, so only TLS
  tunnels leave and their content is the registry's business.
- The host must be a listed name (exact, or below a `*.` wildcard of at least two
  labels), compared case-insensitively without a trailing dot; IP literals are refused.
  The port must be the listed one, 443 when none is listed.
- The listed name is resolved on the host and connected to as is (DNS for listed names is
  trusted), except that link-local, multicast and unspecified addresses are refused, so a
  listed name cannot be pointed at a cloud metadata service.
- An empty or malformed allow-list never means "everything": `parse_allowlist` raises on
  any bad entry and callers then run the sandbox without the proxy, i.e. without network.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

# Where the proxy's directory appears inside the sandbox, and the port the forwarder
# listens on there (the sandbox has its own loopback, so the port is always free).
SANDBOX_DIR = "/run/rolecall-egress"
SOCKET_NAME = "egress.sock"
PROXY_PORT = 3128
DEFAULT_PORT = 443
MAX_HEAD_BYTES = 8192

_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class AllowlistError(ValueError):
    """An allow-list entry that is not a host name (or `*.domain`) with an optional port."""


@dataclass(frozen=True)
class HostRule:
    """One allow-listed name: `host` exactly, or any name below it when `wildcard`."""

    host: str
    port: int
    wildcard: bool = False

    def admits(self, host: str, port: int) -> bool:
        if port != self.port:
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host

    def __str__(self) -> str:
        return f"{'*.' if self.wildcard else ''}{self.host}:{self.port}"


def _host_name(value: str) -> str | None:
    """`value` as a lower-case DNS name without trailing dot, or None if it is not one."""
    name = value.strip().lower().removesuffix(".")
    if not name or len(name) > 253:
        return None
    labels = name.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        return None
    if labels[-1].isdigit():  # 10.0.0.1 and friends: addresses, not names
        return None
    return name


def parse_allowlist(text: str | Iterable[str]) -> tuple[HostRule, ...]:
    """The rules in an allow-list (comma- or space-separated); `AllowlistError` on any bad one.

    An entry is `host`, `host:port` or `*.domain[:port]` where the domain has at least
    two labels. `*`, bare TLD wildcards, IP addresses, URLs and empty hosts are refused,
    so that no spelling of the list can mean "everywhere".
    """
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    rules: list[HostRule] = []
    for item in items:
        host, port = item, DEFAULT_PORT
        if ":" in item:
            host, _, port_text = item.rpartition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise AllowlistError(f"{item!r}: the port must be a number from 1 to 65535")
            port = int(port_text)
        wildcard = host.startswith("*.")
        name = _host_name(host[2:] if wildcard else host)
        if name is None:
            raise AllowlistError(f"{item!r} is not a host name (write e.g. pypi.org)")
        if wildcard and name.count(".") < 1:
            raise AllowlistError(f"{item!r} is too broad: a wildcard needs a domain like *.a.org")
        rules.append(HostRule(name, port, wildcard))
    return tuple(rules)


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
        connect_timeout: float = 10.0,
        idle_timeout: float = 300.0,
        max_connections: int = 32,
    ) -> None:
        self.rules = tuple(rules)
        if not self.rules:
            raise AllowlistError("an egress proxy needs at least one allowed host")
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
            host, port = target.rsplit(":", 1)
            try:
                upstream = self._connect(host, int(port))
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
        name = _host_name(host)
        target = f"{name or host}:{int(port_text)}"
        if name is None:
            return target, f"{host} is not a host name; only listed names are allowed"
        if not any(rule.admits(name, int(port_text)) for rule in self.rules):
            return target, f"{target} is not on this role's network allow-list"
        return target, None

    def _connect(self, host: str, port: int) -> socket.socket:
        last: OSError | None = None
        for family, kind, proto, _, address in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        ):
            ip = ipaddress.ip_address(address[0])
            if ip.is_link_local or ip.is_multicast or ip.is_unspecified:
                last = OSError(f"{host} resolves to {ip}, which is never allowed")
                continue
            conn = socket.socket(family, kind, proto)
            conn.settimeout(self.connect_timeout)
            try:
                conn.connect(address)
            except OSError as exc:
                conn.close()
                last = exc
                continue
            return conn
        raise last or OSError(f"{host} did not resolve")

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


# -- inside the sandbox ---------------------------------------------------------------------

# Relays 127.0.0.1:PROXY_PORT to the proxy's socket. It decides nothing: replacing it
# gains an agent nothing, because the host side checks every CONNECT.
_FORWARDER = """
import socket, sys, threading
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
def serve(c):
    u = socket.socket(socket.AF_UNIX)
    try:
        u.connect(sys.argv[1])
    except OSError:
        c.close()
        return
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    pipe(u, c)
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[2])))
l.listen(64)
print("ready", flush=True)
sys.stdout.close()
while True:
    c, _ = l.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def sandbox_python() -> str | None:
    """A python3 under /usr (which the sandbox binds), for the forwarder; None if none."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def forwarder_prologue(python: str) -> tuple[str, list[str]]:
    """Shell lines that start the forwarder and wait until it listens, and their args.

    The lines read the forwarder's code from `$2`; the forwarder outlives the lines but
    not the command (it is in the sandbox's PID namespace). If it cannot start, the
    command runs anyway, without network.
    """
    socket_path = f"{SANDBOX_DIR}/{SOCKET_NAME}"
    lines = (
        f'exec 9< <(exec {python} -S -c "$2" {socket_path} {PROXY_PORT} 2>/dev/null); '
        "read -r -t 10 _ <&9; exec 9<&-; "
    )
    return lines, [_FORWARDER]


def proxy_environment() -> dict[str, str]:
    """What tools inside the sandbox read to use the proxy (both spellings, as tools differ)."""
    url = f"http://127.0.0.1:{PROXY_PORT}"
    return {
        "HTTPS_PROXY": url,
        "https_proxy": url,
        "HTTP_PROXY": url,
        "http_proxy": url,
        "ALL_PROXY": url,
        "NO_PROXY": "",
    }


def egress_for(allowlist: str, granted_roles: Iterable[str], role: str) -> EgressProxy | None:
    """The (unstarted) proxy for `role` if it is granted network, else None: no network.

    `granted_roles` holds role names (compared case-insensitively) or `*` for all. An
    allow-list that is empty or has any malformed entry gives None, logged as an error:
    a typo never widens what the agent can reach.
    """
    granted = {name.casefold() for name in granted_roles}
    if not allowlist.strip() or not ("*" in granted or role.casefold() in granted):
        return None
    try:
        rules = parse_allowlist(allowlist)
    except AllowlistError as exc:
        log.error("the network allow-list is malformed (%s); %s runs without network", exc, role)
        return None
    return EgressProxy(rules) if rules else None
