"""What the egress proxy admits: the allow-list, and the addresses that are never public.

The rules themselves are described in `agents.sandbox.netproxy`, which applies them to
each CONNECT: a listed host name (exact, or below a `*.` wildcard of at least two
labels) on its listed port; no address in any spelling, no cloud metadata name or
address; and a name only when every address it resolves to is public.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

DEFAULT_PORT = 443

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


def host_name(value: str) -> str | None:
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


def address_literal(host: str) -> IPAddress | None:
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
        name = host_name(host[2:] if wildcard else host)
        if name is None:
            raise AllowlistError(f"{item!r} is not a host name (write e.g. pypi.org)")
        if wildcard and name.count(".") < 1:
            raise AllowlistError(f"{item!r} is too broad: a wildcard needs a domain like *.a.org")
        rules.append(HostRule(name, port, wildcard))
    return tuple(rules)


def not_a_name(host: str) -> str:
    """Why a CONNECT host that is not a plain host name is refused, in words."""
    literal = address_literal(host)
    if literal is not None:
        kind = non_public(literal)
        what = f"{literal} is {kind}" if kind else f"{literal} is an address"
        return f"{what}; only host names on the allow-list are reachable"
    if re.fullmatch(r"[0-9a-fA-FxX.]+", host):
        return f"{host} is an address written as a number; only listed host names are reachable"
    return f"{host} is not a host name; only listed names are allowed"


# -- the decisions the egress proxy and WebFetch share ---------------------------------


def check_target(rules: Sequence[HostRule], host: str, port: int) -> tuple[str, str | None]:
    """(`host:port` as checked, None) when `rules` admit it, else (the target, why not).

    `host` is as the request wrote it: a name is compared lower-case without its
    trailing dot; an address in any spelling and a cloud metadata name are refused.
    """
    name = host_name(host)
    target = f"{name or host}:{port}"
    if name is None:
        return target, not_a_name(host)
    if name in METADATA_NAMES:
        return target, f"{name} is a cloud metadata service, which is never reachable"
    if not any(rule.admits(name, port) for rule in rules):
        return target, f"{target} is not on this role's network allow-list"
    return target, None


def resolve_public(
    host: str,
    port: int,
    resolver: Resolver,
    allow_private: frozenset[IPNetwork] = frozenset(),
    *,
    who: str = "the egress proxy",
) -> tuple[list[IPAddress], str | None]:
    """The addresses to connect to, or why not: resolved once, every one checked.

    One address that is not public refuses the whole name: a name that mixes a public
    and an internal address is exactly what a rebinding attacker would serve. Connect to
    exactly these addresses afterwards, never to the name (a second lookup is how DNS
    rebinding gets from a checked address to an internal one). `allow_private` is the
    tests' seam; metadata addresses are refused even where it covers them.
    """
    try:
        addresses = list(resolver(host, port))
    except (OSError, ValueError) as exc:
        return [], f"{host} did not resolve: {exc}"
    if not addresses:
        return [], f"{host} did not resolve"
    for ip in addresses:
        allowed = any(ip.version == net.version and ip in net for net in allow_private)
        if ip in METADATA_ADDRESSES or not allowed:
            kind = non_public(ip)
            if kind is not None:
                return addresses, (
                    f"destination {host} resolves to {ip}, {kind}; {who} "
                    "reaches public addresses only"
                )
    return addresses, None


def network_refusal(allowlist: str, granted_roles: Iterable[str], role: str) -> str | None:
    """None when `role` is granted network, else why not, naming the settings to change.

    `granted_roles` holds role names (compared case-insensitively) or `*` for all. An
    empty or malformed allow-list grants nobody anything.
    """
    granted = {name.casefold() for name in granted_roles}
    fix = (
        f"to grant it, add {role!r} (or `*`) to ROLECALL_NETWORK_ROLES and list the hosts "
        "it may reach in ROLECALL_NETWORK_ALLOWLIST"
    )
    if not allowlist.strip():
        return f"ROLECALL_NETWORK_ALLOWLIST is empty, so no role has network ({fix})"
    try:
        rules = parse_allowlist(allowlist)
    except AllowlistError as exc:
        return f"ROLECALL_NETWORK_ALLOWLIST is malformed ({exc}), so no role has network"
    if not rules:
        return f"ROLECALL_NETWORK_ALLOWLIST lists no host, so no role has network ({fix})"
    if not ("*" in granted or role.casefold() in granted):
        return f"role {role!r} is not granted network ({fix})"
    return None
