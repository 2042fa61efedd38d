"""Fixtures for the GitHub stand-in's own tests: a started stand-in, a webhook
receiver, and githubkit clients authenticated the way Rolecall authenticates."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub

from standins.github import GitHubStandIn
from standins.github.receiver import WebhookReceiver

REPO = "octo/demo"
APP_PY = "".join(f"line {i}\n" for i in range(1, 21))


@pytest.fixture
def gh(tmp_path: Path) -> Iterator[GitHubStandIn]:
    """octo/demo with the App installed; alice may write, bob may read."""
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.add_user("alice")
        stand_in.add_user("bob")
        stand_in.create_repo(REPO, files={"README.md": "# demo\n", "src/app.py": APP_PY})
        stand_in.set_permission(REPO, "alice", "write")
        stand_in.set_permission(REPO, "bob", "read")
        yield stand_in
        assert stand_in.server_errors == [], stand_in.server_errors[0]


@pytest.fixture
def receiver(gh: GitHubStandIn) -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as catcher:
        gh.webhook_url = catcher.url
        yield catcher


@pytest.fixture
def app_client(gh: GitHubStandIn) -> GitHub[AppAuthStrategy]:
    return GitHub(AppAuthStrategy(gh.app_id, gh.private_key_pem), base_url=gh.api_url, timeout=10)


@pytest.fixture
def client(
    gh: GitHubStandIn, app_client: GitHub[AppAuthStrategy]
) -> GitHub[AppInstallationAuthStrategy]:
    """An installation client, exactly as Rolecall builds one."""
    installation_id = gh.installation_id(REPO)
    return app_client.with_auth(app_client.auth.as_installation(installation_id))
