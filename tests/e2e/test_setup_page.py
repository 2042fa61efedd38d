"""First setup in a real browser: one click registers the GitHub App, and it works at once.

`rolecall serve` starts with no App and no model key. In headless Chromium a person opens
`/`, types the model key and a name, clicks "Register", confirms on GitHub's page (the
stand-in's), lands back on Rolecall, follows its link to install the App on `octo`, and
a `/implement` comment is then acknowledged with 👀 by the new App, without a restart:
its webhook signed with the secret GitHub returned, its token minted with the key
GitHub returned, its model call made with the key typed on the page. A screenshot of
each page is kept under the test's tmp_path (their paths are printed).
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import httpx
import pytest

from standins.model import text
from standins.scenario import MODEL_API_KEY, REPO, ScriptedAgent, Stage
from tests.e2e.conftest import start_rolecall, stop_rolecall, wait_for

CHROMIUM = "/usr/bin/chromium"
APP_NAME = "Rolecall Setup E2E"
SLUG = "rolecall-setup-e2e"
UNCONFIGURED = ("APP_ID", "PRIVATE_KEY", "WEBHOOK_SECRET", "ANTHROPIC_API_KEY")


def test_one_click_setup_registers_the_app_and_rolecall_works_without_a_restart(
    stage: Stage, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    github, model = stage.github, stage.model
    rolecall = start_rolecall(stage, tmp_path / "data", unset=UNCONFIGURED)
    github.webhook_url = None  # GitHub learns it from the manifest
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()

            page.goto(f"{rolecall.url}/")
            assert page.inner_text("h1") == "Set up Rolecall"
            assert page.is_visible("#nat-advice"), "opened on 127.0.0.1: how GitHub gets in"
            page.fill("#model-key", MODEL_API_KEY)
            page.fill("#app-name", APP_NAME)
            page.screenshot(path=shots / "1-setup-page.png", full_page=True)
            page.click("#register")

            page.wait_for_url(f"{github.api_url}/settings/apps/new?state=*")
            assert page.inner_text("#app-name") == APP_NAME
            page.screenshot(path=shots / "2-github-create-app.png", full_page=True)
            page.click("#create")

            page.wait_for_url(f"{rolecall.url}/setup/callback?*")
            assert page.inner_text("#registered") == "Rolecall is set up"
            assert MODEL_API_KEY not in page.content()
            page.screenshot(path=shots / "3-registered.png", full_page=True)
            page.click("#install")

            page.wait_for_url(f"{github.api_url}/apps/{SLUG}/installations/new")
            page.fill("#account", "octo")
            page.screenshot(path=shots / "4-github-install.png", full_page=True)
            page.click("#install")

            page.wait_for_url(f"{rolecall.url}/**")
            page.wait_for_load_state()
            assert page.query_selector("#register") is None, "no setup page once configured"
            page.screenshot(path=shots / "5-after-install.png", full_page=True)
            browser.close()
        print("screenshots:", *sorted(str(p) for p in shots.iterdir()), sep="\n  ")

        # What the page stored, only Rolecall's user may read.
        data = Path(rolecall.env["ROLECALL_DATA_DIR"])
        for name in ("github-app.json", "github-app.pem"):
            assert stat.S_IMODE((data / name).stat().st_mode) == 0o600, name
        stored = json.loads((data / "github-app.json").read_text())
        assert stored["APP_ID"] == str(github.app_id)
        assert stored["WEBHOOK_SECRET"] == github.webhook_secret
        assert stored["ANTHROPIC_API_KEY"] == MODEL_API_KEY
        health = httpx.get(f"{rolecall.url}/healthz", timeout=10).json()
        assert health["configured"] is True
        assert github.webhook_url == f"{rolecall.url}/api/github/webhooks"

        # The new App at work, in the same process.
        model.respond_with(ScriptedAgent([text("Nothing needs to change.")]))
        issue = stage.open_issue()
        trigger = github.comment(REPO, "alice", issue, "/implement")
        delivery = trigger.delivery
        assert delivery is not None and delivery.status == 202, delivery
        assert delivery.headers["X-Hub-Signature-256"].startswith("sha256=")

        def eyes() -> list[str]:
            reactions = github.reactions(REPO, comment=int(trigger))
            return [r["user"]["login"] for r in reactions if r["content"] == "eyes"]

        assert wait_for(eyes, "👀 from the new App") == [f"{SLUG}[bot]"]
        outcome = rolecall.wait_for_outcome(issue)
        assert outcome["body"].startswith("ℹ️"), outcome["body"]  # ran, changed nothing
        first = model.requests[0].headers  # the SDK sends the key either way
        sent = first.get("x-api-key") or first.get("authorization", "").removeprefix("Bearer ")
        assert sent == MODEL_API_KEY
    finally:
        stop_rolecall(rolecall)
