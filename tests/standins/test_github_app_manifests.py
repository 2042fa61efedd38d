"""The stand-in registers an App from a manifest the way GitHub does, and the App then works.

A person confirms the manifest on GitHub's page, GitHub redirects with a code, the code
converts once into the new App's credentials, and from then on the stand-in is that App:
its JWTs are accepted (the old App's are not), its webhooks are signed with its secret
and sent to its URL once it is installed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub
from githubkit.exception import RequestFailed

from standins.github import GitHubStandIn
from standins.github.receiver import WebhookReceiver
from standins.github.webhooks import sign

REDIRECT = "https://rolecall.example/setup/callback"
HOOK = "https://rolecall.example/api/github/webhooks"


def manifest(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Rolecall Test",
        "url": "https://rolecall.example/",
        "hook_attributes": {"url": HOOK, "active": True},
        "redirect_url": REDIRECT,
        "callback_urls": ["https://rolecall.example/auth/callback"],
        "setup_url": "https://rolecall.example/",
        "public": False,
        "default_permissions": {"issues": "write", "contents": "write"},
        "default_events": ["issue_comment", "issues"],
        **changes,
    }


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.add_user("alice")
        stand_in.create_repo("octo/demo")
        stand_in.set_permission("octo/demo", "alice", "write")
        yield stand_in
        assert stand_in.server_errors == [], stand_in.server_errors[0]


def register(
    gh: GitHubStandIn, body: dict[str, Any], *, prefix: str = "", state: str = "s-1"
) -> httpx.Response:
    """What the browser does: post the manifest, then press "Create GitHub App"."""
    form = {"manifest": json.dumps(body)}
    page = httpx.post(f"{gh.api_url}{prefix}/settings/apps/new?state={state}", data=form)
    assert page.status_code == 200, page.text
    assert "Create GitHub App" in page.text and body["name"] in page.text
    return httpx.post(
        f"{gh.api_url}{prefix}/settings/apps", data={**form, "state": state, "name": body["name"]}
    )


def code_from(created: httpx.Response) -> str:
    assert created.status_code == 302, created.text
    location = urlsplit(created.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def test_a_manifest_registers_an_app_whose_credentials_work(gh: GitHubStandIn) -> None:
    old_id, old_pem = gh.app_id, gh.private_key_pem
    code = code_from(register(gh, manifest()))

    anonymous = GitHub(base_url=gh.api_url, timeout=10)  # the conversion needs no credentials
    converted = anonymous.rest.apps.create_from_manifest(code)
    app = converted.parsed_data  # githubkit's own model of the answer

    assert converted.status_code == 201
    assert (app.name, app.slug) == ("Rolecall Test", "rolecall-test")
    assert getattr(app.owner, "login", None) == "rolecall-dev"
    assert app.id != old_id and app.id == gh.app_id
    assert app.pem.startswith("-----BEGIN RSA PRIVATE KEY-----") and app.pem != old_pem
    assert app.webhook_secret and app.webhook_secret == gh.webhook_secret
    assert app.client_id == gh.client_id and app.client_secret == gh.client_secret
    assert app.permissions.issues == "write" and app.permissions.metadata == "read"
    assert app.events == ["issue_comment", "issues"]

    new_client = GitHub(AppAuthStrategy(app.id, app.pem), base_url=gh.api_url, timeout=10)
    assert new_client.rest.apps.get_authenticated().parsed_data.slug == "rolecall-test"  # type: ignore[union-attr]
    old_client = GitHub(AppAuthStrategy(old_id, old_pem), base_url=gh.api_url, timeout=10)
    with pytest.raises(RequestFailed) as refused:
        old_client.rest.apps.get_authenticated()
    assert refused.value.response.status_code == 401

    # A code converts once.
    again = httpx.post(f"{gh.api_url}/app-manifests/{code}/conversions")
    assert again.status_code == 404


def test_the_new_app_acts_once_installed_and_signs_with_its_secret(gh: GitHubStandIn) -> None:
    code = code_from(register(gh, manifest()))
    app = httpx.post(f"{gh.api_url}/app-manifests/{code}/conversions").json()
    assert gh.webhook_url == HOOK, "the manifest's webhook URL"
    assert gh.bot_login == "rolecall-test[bot]"

    with WebhookReceiver() as receiver:
        gh.webhook_url = receiver.url
        issue = gh.open_issue("octo/demo", "alice", "t", "b")
        assert gh.deliveries == [], "not installed yet: the new App hears nothing"

        page = httpx.get(f"{app['html_url']}/installations/new")
        assert page.status_code == 200 and "Install Rolecall Test" in page.text
        installed = httpx.post(
            f"{gh.api_url}/apps/rolecall-test/installations", data={"account": "octo"}
        )
        assert installed.status_code == 302
        assert installed.headers["location"].startswith(
            "https://rolecall.example/?installation_id="
        )

        gh.comment("octo/demo", "alice", issue, "/implement")
    [delivery] = gh.deliveries
    assert delivery.headers["X-Hub-Signature-256"] == sign(app["webhook_secret"], delivery.body)
    assert delivery.headers["X-GitHub-Hook-Installation-Target-ID"] == str(app["id"])


def test_an_organization_owns_the_app_registered_on_its_page(gh: GitHubStandIn) -> None:
    unknown = httpx.post(
        f"{gh.api_url}/organizations/nobody/settings/apps/new",
        data={"manifest": json.dumps(manifest())},
    )
    assert unknown.status_code == 404
    gh.add_org("acme")
    code = code_from(register(gh, manifest(), prefix="/organizations/acme"))
    app = httpx.post(f"{gh.api_url}/app-manifests/{code}/conversions").json()
    assert app["owner"]["login"] == "acme"


def test_a_taken_name_or_a_bad_manifest_is_refused_on_the_page(gh: GitHubStandIn) -> None:
    taken = register(gh, manifest(name=gh.app_slug))
    assert taken.status_code == 422 and "already been taken" in taken.text
    no_homepage = {k: v for k, v in manifest().items() if k != "url"}
    page = httpx.post(f"{gh.api_url}/settings/apps/new", data={"manifest": json.dumps(no_homepage)})
    assert page.status_code == 422 and "url" in page.text
    assert httpx.post(f"{gh.api_url}/app-manifests/made-up/conversions").status_code == 404
