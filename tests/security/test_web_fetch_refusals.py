"""WebFetch reaches what the egress proxy would let through, and nothing else.

An agent granted network is offered WebFetch, which runs on Rolecall's host: the
fetches below are what an obeyed injection would try with it. Each is answered by a
real server on loopback (tests/web_site.py): the site the fetch may reach, and a trap
that must never see a connection. Names resolve through a table (the proxy's test seam),
and the only private address allowed is the site's own, as in the egress-proxy tests;
where a test says "production", there is no seam at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agents.sandbox.allowlist import IPNetwork
from agents.sandbox.netproxy import egress_for
from agents.tools.web_fetch import WebFetcher
from tests.web_site import SITE_ONLY, Site, TableResolver, networks, page, redirect, site_on

TRAP = "127.0.0.2"  # reachable only if WebFetch wrongly connects; nothing may arrive


@pytest.fixture
def site() -> Iterator[Site]:
    with site_on() as web:
        web.routes["/"] = page("<p>the listed site</p>")
        yield web


@pytest.fixture
def trap() -> Iterator[Site]:
    with site_on(TRAP) as web:
        web.routes["/"] = page("<p>the trap answered</p>")
        yield web


def fetcher(
    allowlist: str,
    answers: dict[str, list[list[str]]],
    *,
    allow_private: frozenset[IPNetwork] = SITE_ONLY,
    max_bytes: int = 5 * 1024 * 1024,
    timeout: float = 30,
) -> tuple[WebFetcher, TableResolver]:
    """The fetcher agents.run builds for a granted role, with the tests' DNS."""
    resolver = TableResolver(answers)
    egress = egress_for(
        allowlist, ["*"], "researcher", resolver=resolver, allow_private=allow_private
    )
    assert egress is not None
    web = WebFetcher.for_egress(egress)
    return WebFetcher(
        web.rules,
        resolver=web.resolver,
        allow_private=web.allow_private,
        max_bytes=max_bytes,
        timeout=timeout,
    ), resolver


def refused(result_content: str, is_error: bool) -> str:
    assert is_error, result_content
    assert result_content.startswith("WebFetch refused: "), result_content
    return result_content


def test_a_host_off_the_list_is_refused_before_any_lookup(site: Site) -> None:
    web, resolver = fetcher(
        f"docs.test:{site.port}",
        {"docs.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]},
    )
    for url in (
        f"http://other.test:{site.port}/",
        f"http://docs.test.other.test:{site.port}/",
        f"http://docs.test:{site.port + 1}/",  # a listed name on another port
        "http://docs.test/",  # port 80, not listed
    ):
        result = web.fetch(url)
        assert "is not on this role's network allow-list" in refused(
            result.content, result.is_error
        )
    assert resolver.questions == []
    assert site.connections == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://2130706433:{port}/",
        "http://0177.0.0.1:{port}/",
        "http://0x7f.1:{port}/",
        "http://%31%32%37.0.0.1:{port}/",
        "http://docs.test@127.0.0.1:{port}/",
        "http://user:pw@docs.test:{port}/",
        "file:///etc/passwd",
        "ftp://docs.test:{port}/",
        "gopher://docs.test:{port}/_GET",
        "http://docs.test:{port}/a b",
        "http://docs.test:{port}/\r\nX-Injected: 1",
        "http://metadata.google.internal/computeMetadata/v1/",
    ],
)
def test_addresses_other_schemes_and_tricks_in_the_url_are_refused(url: str, site: Site) -> None:
    web, resolver = fetcher(f"docs.test:{site.port}", {"docs.test": [["127.0.0.1"]]})
    result = web.fetch(url.format(port=site.port))
    refused(result.content, result.is_error)
    assert resolver.questions == []
    assert site.connections == 0


def test_a_listed_name_that_resolves_to_a_private_address_is_refused(
    site: Site, trap: Site
) -> None:
    """Every address is checked before any connection; the trap (listed first and
    allowed) would see a fetch that connected before checking them all."""
    answers = {
        "lan.test": [[TRAP, "10.1.2.3"]],
        "cloud.test": [[TRAP, "169.254.169.254"]],
        "cgnat.test": [[TRAP, "100.64.7.7"]],
        "mapped.test": [[TRAP, "::ffff:192.168.0.1"]],
        "v6.test": [["fd00::1"]],
    }
    allowlist = " ".join(f"{name}:{trap.port}" for name in answers)
    web, _ = fetcher(allowlist, answers, allow_private=networks(f"{TRAP}/32", "169.254.0.0/16"))
    seen = {name: web.fetch(f"http://{name}:{trap.port}/") for name in answers}
    for result in seen.values():
        refused(result.content, result.is_error)
    assert "resolves to 10.1.2.3, a private address" in seen["lan.test"].content
    # Metadata stays refused even where the seam allows its network.
    assert "resolves to 169.254.169.254, a cloud metadata address" in seen["cloud.test"].content
    assert "resolves to 100.64.7.7, a shared" in seen["cgnat.test"].content
    assert "a private address (192.168.0.1, written as IPv6)" in seen["mapped.test"].content
    assert "resolves to fd00::1, a unique-local address" in seen["v6.test"].content
    assert trap.connections == 0


def test_production_refuses_a_listed_name_that_resolves_to_this_host(site: Site) -> None:
    """No seam: the system resolver, no private address allowed, `localhost` listed."""
    egress = egress_for(f"localhost:{site.port}", ["researcher"], "researcher")
    assert egress is not None
    result = WebFetcher.for_egress(egress).fetch(f"http://localhost:{site.port}/")
    content = refused(result.content, result.is_error)
    assert "localhost resolves to" in content and "a loopback address" in content
    assert site.connections == 0


def test_no_dns_rebinding_the_checked_address_is_the_one_connected_to(
    site: Site, trap: Site
) -> None:
    """The name is resolved once per request and connected to by address: a second
    answer pointing inside is never asked for, and the trap sees nothing."""
    web, resolver = fetcher(
        f"rebind.test:{site.port}", {"rebind.test": [["127.0.0.1"], [TRAP]]},
        allow_private=networks("127.0.0.1/32", f"{TRAP}/32"),
    )  # fmt: skip
    result = web.fetch(f"http://rebind.test:{site.port}/")
    assert not result.is_error, result.content
    assert "the listed site" in result.content
    assert resolver.questions == ["rebind.test"]
    assert site.requests == [("/", f"rebind.test:{site.port}")]
    assert trap.connections == 0


def test_a_redirect_is_checked_like_the_first_request(site: Site, trap: Site) -> None:
    """Redirects to an address, to a name inside, to a name off the list, to another
    scheme, to the same name now resolving inside (rebinding across a redirect), and
    one too many: each is refused before anything connects."""
    site.routes["/to-address"] = redirect(f"http://{TRAP}:{trap.port}/")
    site.routes["/to-inside"] = redirect(f"http://inside.test:{trap.port}/")
    site.routes["/to-unlisted"] = redirect(f"http://unlisted.test:{trap.port}/")
    site.routes["/to-file"] = redirect("file:///etc/passwd")
    site.routes["/to-metadata"] = redirect("http://169.254.169.254/latest/meta-data/")
    site.routes["/again"] = redirect("/rebound")
    for hop in range(7):
        site.routes[f"/loop{hop}"] = redirect(f"/loop{hop + 1}", 307)
    web, resolver = fetcher(
        f"docs.test:{site.port} inside.test:{trap.port}",
        {
            "docs.test": [["127.0.0.1"]],
            "inside.test": [["10.0.0.7"]],
            "unlisted.test": [[TRAP]],
        },
    )
    expected = {
        "/to-address": f"{TRAP} is a loopback address",
        "/to-inside": "inside.test resolves to 10.0.0.7, a private address",
        "/to-unlisted": f"unlisted.test:{trap.port} is not on this role's network allow-list",
        "/to-file": "only http:// and https:// URLs can be fetched",
        "/to-metadata": "169.254.169.254 is a cloud metadata address",
        "/loop0": "more than 5 redirects",
    }
    for path, reason in expected.items():
        result = web.fetch(f"http://docs.test:{site.port}{path}")
        assert reason in refused(result.content, result.is_error)
    assert "unlisted.test" not in resolver.questions
    assert trap.connections == 0

    rebinding, dns = fetcher(
        f"docs.test:{site.port}", {"docs.test": [["127.0.0.1"], [TRAP]]},
        allow_private=networks("127.0.0.1/32"),
    )  # fmt: skip
    result = rebinding.fetch(f"http://docs.test:{site.port}/again")
    assert f"docs.test resolves to {TRAP}, a loopback address" in refused(
        result.content, result.is_error
    )
    assert dns.questions == ["docs.test", "docs.test"]  # resolved and checked again
    assert trap.connections == 0


def test_an_oversized_answer_is_refused_and_not_read_to_the_end(site: Site) -> None:
    limit = 256 * 1024
    site.routes["/declared"] = page(b"x" * (limit + 1), "text/plain")
    site.routes["/endless"] = site.endless()
    web, _ = fetcher(f"docs.test:{site.port}", {"docs.test": [["127.0.0.1"]]}, max_bytes=limit)
    declared = web.fetch(f"http://docs.test:{site.port}/declared")
    assert f"more than {limit} bytes, WebFetch's limit" in refused(
        declared.content, declared.is_error
    )
    endless = web.fetch(f"http://docs.test:{site.port}/endless")
    assert f"more than {limit} bytes, WebFetch's limit" in refused(
        endless.content, endless.is_error
    )
    assert len(endless.content) < 1000  # none of the body reaches the model


def test_a_server_that_dribbles_is_given_up_at_the_deadline(site: Site) -> None:
    site.routes["/slow"] = site.endless(b"x", delay=0.2)
    web, _ = fetcher(f"docs.test:{site.port}", {"docs.test": [["127.0.0.1"]]}, timeout=1)
    result = web.fetch(f"http://docs.test:{site.port}/slow")
    assert "did not answer within 1 s" in refused(result.content, result.is_error)


def test_a_compressed_answer_is_refused(site: Site) -> None:
    def gzipped(handler: object) -> None:
        from http.server import BaseHTTPRequestHandler

        assert isinstance(handler, BaseHTTPRequestHandler)
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Encoding", "gzip")
        handler.send_header("Content-Length", "4")
        handler.end_headers()
        handler.wfile.write(b"\x1f\x8b\0\0")

    site.routes["/bomb"] = gzipped
    web, _ = fetcher(f"docs.test:{site.port}", {"docs.test": [["127.0.0.1"]]})
    result = web.fetch(f"http://docs.test:{site.port}/bomb")
    assert "gzip-compressed" in refused(result.content, result.is_error)
    # WebFetch asked for no compression in the first place, once.
    assert site.requests == [("/bomb", f"docs.test:{site.port}")]
    [headers] = site.headers
    assert [value for name, value in headers if name.lower() == "accept-encoding"] == ["identity"]
