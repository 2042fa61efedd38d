"""What the sandbox allows on the network: nothing by default, listed names through the proxy.

Every probe runs in the real bubblewrap sandbox. Where a host service is the target, the
host side counts connections: a probe "failing" is not enough, nothing may arrive.
"""

from __future__ import annotations

import http.server
import ipaddress
import socket
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from agents.sandbox.bubblewrap import BwrapSandbox
from agents.sandbox.interface import CommandResult
from agents.sandbox.netproxy import (
    AllowlistError,
    EgressProxy,
    IPAddress,
    egress_for,
    parse_allowlist,
)

pytestmark = pytest.mark.usefixtures("bwrap")


class Listener:
    """A TCP, UDP and Unix-socket service on the host that counts who reached it."""

    def __init__(self, tmp: Path) -> None:
        self.hits: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_path = tmp / "host-service.sock"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(str(self.unix_path))
        self.unix.listen(4)
        self.abstract_name = f"rolecall-security-{uuid.uuid4().hex}"
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.abstract.listen(4)
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._accept, args=(s, n), daemon=True)
            for s, n in ((self.tcp, "tcp"), (self.unix, "unix"), (self.abstract, "abstract"))
        ] + [threading.Thread(target=self._receive, daemon=True)]
        for thread in self._threads:
            thread.start()

    @property
    def port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def _accept(self, server: socket.socket, name: str) -> None:
        server.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            self.hits.append(name)
            conn.close()

    def _receive(self) -> None:
        self.udp.settimeout(0.1)
        while not self._stop.is_set():
            try:
                self.udp.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            self.hits.append("udp")

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for sock in (self.tcp, self.udp, self.unix, self.abstract):
            sock.close()


@pytest.fixture
def listener(tmp_path: Path) -> Iterator[Listener]:
    service = Listener(tmp_path)
    yield service
    service.close()


@pytest.fixture
def worktree(sandbox_tmp: Path) -> Path:
    path = sandbox_tmp / "work"
    path.mkdir()
    return path


def run(sandbox: BwrapSandbox, command: str, timeout: float = 20) -> CommandResult:
    return sandbox.run(command, timeout=timeout)


# Each probe prints "REACHED" only if it got through; tools that are not installed are
# replaced by an equivalent that exercises the same system calls.
PROBES = {
    "curl": "curl -sS -m 3 http://127.0.0.1:{port}/ && echo REACHED",
    "wget": "wget -q -T 3 -t 1 -O - http://127.0.0.1:{port}/ && echo REACHED",
    "nc": (
        "if command -v nc >/dev/null; then nc -w 3 127.0.0.1 {port} </dev/null && echo REACHED;"
        " else socat -T 3 - TCP:127.0.0.1:{port} </dev/null && echo REACHED; fi"
    ),
    "/dev/tcp": "exec 3<>/dev/tcp/127.0.0.1/{port} && echo REACHED",
    "dns": (
        "getent hosts github.com pypi.org && echo REACHED;"
        " python3 -c 'import socket,sys\n"
        'ns = [l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver")]\n'
        'for host in ns + ["8.8.8.8", "127.0.0.1"]:\n'
        "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
        '    port = {udp_port} if host == "127.0.0.1" else 53\n'
        "    try:\n"
        '        query = b"\\x12\\x34\\x01\\x00\\x00\\x01" + bytes(6)\n'
        "        s.sendto(query, (host, port))\n"
        '        s.settimeout(2); s.recv(512); print("REACHED", host)\n'
        '    except OSError as e: print("no dns via", host, e)\n'
        "'"
    ),
    "ping": (
        "if command -v ping >/dev/null; then ping -c 1 -W 2 1.1.1.1 && echo REACHED; fi;"
        " python3 -c 'import socket\n"
        "for kind in (socket.SOCK_DGRAM, socket.SOCK_RAW):\n"
        "    try:\n"
        "        s = socket.socket(socket.AF_INET, kind, socket.IPPROTO_ICMP)\n"
        '        s.sendto(b"\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00", ("1.1.1.1", 0))\n'
        '        s.settimeout(2); s.recv(64); print("REACHED")\n'
        '    except OSError as e: print("no icmp", kind, e)\n'
        "'"
    ),
    "unix socket": (
        "python3 -c 'import socket,sys\n"
        "for addr in sys.argv[1:]:\n"
        "    s = socket.socket(socket.AF_UNIX)\n"
        '    try: s.connect(addr.replace("@", "\\0", 1)); print("REACHED", addr)\n'
        '    except OSError as e: print("no socket", addr, e)\n'
        "' {unix_path} @{abstract_name}"
    ),
}


def test_no_network_by_default(
    worktree: Path, listener: Listener, bwrap_as: Callable[..., BwrapSandbox]
) -> None:
    sandbox = bwrap_as(worktree)
    for name, probe in PROBES.items():
        command = probe.format(
            port=listener.port,
            udp_port=listener.udp_port,
            unix_path=listener.unix_path,
            abstract_name=listener.abstract_name,
        )
        result = run(sandbox, command)
        assert "REACHED" not in result.output, f"{name} got through:\n{result.output}"
    # Nothing arrived on the host, by any route.
    assert listener.hits == []
    # The namespace holds a loopback interface and nothing else: no route anywhere.
    interfaces = run(sandbox, "cat /proc/net/dev").output.splitlines()[2:]
    assert [line.split(":")[0].strip() for line in interfaces] == ["lo"]
    assert run(sandbox, "cat /proc/net/route").output.strip().count("\n") == 0


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.hosts.append(self.headers["Host"])  # type: ignore[attr-defined]
        body = b"hello from the registry\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def registry() -> Iterator[http.server.ThreadingHTTPServer]:
    """A local stand-in for a package registry, reachable as `localhost` or `127.0.0.1`."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    server.hosts = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def registry_resolver(host: str, port: int) -> Sequence[IPAddress]:
    """The tests' DNS: `registry.test` is the local registry; nothing else exists."""
    if host != "registry.test":
        raise OSError(f"no such host: {host}")
    return [ipaddress.ip_address("127.0.0.1")]


# Loopback is not public, so the proxy refuses it; the tests allow exactly the address
# their registry listens on (production allows nothing: agents.sandbox.netproxy).
REGISTRY_ONLY = frozenset({ipaddress.ip_network("127.0.0.1/32")})


def test_a_granted_role_reaches_listed_hosts_only_through_the_proxy(
    worktree: Path,
    registry: http.server.ThreadingHTTPServer,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    port = registry.server_address[1]
    proxy = egress_for(
        f"registry.test:{port}",
        ["installer"],
        "installer",
        resolver=registry_resolver,
        allow_private=REGISTRY_ONLY,
    )
    assert proxy is not None
    with proxy:
        sandbox = bwrap_as(worktree, egress_dir=proxy.directory)
        # The listed name passes, through the proxy the environment points at.
        listed = run(sandbox, f"curl -sS -m 5 --proxytunnel http://registry.test:{port}/simple/")
        assert listed.exit_code == 0, listed.output
        assert "hello from the registry" in listed.output
        # The same server by a name that is not listed (its address) is refused...
        unlisted = run(sandbox, f"curl -sS -m 5 --proxytunnel http://127.0.0.1:{port}/")
        assert unlisted.exit_code != 0 and "403" in unlisted.output
        # ...as is another port of the listed name, plain-HTTP proxying, and going direct.
        other_port = run(sandbox, f"curl -sS -m 5 --proxytunnel http://registry.test:{port + 1}/")
        assert other_port.exit_code != 0 and "403" in other_port.output
        plain = run(
            sandbox,
            f"curl -sS -m 5 -o /dev/null -w '%{{http_code}}' http://registry.test:{port}/",
        )
        assert plain.output.startswith("405")
        direct = run(sandbox, f"curl -sS -m 5 --noproxy '*' http://registry.test:{port}/")
        assert direct.exit_code != 0
        # Replacing the forwarder gains nothing: the host decides on every CONNECT.
        raw = run(
            sandbox,
            "python3 -c 'import socket\n"
            's = socket.socket(socket.AF_UNIX); s.connect("/run/rolecall-egress/egress.sock")\n'
            f's.sendall(b"CONNECT 127.0.0.1:{port} HTTP/1.1\\r\\n\\r\\n"); print(s.recv(100))\'',
        )
        assert "403" in raw.output
    assert registry.hosts == [f"registry.test:{port}"]  # type: ignore[attr-defined]
    decisions = [(d.target, d.allowed) for d in proxy.decisions]
    assert (f"registry.test:{port}", True) in decisions
    assert (f"127.0.0.1:{port}", False) in decisions
    assert (f"registry.test:{port + 1}", False) in decisions


# What a tool in the sandbox sees when it asks the proxy itself: status line and reason.
RAW_CONNECT = (
    "python3 -c 'import socket,sys\n"
    's = socket.create_connection(("127.0.0.1", 3128))\n'
    's.sendall(b"CONNECT " + sys.argv[1].encode() + b" HTTP/1.1\\r\\n\\r\\n")\n'
    "print(s.recv(4096).decode())' {target}"
)


def test_a_listed_name_that_resolves_to_loopback_is_refused(
    worktree: Path,
    listener: Listener,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    # Exactly what the worker builds: the system resolver, no private address allowed.
    # `localhost` is listed, and resolves (as a hostile DNS answer would) to this host.
    proxy = egress_for(f"localhost:{listener.port}", ["installer"], "installer")
    assert proxy is not None
    with proxy:
        sandbox = bwrap_as(worktree, egress_dir=proxy.directory)
        tunnel = run(sandbox, f"curl -sS -m 5 --proxytunnel http://localhost:{listener.port}/")
        raw = run(sandbox, RAW_CONNECT.format(target=f"localhost:{listener.port}"))
    assert tunnel.exit_code != 0 and "403" in tunnel.output
    assert "403 Forbidden" in raw.output
    assert "destination localhost resolves to" in raw.output
    assert "a loopback address" in raw.output
    assert listener.hits == []


def test_a_listed_name_that_resolves_inside_the_network_is_refused(
    worktree: Path,
    listener: Listener,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    """Private, metadata and shared addresses are refused before any connection is made.

    The trap (a loopback listener the proxy is allowed to reach) is answered first: a
    proxy that connected before checking every address would reach it.
    """
    answers = {
        "lan.registry.test": ["127.0.0.1", "10.1.2.3"],
        "cloud.registry.test": ["127.0.0.1", "169.254.169.254"],
        "cgnat.registry.test": ["127.0.0.1", "100.64.7.7"],
        "mapped.registry.test": ["127.0.0.1", "::ffff:192.168.0.1"],
    }

    def hostile_dns(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(a) for a in answers[host]]

    allowlist = " ".join(f"{name}:{listener.port}" for name in answers)
    proxy = egress_for(
        allowlist,
        ["*"],
        "implementer",
        resolver=hostile_dns,
        allow_private=frozenset({ipaddress.ip_network("127.0.0.1/32")}),
    )
    assert proxy is not None
    with proxy:
        sandbox = bwrap_as(worktree, egress_dir=proxy.directory)
        seen = {
            name: run(sandbox, RAW_CONNECT.format(target=f"{name}:{listener.port}")).output
            for name in answers
        }
    assert "resolves to 10.1.2.3, a private address" in seen["lan.registry.test"]
    assert "resolves to 169.254.169.254, a cloud metadata address" in seen["cloud.registry.test"]
    assert "resolves to 100.64.7.7, a shared" in seen["cgnat.registry.test"]
    assert "a private address (192.168.0.1, written as IPv6)" in seen["mapped.registry.test"]
    assert all("403 Forbidden" in output for output in seen.values())
    assert listener.hits == []


@pytest.mark.parametrize(
    "allowlist",
    ["", "   ", "*", "*.org", "pypi.org *", "pypi.org,http://evil.example", "10.0.0.1",
     "pypi.org:99999", "[::1]:443", "pypi.org/simple", "pypi..org"],
)  # fmt: skip
def test_an_empty_or_malformed_allow_list_means_no_network(
    allowlist: str,
    worktree: Path,
    listener: Listener,
    bwrap_as: Callable[..., BwrapSandbox],
) -> None:
    if allowlist.strip():
        with pytest.raises(AllowlistError):
            parse_allowlist(allowlist)
    # What the worker does with it: no proxy at all, so the sandbox has no way out.
    assert egress_for(allowlist, ["*"], "implementer") is None
    sandbox = bwrap_as(worktree)
    result = run(
        sandbox, f"curl -sS -m 3 -x http://127.0.0.1:3128 http://localhost:{listener.port}/"
    )
    assert result.exit_code != 0
    assert listener.hits == []
    # An allow-list is never "everything": a valid one is exactly its names.
    assert [str(r) for r in parse_allowlist("pypi.org, *.pythonhosted.org:443")] == [
        "pypi.org:443",
        "*.pythonhosted.org:443",
    ]
    # And a role not granted network gets none, whatever the list says.
    assert egress_for("pypi.org", ["installer"], "implementer") is None
    with pytest.raises(AllowlistError):
        EgressProxy(())
