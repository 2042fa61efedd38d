"""The egress proxy reaches public addresses only, whatever a listed name resolves to.

No test here sends a packet beyond loopback. Names are resolved by a resolver the test
hands the proxy (its constructor's `resolver`), which answers with addresses and records
every question. Where an answer is refused, a listener on 127.0.0.2 stands in for "a
connection was attempted": the resolver lists it first and the proxy is allowed to reach
it, so a proxy that let the refused address through would connect there, and the
listener would count it. Nothing may arrive.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import pytest

from agents.sandbox.netproxy import (
    AllowlistError,
    EgressProxy,
    IPAddress,
    IPNetwork,
    parse_allowlist,
)

TRAP = "127.0.0.2"  # reachable only if the proxy wrongly connects; nothing may arrive


class Listener:
    """A TCP service on a loopback address that greets and counts who connects."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.connections = 0
        self.server = socket.create_server((address, 0))
        self.server.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.getsockname()[1])

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            with conn:
                conn.sendall(f"hello from {self.address}\n".encode())

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.fixture
def upstream() -> Iterator[Listener]:
    service = Listener("127.0.0.1")
    yield service
    service.close()


@pytest.fixture
def trap() -> Iterator[Listener]:
    service = Listener(TRAP)
    yield service
    service.close()


@dataclass
class Resolver:
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


def connect(proxy: EgressProxy, target: str) -> tuple[int, str]:
    """CONNECT through the proxy's socket as a tool in the sandbox would: (status, text).

    The text is the proxy's explanation for a refusal, or what the upstream said first.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.settimeout(10)
        conn.connect(str(proxy.socket_path))
        conn.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        status = int(head.split()[1])
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            rest += chunk
            if status == 200 and rest.endswith(b"\n"):
                break
        return status, rest.decode()


def make_proxy(
    allowlist: str, resolver: Resolver, allow_private: frozenset[IPNetwork] = frozenset()
) -> EgressProxy:
    return EgressProxy(
        parse_allowlist(allowlist), resolver=resolver, allow_private=allow_private
    ).start()


NOT_PUBLIC = [
    ("10.0.0.5", "a private address"),
    ("172.16.0.1", "a private address"),
    ("192.168.1.10", "a private address"),
    ("127.0.0.1", "a loopback address"),
    ("169.254.10.1", "a link-local address"),
    ("169.254.169.254", "a cloud metadata address"),
    ("100.100.100.200", "a cloud metadata address"),
    ("168.63.129.16", "a cloud metadata address"),
    ("100.64.0.1", "a shared (carrier-grade NAT) address"),
    ("0.0.0.0", "an unspecified address"),  # noqa: S104 (an answer, not a bind)
    ("224.0.0.1", "a multicast address"),
    ("240.0.0.1", "a reserved address"),
    ("::1", "a loopback address"),
    ("::", "an unspecified address"),
    ("fe80::1", "a link-local address"),
    ("fd12:3456::1", "a unique-local address"),
    ("fd00:ec2::254", "a cloud metadata address"),
    ("ff02::1", "a multicast address"),
    ("::ffff:10.0.0.1", "a private address (10.0.0.1, written as IPv6)"),
    ("::ffff:127.0.0.1", "a loopback address (127.0.0.1, written as IPv6)"),
    ("64:ff9b::a9fe:a9fe", "a cloud metadata address (169.254.169.254, written as IPv6)"),
    ("2002:c0a8:0101::1", "a private address (192.168.1.1, written as IPv6)"),
]


@pytest.mark.parametrize(("address", "kind"), NOT_PUBLIC)
def test_a_listed_name_that_resolves_to_a_non_public_address_is_refused(
    address: str, kind: str, trap: Listener
) -> None:
    resolver = Resolver({"registry.test": [[TRAP, address]]})
    # The trap is allowed: were the other address let through, the proxy would connect
    # to the trap first (and never send a packet to `address`).
    proxy = make_proxy(f"registry.test:{trap.port}", resolver, networks(f"{TRAP}/32"))
    try:
        status, reason = connect(proxy, f"registry.test:{trap.port}")
    finally:
        proxy.stop()
    assert status == 403
    shown = ipaddress.ip_address(address)  # as the proxy writes it: ::ffff:a00:1
    assert f"destination registry.test resolves to {shown}, {kind}" in reason
    assert trap.connections == 0
    assert resolver.questions == ["registry.test"]
    assert [(d.allowed, d.target) for d in proxy.decisions] == [
        (False, f"registry.test:{trap.port}")
    ]


def test_loopback_is_refused_unless_the_test_allows_it(trap: Listener) -> None:
    resolver = Resolver({"registry.test": [[TRAP]]})
    proxy = make_proxy(f"registry.test:{trap.port}", resolver)
    try:
        status, reason = connect(proxy, f"registry.test:{trap.port}")
    finally:
        proxy.stop()
    assert status == 403
    assert f"resolves to {TRAP}, a loopback address" in reason
    assert trap.connections == 0


def test_metadata_stays_refused_where_private_addresses_are_allowed(trap: Listener) -> None:
    resolver = Resolver(
        {"registry.test": [[TRAP, "169.254.169.254"]], "metadata.google.internal": [[TRAP]]}
    )
    allowlist = f"registry.test:{trap.port} metadata.google.internal:{trap.port}"
    proxy = make_proxy(allowlist, resolver, networks(f"{TRAP}/32", "169.254.0.0/16"))
    try:
        by_address = connect(proxy, f"registry.test:{trap.port}")
        by_name = connect(proxy, f"metadata.google.internal:{trap.port}")
    finally:
        proxy.stop()
    assert by_address[0] == 403 and "a cloud metadata address" in by_address[1]
    assert by_name[0] == 403 and "cloud metadata service" in by_name[1]
    assert resolver.questions == ["registry.test"]  # the metadata name is not even looked up
    assert trap.connections == 0


def test_the_checked_address_is_the_one_connected_to(upstream: Listener, trap: Listener) -> None:
    # DNS rebinding: the first answer passes the check, every later one points inside.
    resolver = Resolver({"registry.test": [["127.0.0.1"], [TRAP], [TRAP]]})
    proxy = make_proxy(f"registry.test:{upstream.port}", resolver, networks("127.0.0.1/32"))
    try:
        status, greeting = connect(proxy, f"registry.test:{upstream.port}")
    finally:
        proxy.stop()
    assert status == 200
    assert greeting == "hello from 127.0.0.1\n"
    assert resolver.questions == ["registry.test"]  # resolved once, never again
    assert upstream.connections == 1
    assert trap.connections == 0


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0177.0.0.1",
        "0x7f.1",
        "0x7f000001",
        "0x7F.0.0.1",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "169.254.169.254",
    ],
)
def test_an_address_in_the_connect_line_is_refused_in_every_spelling(
    host: str, upstream: Listener
) -> None:
    resolver = Resolver({})
    proxy = make_proxy(f"registry.test:{upstream.port}", resolver, networks("127.0.0.0/8"))
    try:
        status, reason = connect(proxy, f"{host}:{upstream.port}")
    finally:
        proxy.stop()
    assert status == 403
    assert "address" in reason and "only" in reason
    assert resolver.questions == []
    assert upstream.connections == 0


@pytest.mark.parametrize("entry", ["0x7f000001", "2130706433", "0x7f.1", "0177.0.0.1"])
def test_an_allow_list_cannot_name_an_address_in_disguise(entry: str) -> None:
    with pytest.raises(AllowlistError):
        parse_allowlist(entry)


def test_a_name_that_does_not_resolve_is_answered_not_guessed(upstream: Listener) -> None:
    resolver = Resolver({})
    proxy = make_proxy(f"registry.test:{upstream.port}", resolver)
    try:
        status, reason = connect(proxy, f"registry.test:{upstream.port}")
    finally:
        proxy.stop()
    assert status == 502
    assert "registry.test did not resolve" in reason
    assert upstream.connections == 0
