"""WebFetch: one web page, fetched by Rolecall's host under the egress proxy's rules.

Only a run that has the egress proxy (a role in ROLECALL_NETWORK_ROLES, with a valid
ROLECALL_NETWORK_ALLOWLIST) is offered WebFetch (`agents.tools.offer`), and each fetch
is held to the very rules the proxy applies to a CONNECT (`agents.sandbox.allowlist`):

- `http://` or `https://` only, no credentials in the URL, and the host must be a listed
  name on a listed port (80 or 443 unless the URL names one; a bare `pypi.org` in the
  allow-list means port 443). An address in any spelling, or a metadata name, is refused.
- The name is resolved once; if any address is not public the fetch is refused, else the
  connection goes to exactly those addresses (never the name again: no DNS rebinding).
  TLS is verified against the name, as a browser would.
- A redirect is followed (at most `MAX_REDIRECTS`) only after its target passes the same
  checks, with a fresh resolution; a redirect to an internal address is refused.
- The answer is capped (`max_bytes`, else refused), the whole fetch has one deadline
  (`timeout`, enforced by closing the socket, however slowly the server dribbles), and
  compressed or binary answers are refused. HTML is reduced to readable text
  (`agents.tools.html_text`); other text is returned as it is, without invisible
  characters.

The fetch runs on the host, not in the sandbox: nothing the agent controls is executed,
and what comes back is text for the model, as untrusted as an issue comment.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from urllib.parse import quote, urljoin, urlsplit

from agents.sandbox.allowlist import (
    HostRule,
    IPAddress,
    IPNetwork,
    Resolver,
    check_target,
    resolve_public,
    system_resolver,
)
from agents.sandbox.netproxy import EgressProxy
from agents.tools.html_text import html_to_text, visible
from agents.tools.result import ToolResult

MAX_URL_CHARS = 4096
MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TEXT_TYPES = frozenset(
    {"application/json", "application/xml", "application/javascript", "application/x-yaml"}
)
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_WHO = "WebFetch"


class FetchRefused(Exception):
    """Why a fetch did not happen or did not finish, in words for the model."""


@dataclass(frozen=True)
class _Target:
    """A URL that passed the checks: where to connect and what to ask for."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: Message
    body: bytes


class WebFetcher:
    """Fetches pages for one run, admitting what its egress proxy would admit."""

    def __init__(
        self,
        rules: Sequence[HostRule],
        *,
        resolver: Resolver = system_resolver,
        allow_private: frozenset[IPNetwork] = frozenset(),
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = DEFAULT_TIMEOUT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.resolver = resolver
        self.allow_private = allow_private
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.tls = tls or ssl.create_default_context()
        self.fetched: list[str] = []  # every URL a request was sent to, redirects included

    @classmethod
    def for_egress(cls, egress: EgressProxy) -> WebFetcher:
        """The fetcher with exactly the run's proxy's allow-list, resolver and seam."""
        return cls(egress.rules, resolver=egress.resolver, allow_private=egress.allow_private)

    def fetch(self, url: str) -> ToolResult:
        """The page at `url` as text, or an error result saying why not."""
        deadline = time.monotonic() + self.timeout
        try:
            for _ in range(MAX_REDIRECTS + 1):
                target = self._check(url)
                answer = self._get(target, deadline)
                location = answer.headers.get("Location")
                if answer.status in _REDIRECTS and location:
                    url = urljoin(target.url, location.strip())
                    continue
                return _render(target.url, answer)
            raise FetchRefused(f"more than {MAX_REDIRECTS} redirects; stopped at {url}")
        except FetchRefused as refused:
            return ToolResult(f"WebFetch refused: {refused}", True)

    # -- checks --------------------------------------------------------------------------

    def _check(self, url: str) -> _Target:
        """`url` as a target the allow-list admits, resolved once to public addresses."""
        if len(url) > MAX_URL_CHARS:
            raise FetchRefused(f"the URL is longer than {MAX_URL_CHARS} characters")
        if any(char <= " " or char == "\x7f" for char in url):
            raise FetchRefused("the URL holds spaces or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise FetchRefused(f"{url} is not a URL ({exc})") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise FetchRefused(f"{url}: only http:// and https:// URLs can be fetched")
        if "@" in parts.netloc:
            raise FetchRefused(f"{url}: a URL with a user name or password is not fetched")
        host = parts.hostname or ""
        port = port or _DEFAULT_PORTS[scheme]
        checked, refusal = check_target(self.rules, host, port)
        if refusal is not None:
            raise FetchRefused(refusal)
        name = checked.rpartition(":")[0]
        addresses, refusal = resolve_public(name, port, self.resolver, self.allow_private, who=_WHO)
        if refusal is not None:
            raise FetchRefused(refusal)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        path = "".join(char if char.isascii() else quote(char) for char in path)
        shown = parts._replace(fragment="").geturl()
        return _Target(shown, scheme, name, port, path, tuple(addresses))

    # -- the request ---------------------------------------------------------------------

    def _get(self, target: _Target, deadline: float) -> _Answer:
        """One GET to the checked addresses; the socket is closed at `deadline`."""
        sock = self._connect(target, deadline)
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), expire)
        timer.daemon = True
        timer.start()
        self.fetched.append(target.url)
        try:
            answer = self._exchange(sock, target)
            if expired.is_set():  # the socket was closed under a body without a length
                raise OSError("deadline")
            return answer
        except (OSError, http.client.HTTPException) as exc:
            if expired.is_set():
                raise FetchRefused(
                    f"{target.url} did not answer within {self.timeout:g} s"
                ) from None
            raise FetchRefused(f"{target.url} failed: {_describe(exc)}") from None
        finally:
            timer.cancel()
            sock.close()

    def _connect(self, target: _Target, deadline: float) -> socket.socket:
        """A connection to the first checked address that answers (no DNS here)."""
        last: OSError | None = None
        for ip in target.addresses:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(remaining)
            try:
                sock.connect((str(ip), target.port))
                if target.scheme == "https":
                    sock = self.tls.wrap_socket(sock, server_hostname=target.host)
            except OSError as exc:
                sock.close()
                last = exc
                continue
            return sock
        if last is None:
            raise FetchRefused(f"{target.url} did not answer within {self.timeout:g} s")
        raise FetchRefused(f"cannot reach {target.url}: {_describe(last)}")

    def _exchange(self, sock: socket.socket, target: _Target) -> _Answer:
        conn = http.client.HTTPConnection(target.host, target.port)
        conn.sock = sock  # already connected to a checked address: never resolve again
        default_port = target.port == _DEFAULT_PORTS[target.scheme]
        conn.putrequest("GET", target.path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", target.host if default_port else f"{target.host}:{target.port}")
        conn.putheader("User-Agent", "Rolecall-WebFetch/1")
        conn.putheader("Accept", "text/html, text/plain, application/json, */*;q=0.1")
        conn.putheader("Accept-Encoding", "identity")
        conn.putheader("Connection", "close")
        conn.endheaders()
        response = conn.getresponse()
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchRefused(self._too_large(target.url))
        body = bytearray()
        while chunk := response.read(min(65536, self.max_bytes + 1 - len(body))):
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchRefused(self._too_large(target.url))
        return _Answer(response.status, response.msg, bytes(body))

    def _too_large(self, url: str) -> str:
        return f"{url} answered with more than {self.max_bytes} bytes, WebFetch's limit"


def _render(url: str, answer: _Answer) -> ToolResult:
    """The body as text for the model, with the status and type on the first line."""
    encoding = answer.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise FetchRefused(f"{url} answered {encoding}-compressed; WebFetch reads plain text only")
    kind = answer.headers.get_content_type()
    declared = answer.headers.get("Content-Type")
    textual = kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))
    if declared is None:
        textual = b"\0" not in answer.body
    if not textual:
        raise FetchRefused(f"{url} is {kind}, not text; WebFetch returns text only")
    charset = answer.headers.get_content_charset() or "utf-8"
    try:
        text = answer.body.decode(charset, errors="replace")
    except LookupError:
        text = answer.body.decode("utf-8", errors="replace")
    text = html_to_text(text) if kind in _HTML_TYPES else visible(text)
    failed = not 200 <= answer.status < 300
    head = f"{url} (HTTP {answer.status}, {kind if declared else 'no content type'})"
    return ToolResult(f"{head}\n\n{text or '(empty page)'}", failed)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not valid ({exc.verify_message})"
    return str(exc) or type(exc).__name__
