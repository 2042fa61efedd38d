"""WebFetch as a granted role uses it: the model asks, Rolecall fetches, the model reads text.

Everything is real: the model stand-in through the SDK, the executor, the toolbox, and a
web site on 127.0.0.1 (tests/web_site.py). The only seam is the one the egress-proxy
tests use: names resolve through a table, and the one loopback address the site listens
on is allowed (production allows no private address). What WebFetch refuses, as an
attacker would try it, is tests/security/test_web_fetch_refusals.py.
"""

from __future__ import annotations

import datetime
import json
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agents.executor import Executor, Limits
from agents.model import ModelClient, ModelRef, Provider, make_client
from agents.roles.loader import load_role_text
from agents.run import RoleRun, RunSpec, SandboxPolicy
from agents.sandbox.bubblewrap import BwrapSandbox
from agents.sandbox.limits import ResourceLimits
from agents.sandbox.netproxy import egress_for
from agents.text.redact import Redactor
from agents.tools.html_text import html_to_text
from agents.tools.offer import CHANGES_REASON, offer_tools
from agents.tools.toolbox import Toolbox
from agents.tools.web_fetch import WebFetcher
from standins.model import ModelStandIn, Turn, text, tool_use
from tests.web_site import SITE_ONLY, Site, TableResolver, page, redirect, site_on

KEY = "test-key"
MODEL = ModelRef("anthropic", "claude-sonnet-5-5")
GUIDE = (
    "<!doctype html><html><head><title>Install guide</title>"
    "<style>body { color: red }</style><script>steal(document.cookie)</script></head>"
    "<body><nav>Home</nav><h1>Installing calc</h1>"
    "<p>Run <code>pip install calc</code>, then   read the\n<a href='/api'>API notes</a>.</p>"
    "<ul><li>Python 3.11+</li><li>No C compiler</li></ul></body></html>"
)


@pytest.fixture
def site() -> Iterator[Site]:
    with site_on() as web:
        web.routes["/guide"] = page(GUIDE)
        yield web


@pytest.fixture
def ms() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=KEY) as standin:
        yield standin
    assert standin.errors == []


def granted_fetcher(site: Site, resolver: TableResolver | None = None) -> WebFetcher:
    """What agents.run builds for a role granted network: the proxy's rules, and its seam."""
    egress = egress_for(
        f"docs.test:{site.port}",
        ["researcher"],
        "researcher",
        resolver=resolver or TableResolver({"docs.test": [["127.0.0.1"]]}),
        allow_private=SITE_ONLY,
    )
    assert egress is not None
    return WebFetcher.for_egress(egress)


def tool_results(request_json: dict[str, Any]) -> list[dict[str, Any]]:
    last = request_json["messages"][-1]
    return [block for block in last["content"] if block.get("type") == "tool_result"]


def result_text(block: dict[str, Any]) -> str:
    content = block["content"]
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content)


@pytest.mark.bwrap
def test_a_granted_role_fetches_a_page_and_the_model_reads_it_as_text(
    ms: ModelStandIn, site: Site, tmp_path: Path
) -> None:
    url = f"http://docs.test:{site.port}/guide"
    ms.script([Turn([text("Reading the guide."), tool_use("WebFetch", {"url": url})]), "Done."])
    worktree = tmp_path / "repo"
    worktree.mkdir()
    toolbox = Toolbox(
        worktree, BwrapSandbox(worktree), ["Read", "WebFetch"], web_fetch=granted_fetcher(site)
    )
    client = ModelClient(make_client(Provider("anthropic", ms.url, KEY), max_retries=1, timeout=5))
    try:
        executor = Executor(client, MODEL, toolbox, Limits(), tmp_path / "t.jsonl")
        result = executor.run("You research.", "How is calc installed?")
    finally:
        client.close()

    assert result.stop == "completed"
    first, second = (request.json for request in ms.requests)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert [tool["name"] for tool in first["tools"]] == ["Read", "WebFetch"]
    [answer] = tool_results(second)
    assert answer.get("is_error") is not True
    seen = result_text(answer)
    assert seen.startswith(f"{url} (HTTP 200, text/html)")
    assert "Install guide" in seen
    assert "Installing calc" in seen
    assert "Run pip install calc, then read the API notes </api>." in seen
    assert "- Python 3.11+" in seen
    assert "steal" not in seen and "color: red" not in seen and "<p>" not in seen
    # The site was asked once, by name: the Host header is the listed name, not the address.
    assert site.requests == [("/guide", f"docs.test:{site.port}")]


def test_a_redirect_within_the_allow_list_is_followed_and_plain_text_is_kept(
    site: Site,
) -> None:
    site.routes["/old"] = redirect("/notes.txt", 301)
    site.routes["/notes.txt"] = page("line one\n  indented\u200b line\n", "text/plain")
    site.routes["/data"] = page(json.dumps({"version": "1.2"}), "application/json")
    fetcher = granted_fetcher(site)
    result = fetcher.fetch(f"http://docs.test:{site.port}/old")
    assert not result.is_error, result.content
    assert result.content.endswith("line one\n  indented line\n")  # the zero-width space is gone
    assert [path for path, _ in site.requests] == ["/old", "/notes.txt"]
    data = fetcher.fetch(f"http://docs.test:{site.port}/data")
    assert data.content.endswith('{"version": "1.2"}')


def test_what_is_not_a_readable_page_is_an_error_the_model_can_act_on(site: Site) -> None:
    site.routes["/logo.png"] = page(b"\x89PNG\r\n\x1a\n\0\0", "image/png")
    site.routes["/gone"] = page("<p>Gone for good</p>", status=410)
    fetcher = granted_fetcher(site)
    image = fetcher.fetch(f"http://docs.test:{site.port}/logo.png")
    assert image.is_error and "is image/png, not text" in image.content
    gone = fetcher.fetch(f"http://docs.test:{site.port}/gone")
    assert gone.is_error and "(HTTP 410, text/html)" in gone.content
    assert "Gone for good" in gone.content
    missing = fetcher.fetch(f"http://docs.test:{site.port + 1}/")  # not the listed port
    assert missing.is_error and "is not on this role's network allow-list" in missing.content


def _certificate(tmp_path: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for `name` and a client context that trusts only its issuer."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(cert_path))
    return server, client


def test_https_is_verified_against_the_listed_name_not_the_address(tmp_path: Path) -> None:
    server_tls, trusting = _certificate(tmp_path, "docs.test")
    with site_on(tls=server_tls) as secure:
        secure.routes["/"] = page("<p>over TLS</p>")
        resolver = TableResolver({"docs.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
        rules = egress_for(
            f"docs.test:{secure.port} other.test:{secure.port}",
            ["*"],
            "researcher",
            resolver=resolver,
            allow_private=SITE_ONLY,
        )
        assert rules is not None
        fetcher = WebFetcher(
            rules.rules, resolver=resolver, allow_private=SITE_ONLY, tls=trusting, timeout=10
        )
        good = fetcher.fetch(f"https://docs.test:{secure.port}/")
        assert not good.is_error, good.content
        assert "over TLS" in good.content
        # Same server, same address, another name: the certificate does not name it.
        wrong = fetcher.fetch(f"https://other.test:{secure.port}/")
        assert wrong.is_error and "TLS certificate is not valid" in wrong.content
        # And a certificate nobody vouches for is refused by the production trust store.
        production = WebFetcher(rules.rules, resolver=resolver, allow_private=SITE_ONLY)
        untrusted = production.fetch(f"https://docs.test:{secure.port}/")
        assert untrusted.is_error and "TLS certificate is not valid" in untrusted.content
        assert secure.requests == [("/", f"docs.test:{secure.port}")]


def test_html_is_reduced_to_what_a_reader_sees() -> None:
    shown = html_to_text(
        "<html><head><title>T</title><script>var a = '<p>x</p>';</script></head><body>"
        "<template><p>never shown</p></template><p>Visible\u202e text\U000e0041</p>"
        "<pre>def f():\n    return 1</pre><a href='javascript:alert(1)'>click</a></body></html>"
    )
    assert shown == "T\n\nVisible text\n\ndef f():\n    return 1\nclick"


def test_a_role_is_offered_webfetch_only_with_network_and_never_changes() -> None:
    asked = {"Read", "Grep", "Glob", "WebFetch", "Changes"}
    online = offer_tools(asked, no_network=None)
    assert online.tools == ("Glob", "Grep", "Read", "WebFetch")
    assert online.warnings() == [f"Changes is unavailable: {CHANGES_REASON}"]
    offline = offer_tools(asked, no_network="role 'x' is not granted network (…)")
    assert offline.tools == ("Glob", "Grep", "Read")
    assert offline.warnings() == [
        f"Changes is unavailable: {CHANGES_REASON}",
        "WebFetch is unavailable: role 'x' is not granted network (…)",
    ]


@pytest.mark.bwrap
def test_a_toolbox_offers_webfetch_only_with_a_fetcher(site: Site, tmp_path: Path) -> None:
    sandbox = BwrapSandbox(tmp_path)
    with pytest.raises(ValueError, match="WebFetch only with a WebFetcher"):
        Toolbox(tmp_path, sandbox, ["Read", "WebFetch"])
    reader = Toolbox(tmp_path, sandbox, ["Read"], web_fetch=granted_fetcher(site))
    refused = reader.call("WebFetch", {"url": f"http://docs.test:{site.port}/guide"})
    assert refused.is_error and refused.content == "tool WebFetch is not available to this role"
    assert site.requests == []


# -- the run as the worker starts it ------------------------------------------------------

RESEARCHER = "---\nname: researcher\ndescription: d\ntools: Read, WebFetch, Changes\n---\nLook.\n"


def _role_run(
    ms: ModelStandIn, tmp_path: Path, allowlist: str, granted: frozenset[str]
) -> tuple[RoleRun, Path]:
    worktree = tmp_path / "repo"
    worktree.mkdir(exist_ok=True)
    transcript = tmp_path / f"transcript-{len(list(tmp_path.iterdir()))}.jsonl"
    spec = RunSpec(
        role=load_role_text(RESEARCHER, ".claude/agents/researcher.md"),
        repo_full_name="octo/calc",
        worktree=worktree,
        mirror=tmp_path / "mirror.git",
        brief="Find out how calc is installed.",
        model=MODEL,
        provider=Provider("anthropic", ms.url, KEY),
        limits=Limits(),
        transcript=transcript,
        redact=Redactor(),
        sandbox=SandboxPolicy(
            kind="none",
            allow_unsafe=True,
            run_as=None,
            limits=ResourceLimits(),
            command_timeout=30,
            network_allowlist=allowlist,
            network_roles=granted,
        ),
    )
    return RoleRun(spec), transcript


def test_the_run_offers_webfetch_to_a_granted_role_under_the_proxys_rules(
    ms: ModelStandIn, site: Site, tmp_path: Path
) -> None:
    """Production wiring, no seam: `localhost` is listed, and resolves to loopback."""
    url = f"http://localhost:{site.port}/guide"
    ms.script([Turn([tool_use("WebFetch", {"url": url})]), "Could not fetch it."])
    run, transcript = _role_run(ms, tmp_path, f"localhost:{site.port}", frozenset({"researcher"}))
    assert run.run().result.stop == "completed"
    first, second = (request.json for request in ms.requests)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert [tool["name"] for tool in first["tools"]] == ["Glob", "Grep", "Read", "WebFetch"]
    [answer] = tool_results(second)
    assert answer["is_error"] is True
    assert "localhost resolves to 127.0.0.1, a loopback address" in result_text(answer)
    assert site.requests == [] and site.connections == 0
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    [tools] = [event for event in events if event["event"] == "tools"]
    assert tools["warnings"] == [f"Changes is unavailable: {CHANGES_REASON}"]


def test_the_run_drops_webfetch_for_a_role_without_network_and_says_so(
    ms: ModelStandIn, site: Site, tmp_path: Path
) -> None:
    url = f"http://docs.test:{site.port}/guide"
    ms.script([Turn([tool_use("WebFetch", {"url": url})]), "No such tool."])
    run, transcript = _role_run(ms, tmp_path, f"docs.test:{site.port}", frozenset({"installer"}))
    assert run.run().result.stop == "completed"
    first, second = (request.json for request in ms.requests)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert [tool["name"] for tool in first["tools"]] == ["Glob", "Grep", "Read"]
    [answer] = tool_results(second)
    assert answer["is_error"] is True and "unknown tool 'WebFetch'" in result_text(answer)
    assert site.connections == 0
    events = [json.loads(line) for line in transcript.read_text().splitlines()]
    [tools] = [event for event in events if event["event"] == "tools"]
    assert tools["offered"] == ["Glob", "Grep", "Read"]
    assert tools["warnings"] == [
        f"Changes is unavailable: {CHANGES_REASON}",
        "WebFetch is unavailable: role 'researcher' is not granted network (to grant it, "
        "add 'researcher' (or `*`) to ROLECALL_NETWORK_ROLES and list the hosts it may "
        "reach in ROLECALL_NETWORK_ALLOWLIST)",
    ]
