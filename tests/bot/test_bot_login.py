"""`rolecall serve` learns the App's bot login from GET /app, without waiting on GitHub.

The review handlers need the login to know "a pull request Rolecall opened". It is
learned in the background against the GitHub stand-in (a real server; its GET /app is
told to fail, or GitHub is simply not there), and handed to the webhook decider.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.github import BotLoginLearner, GitHubApp
from bot.settings import Settings
from bot.store.ledger import open_ledger
from bot.web.app import create_app
from bot.web.webhooks import WEBHOOK_PATH, sign
from handlers.decisions import Decision, Ignore
from standins.github import GitHubStandIn

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github", webhook_secret=SECRET) as stand_in:
        yield stand_in
        assert stand_in.server_errors == []


def settings_for(tmp_path: Path, api_url: str, pem: str, app_id: int) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        webhook_secret=SECRET,
        app_id=app_id,
        private_key=pem,
        github_api_url=api_url,
        bot_login=None,
    )


class Recorder:
    """A decider that remembers which bot login each delivery was decided with."""

    def __init__(self) -> None:
        self.logins: list[str | None] = []

    def __call__(
        self, event: str, payload: Mapping[str, Any], *, bot_login: str | None
    ) -> Decision:
        self.logins.append(bot_login)
        return Ignore("recorded")


def deliver(client: TestClient) -> None:
    body = json.dumps({"action": "submitted", "zen": "x"}).encode()
    response = client.post(
        WEBHOOK_PATH,
        content=body,
        headers={
            "content-type": "application/json",
            "x-github-event": "pull_request_review",
            "x-github-delivery": f"d-{time.monotonic_ns()}",
            "x-hub-signature-256": sign(SECRET.encode(), body),
        },
    )
    assert response.status_code == 202, response.text


def wait_until(check: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def app_learning_the_login(settings: Settings, decide: Recorder) -> FastAPI:
    """Rolecall's app, asking `GET /app` with the App's credentials as `rolecall serve` does."""

    def lookup() -> str:
        pem = settings.private_key_pem()
        assert settings.app_id is not None and pem is not None
        with GitHubApp(settings.app_id, pem, settings.github_api_url) as app:
            return app.bot_login()

    return create_app(
        settings,
        ledger=open_ledger(settings),
        decide=decide,
        enqueue=lambda job_id: None,
        bot_login_lookup=lookup,
    )


def test_serve_learns_the_bot_login_and_decides_with_it(
    tmp_path: Path, github: GitHubStandIn
) -> None:
    decide = Recorder()
    settings = settings_for(tmp_path, github.api_url, github.private_key_pem, github.app_id)
    app = app_learning_the_login(settings, decide)
    with TestClient(app) as client:
        wait_until(lambda: client.get("/healthz").json()["bot_login"], "the login")
        assert client.get("/healthz").json()["bot_login"] == "rolecall[bot]"
        deliver(client)
    app.state.ledger.close()
    assert decide.logins == ["rolecall[bot]"]
    assert any(r.path == "/app" for r in github.requests)


def test_serve_starts_and_answers_while_github_is_unreachable(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    stand_in = GitHubStandIn(root=tmp_path / "unused")  # only for a valid key
    decide = Recorder()
    settings = settings_for(tmp_path, dead, stand_in.private_key_pem, 1)
    app = app_learning_the_login(settings, decide)
    with TestClient(app) as client:
        health = client.get("/healthz")
        assert health.status_code == 200 and health.json()["bot_login"] is None
        deliver(client)
    app.state.ledger.close()
    assert decide.logins == [None], "deliveries are decided at once, without the login"


def test_the_learner_retries_until_get_app_answers(
    github: GitHubStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    github.fail_next("GET", "/app", times=2, status=401, body={"message": "Bad credentials"})
    learned: list[str] = []
    done = threading.Event()

    def on_learned(login: str) -> None:
        learned.append(login)
        done.set()

    app = GitHubApp(github.app_id, github.private_key_pem, github.api_url)
    learner = BotLoginLearner(app.bot_login, on_learned, first_delay=0.01)
    learner.start()
    try:
        assert done.wait(30), "the learner never learned the login"
    finally:
        learner.stop()
    assert learned == ["rolecall[bot]"]
    assert [r.status for r in github.requests if r.path == "/app"] == [401, 401, 200]
    # Each failure is logged as what to do about it, not as the exception's repr.
    failures = [r.getMessage() for r in caplog.records if "bot login" in r.getMessage()]
    assert "check APP_ID and PRIVATE_KEY" in failures[0]
    assert "Response(" not in "".join(failures)
