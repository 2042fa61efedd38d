"""The setup page registers the GitHub App through the manifest flow, once, safely.

Rolecall's app runs in-process (TestClient) against the GitHub stand-in, a real server:
the form is posted as a browser posts it, the manifest goes to the stand-in's page, and
the stand-in's redirect comes back to Rolecall. What is asserted is what a person or an
attacker sees: the pages, the status codes, the files on disk, what GitHub holds.
"""

from __future__ import annotations

import html
import json
import re
import stat
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app_credentials import CredentialStore, write_private_file
from bot.github import GitHubApp
from bot.github.web_url import github_web_url
from bot.settings import Settings, SettingsError, get_settings
from bot.store.ledger import open_ledger
from bot.web.app import create_app
from bot.web.webhooks import WEBHOOK_PATH, sign
from handlers.decisions import Decision, Ignore
from standins.github import GitHubStandIn

ORIGIN = "http://testserver"
MODEL_KEY = "sk-ant-setup-page-0123456789abcdef"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        yield stand_in
        assert stand_in.server_errors == [], stand_in.server_errors[0]


def unconfigured(tmp_path: Path, api_url: str, **values: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", github_api_url=api_url, **values
    )


class Rolecall:
    """Rolecall's app without an App, and what it told the process root."""

    def __init__(self, settings: Settings) -> None:
        self.configured: list[Settings] = []
        self.decided: list[str] = []

        def decide(event: str, payload: Mapping[str, Any], *, bot_login: str | None) -> Decision:
            self.decided.append(event)
            return Ignore("recorded")

        def lookup() -> str:  # GET /app with whatever the app holds now, as Root does
            current: Settings = self.app.state.settings
            pem = current.private_key_pem()
            assert current.app_id is not None and pem is not None
            with GitHubApp(current.app_id, pem, current.github_api_url) as app:
                return app.bot_login()

        self.app: FastAPI = create_app(
            settings,
            ledger=open_ledger(settings),
            enqueue=lambda job_id: None,
            decide=decide,
            bot_login_lookup=lookup,
            on_configured=self.configured.append,
        )


@pytest.fixture
def rolecall(tmp_path: Path, github: GitHubStandIn) -> Iterator[tuple[Rolecall, TestClient]]:
    running = Rolecall(unconfigured(tmp_path, github.api_url))
    with TestClient(running.app) as client:
        yield running, client
    running.app.state.ledger.close()


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the page's form (what the browser would post)."""
    action = re.search(r'<form method="post" action="([^"]+)"', page)
    assert action is not None, page
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    return html.unescape(action[1]), {k: html.unescape(v) for k, v in hidden.items()}


def register_on_github(
    client: TestClient, github: GitHubStandIn, name: str = "Rolecall Setup", **form: str
) -> str:
    """Fill in the setup form, confirm on GitHub; the URL GitHub sends the browser back to."""
    answer = client.post(
        "/setup/register", data={"app_name": name, **form}, headers={"origin": ORIGIN}
    )
    assert answer.status_code == 200, answer.text
    target, fields = form_fields(answer.text)
    assert target.startswith(f"{github.api_url}/settings/apps/new?state=")
    on_github = httpx.post(target, data=fields)
    assert on_github.status_code == 200 and "Create GitHub App" in on_github.text
    action, confirm = form_fields(on_github.text)
    created = httpx.post(f"{github.api_url}{action}", data={**confirm, "name": name})
    assert created.status_code == 302, created.text
    return created.headers["location"]


def back_on_rolecall(client: TestClient, location: str) -> Any:
    parts = urlsplit(location)
    assert parts.path == "/setup/callback"
    return client.get(f"{parts.path}?{parts.query}")


def wait_until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_one_registration_stores_the_app_and_serves_with_it_at_once(
    rolecall: tuple[Rolecall, TestClient], github: GitHubStandIn, tmp_path: Path
) -> None:
    running, client = rolecall
    assert 'id="register"' in client.get("/").text

    location = register_on_github(client, github, anthropic_api_key=MODEL_KEY)
    done = back_on_rolecall(client, location)

    assert done.status_code == 200, done.text
    assert "Rolecall is set up" in done.text
    assert 'href="' + f"{github.api_url}/apps/rolecall-setup/installations/new" in done.text
    secrets_now = (github.webhook_secret, github.client_secret, MODEL_KEY, "PRIVATE KEY")
    assert not any(secret in done.text for secret in secrets_now)

    data = tmp_path / "data"
    stored = json.loads((data / "github-app.json").read_text())
    assert mode(data / "github-app.json") == 0o600 and mode(data / "github-app.pem") == 0o600
    assert stored == {
        "APP_ID": str(github.app_id),
        "PRIVATE_KEY_PATH": str((data / "github-app.pem").absolute()),
        "WEBHOOK_SECRET": github.webhook_secret,
        "GITHUB_CLIENT_ID": github.client_id,
        "GITHUB_CLIENT_SECRET": github.client_secret,
        "ANTHROPIC_API_KEY": MODEL_KEY,
    }
    assert (data / "github-app.pem").read_text() == github.private_key_pem
    [configured] = running.configured
    assert configured.app_id == github.app_id and configured.github_client_id == github.client_id

    # Serving with it now: configured, the bot login learned with the new key, webhooks
    # signed with the new secret accepted, and `/` is no longer the setup page.
    health = client.get("/healthz").json()
    assert health["configured"] is True
    wait_until(lambda: client.get("/healthz").json()["bot_login"], "the bot login")
    assert client.get("/healthz").json()["bot_login"] == "rolecall-setup[bot]"
    body = json.dumps({"zen": "Keep it logically awesome."}).encode()
    delivered = client.post(
        WEBHOOK_PATH,
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "issues",
            "x-github-delivery": "setup-1",
            "x-hub-signature-256": sign(github.webhook_secret.encode(), body),
        },
    )
    assert delivered.status_code == 202, delivered.text
    assert running.decided == ["issues"]
    assert 'id="register"' not in client.get("/").text

    # A restarted Rolecall reads the same App from the data directory.
    again = get_settings(_env_file=None, data_dir=data)
    assert again.app_id == github.app_id and again.missing_app_settings() == []
    assert again.private_key_pem() == github.private_key_pem


def test_a_second_registration_is_refused_once_configured(
    rolecall: tuple[Rolecall, TestClient], github: GitHubStandIn, tmp_path: Path
) -> None:
    running, client = rolecall
    first = register_on_github(client, github)
    # Started before the first one finished: its page and state are already issued.
    second = register_on_github(client, github, name="Rolecall Other")
    assert back_on_rolecall(client, first).status_code == 200
    app_id = github.app_id

    refused = back_on_rolecall(client, second)
    assert refused.status_code == 409
    assert "Rolecall already has a GitHub App" in refused.text
    again = client.post("/setup/register", data={"app_name": "X"}, headers={"origin": ORIGIN})
    assert again.status_code == 409 and "never replaces" in again.text
    stored = CredentialStore(tmp_path / "data").read()
    assert stored["APP_ID"] == str(app_id)
    assert len(running.configured) == 1
    conversions = [r for r in github.requests if r.path.startswith("/app-manifests/")]
    assert len(conversions) == 1, "the second code was never traded"


@pytest.mark.parametrize("state", [None, "", "made-up-by-an-attacker"])
def test_a_callback_whose_state_this_server_did_not_issue_is_refused(
    rolecall: tuple[Rolecall, TestClient],
    github: GitHubStandIn,
    tmp_path: Path,
    state: str | None,
) -> None:
    running, client = rolecall
    location = register_on_github(client, github)
    code = parse_qs(urlsplit(location).query)["code"][0]
    query = f"code={code}" + ("" if state is None else f"&state={state}")

    refused = client.get(f"/setup/callback?{query}")

    assert refused.status_code == 400
    assert "Registration not recognised" in refused.text and "nothing was stored" in refused.text
    assert not (tmp_path / "data" / "github-app.json").exists()
    assert running.configured == []
    assert not any(r.path.startswith("/app-manifests/") for r in github.requests)
    assert client.get("/healthz").json()["configured"] is False


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null", "sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
)
def test_a_form_posted_from_another_site_does_nothing(
    rolecall: tuple[Rolecall, TestClient], tmp_path: Path, headers: dict[str, str]
) -> None:
    _, client = rolecall
    answer = client.post(
        "/setup/register",
        data={"anthropic_api_key": "sk-ant-attacker-0123456789"},
        headers=headers,
    )
    assert answer.status_code == 403
    assert "another site" in answer.text
    assert not (tmp_path / "data" / "github-app.json").exists()


def test_the_model_key_is_never_shown_and_never_replaced_from_the_page(
    rolecall: tuple[Rolecall, TestClient], github: GitHubStandIn, tmp_path: Path
) -> None:
    _, client = rolecall
    register_on_github(client, github, anthropic_api_key=MODEL_KEY)
    page = client.get("/").text
    assert 'id="model-key-set"' in page and 'id="model-key"' not in page
    assert MODEL_KEY not in page

    register_on_github(client, github, name="Rolecall Two", anthropic_api_key="sk-ant-other-1")
    assert CredentialStore(tmp_path / "data").read()["ANTHROPIC_API_KEY"] == MODEL_KEY


def test_an_app_half_set_in_the_environment_is_finished_by_hand(
    tmp_path: Path, github: GitHubStandIn
) -> None:
    running = Rolecall(unconfigured(tmp_path, github.api_url, webhook_secret="set-by-hand-1"))
    with TestClient(running.app) as client:
        page = client.get("/")
        assert 'id="register"' not in page.text and 'id="partly-configured"' in page.text
        assert "<code>APP_ID:" in page.text
        refused = client.post("/setup/register", data={}, headers={"origin": ORIGIN})
        assert refused.status_code == 409
    running.app.state.ledger.close()


def test_the_environment_wins_over_what_the_page_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CredentialStore(tmp_path)
    store.update({"APP_ID": "12", "WEBHOOK_SECRET": "stored-secret", "ANTHROPIC_API_KEY": "k1"})
    monkeypatch.setenv("WEBHOOK_SECRET", "from-the-environment")
    settings = get_settings(_env_file=None, data_dir=tmp_path)
    assert settings.app_id == 12
    assert settings.webhook_secret is not None
    assert settings.webhook_secret.get_secret_value() == "from-the-environment"
    assert "k1" in settings.known_secrets(), "stored secrets are redacted like the rest"


def test_credentials_are_written_0600_whatever_the_umask(tmp_path: Path) -> None:
    import os

    previous = os.umask(0)
    try:
        write_private_file(tmp_path / "secret.pem", b"one")
        write_private_file(tmp_path / "secret.pem", b"two")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "secret.pem") == 0o600
    assert (tmp_path / "secret.pem").read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["secret.pem"], "no temporary file left"


def test_a_corrupt_credentials_file_is_named_not_shown(tmp_path: Path) -> None:
    write_private_file(tmp_path / "github-app.json", b'["sk-ant-do-not-print"]')
    with pytest.raises(SettingsError, match=r"github-app\.json") as refused:
        get_settings(_env_file=None, data_dir=tmp_path)
    assert "sk-ant-do-not-print" not in str(refused.value)


@pytest.mark.parametrize(
    ("api", "web"),
    [
        ("https://api.github.com", "https://github.com"),
        ("https://ghe.example.com/api/v3", "https://ghe.example.com"),
        ("https://ghe.example.com/api/v3/", "https://ghe.example.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
    ],
)
def test_githubs_pages_are_found_from_the_api_url(api: str, web: str) -> None:
    assert github_web_url(api) == web


def test_an_organization_is_asked_on_its_own_page_and_a_bad_login_is_explained(
    rolecall: tuple[Rolecall, TestClient], github: GitHubStandIn
) -> None:
    _, client = rolecall
    bad = client.post(
        "/setup/register", data={"organization": "not/an org"}, headers={"origin": ORIGIN}
    )
    assert bad.status_code == 400 and "is not an organization" in bad.text
    github.add_org("acme")
    answer = client.post(
        "/setup/register",
        data={"app_name": "Acme Rolecall", "organization": "acme"},
        headers={"origin": ORIGIN},
    )
    target, fields = form_fields(answer.text)
    assert target.startswith(f"{github.api_url}/organizations/acme/settings/apps/new?state=")
    manifest = json.loads(fields["manifest"])
    assert manifest["name"] == "Acme Rolecall"
    assert manifest["hook_attributes"] == {"url": ORIGIN + WEBHOOK_PATH, "active": True}
    assert manifest["redirect_url"] == ORIGIN + "/setup/callback"
    assert manifest["default_permissions"]["contents"] == "write"
    on_github = httpx.post(target, data=fields)
    action, confirm = form_fields(on_github.text)
    created = httpx.post(f"{github.api_url}{action}", data=confirm)
    assert back_on_rolecall(client, created.headers["location"]).status_code == 200
    assert github.app_slug == "acme-rolecall"
