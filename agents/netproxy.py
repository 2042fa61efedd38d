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
from collections.abc import Callable, Iterable, Sequence
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
# A last label C's inet_aton would read as a number (decimal, octal or hex): with it, a
# "name" such as 0x7f.1 or 2130706433 is an address in disguise.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> every address the name resolves to, in the order to try them.
Resolver = Callable[[str, int], Sequence[IPAddress]]

# Cloud instance metadata services, by address (AWS, ECS, Azure, GCP, Oracle, Alibaba,
# AWS's IPv6 endpoint) and by name. Never reachable, whatever `allow_private` says.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.169.253",
        "169.254.170.2",
        "168.63.129.16",
        "100.100.100.200",
        "fd00:ec2::254",
        "fd00:ec2::253",
    )
)
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, RFC 6598
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


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
    if _NUMERIC_LABEL.fullmatch(labels[-1]):  # 10.0.0.1, 0x7f.1 and friends: addresses
        return None
    return name


def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the host's resolver gives for `host`, without repeats, in its order."""
    found: list[IPAddress] = []
    for *_, address in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        ip = ipaddress.ip_address(str(address[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    return found


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, 6to4, Teredo, NAT64, compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def non_public(ip: IPAddress) -> str | None:
    """What kind of address `ip` is when it is not a public one ("a loopback address"…).

    None for an address on the public internet. An IPv6 address that carries an IPv4
    address is judged by that too, so `::ffff:127.0.0.1` is loopback however it is written.
    """
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        kind = non_public(inner)
        if kind is not None:
            return f"{kind} ({inner}, written as IPv6)"
    checks: tuple[tuple[bool, str], ...] = (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in _SHARED, "a shared (carrier-grade NAT) address"),
        (ip in _UNIQUE_LOCAL, "a unique-local address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "an address that is not public"),
    )
    return next((kind for matches, kind in checks if matches), None)


def _address_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


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
        name = _host_name(host)
        target = f"{name or host}:{int(port_text)}"
        if name is None:
            return target, _not_a_name(host)
        if name in METADATA_NAMES:
            return target, f"{name} is a cloud metadata service, which is never reachable"
        if not any(rule.admits(name, int(port_text)) for rule in self.rules):
            return target, f"{target} is not on this role's network allow-list"
        return target, None

    def _resolve(self, host: str, port: int) -> tuple[list[IPAddress], str | None]:
        """The addresses to connect to, or why not: resolved once, every one checked.

        One address that is not public refuses the whole name: a name that mixes a public
        and an internal address is exactly what a rebinding attacker would serve.
        """
        try:
            addresses = list(self.resolver(host, port))
        except (OSError, ValueError) as exc:
            return [], f"{host} did not resolve: {exc}"
        if not addresses:
            return [], f"{host} did not resolve"
        for ip in addresses:
            if ip in METADATA_ADDRESSES or not self._private_allowed(ip):
                kind = non_public(ip)
                if kind is not None:
                    return addresses, (
                        f"destination {host} resolves to {ip}, {kind}; the egress proxy "
                        "reaches public addresses only"
                    )
        return addresses, None

    def _private_allowed(self, ip: IPAddress) -> bool:
        return any(ip.version == net.version and ip in net for net in self.allow_private)

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


def _not_a_name(host: str) -> str:
    """Why a CONNECT host that is not a plain host name is refused, in words."""
    literal = _address_literal(host)
    if literal is not None:
        kind = non_public(literal)
        what = f"{literal} is {kind}" if kind else f"{literal} is an address"
        return f"{what}; only host names on the allow-list are reachable"
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host):
        return f"{host} is an address written as a number; only listed host names are reachable"
    return f"{host} is not a host name; only listed names are allowed"


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
    granted = {name.casefold() for name in granted_roles}
    if not allowlist.strip() or not ("*" in granted or role.casefold() in granted):
        return None
    try:
        rules = parse_allowlist(allowlist)
    except AllowlistError as exc:
        log.error("the network allow-list is malformed (%s); %s runs without network", exc, role)
        return None
    if not rules:
        return None
    return EgressProxy(rules, resolver=resolver, allow_private=allow_private)
