"""The dashboard, in a real browser: who sees which job, and a transcript that arrives live.

`rolecall serve` runs against both stand-ins with the App's OAuth client configured.
alice (write on octo/calc) signs in with GitHub, sees her running job, opens it and
watches the agent's tool calls appear while it runs (the scripted agent waits at two
gates the test opens), then the outcome. A line the agent wrote with a secret and a
`<script>` shows redacted and inert. mallory (read only) signs in and sees nothing, and
the job's page answers 404; the anonymous get no data; the operator token sees it all.
Debian's chromium, driven by Playwright; the screenshots are kept under tmp_path.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from standins.model import TurnLike, text, tool_use
from standins.scenario import REPO, Stage
from tests.e2e.conftest import Rolecall, start_rolecall, stop_rolecall

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 60_000


class GatedAgent:
    """A scripted agent that waits, before its answers at `gates`, until the test opens them.

    The answer for a request is chosen by how many assistant turns it already holds;
    `reached[n]` is set when the request for answer n has arrived (the agent is waiting).
    """

    def __init__(self, steps: list[TurnLike], gates: tuple[int, ...]) -> None:
        self.steps = steps
        self.gates = {n: threading.Event() for n in gates}
        self.reached = {n: threading.Event() for n in gates}

    def __call__(self, request: dict[str, Any]) -> TurnLike:
        done = sum(1 for message in request.get("messages", []) if message["role"] == "assistant")
        if done in self.gates:
            self.reached[done].set()
            self.gates[done].wait(timeout=300)
        return self.steps[done] if done < len(self.steps) else text("(the script has ended)")

    def open_all(self) -> None:
        for gate in self.gates.values():
            gate.set()


@contextmanager
def chromium() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the dashboard tests need Debian's chromium at {CHROMIUM}: apt-get install chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def sign_in_with_github(
    page: Page, rolecall: Rolecall, login: str, shot: Path | None = None
) -> None:
    """From the dashboard, through the GitHub stand-in's authorize page, and back."""
    page.goto(rolecall.url + "/")
    expect(page.locator("h1")).to_have_text("Sign in to Rolecall")
    expect(page.locator("#transcript, tr.job")).to_have_count(0)
    if shot is not None:
        page.screenshot(path=str(shot), full_page=True)
    page.click("#signin-github")
    page.fill("#login", login)
    page.click("#authorize")
    expect(page.locator("#viewer")).to_have_text(login, timeout=WAIT_MS)


def test_people_see_the_jobs_of_what_they_can_write_live_and_redacted(
    stage: Stage, tmp_path: Path
) -> None:
    operator_token = "rolecall-op-" + uuid.uuid4().hex
    secret = stage.github.client_secret  # a value this process holds: never shown
    marker = f"live-{uuid.uuid4().hex[:8]}"
    agent = GatedAgent(
        [
            tool_use(
                "Bash", {"command": f"echo '<script>document.title=\"pwned\"</script>' {secret}"}
            ),
            tool_use("Bash", {"command": f"echo {marker}"}),
            text("Looked around; nothing to change."),
        ],
        gates=(1, 2),
    )
    stage.model.respond_with(agent)
    rolecall = start_rolecall(
        stage,
        tmp_path / "data",
        GITHUB_CLIENT_ID=stage.github.client_id,
        GITHUB_CLIENT_SECRET=secret,
        ROLECALL_OPERATOR_TOKEN=operator_token,
    )
    shots = tmp_path / "screenshots"
    try:
        with chromium() as browser:
            issue = stage.open_issue()
            stage.github.comment(REPO, "alice", issue, "/implement")
            assert agent.reached[1].wait(120), f"the agent never ran; log:\n{rolecall.log()}"

            alice = browser.new_page()
            sign_in_with_github(alice, rolecall, "alice", shots / "0-sign-in.png")
            row = alice.locator("tr.job")
            expect(row).to_have_count(1)
            expect(row.locator(".state")).to_have_text("running")
            expect(row.locator("td.repo a")).to_have_text(REPO)
            expect(row.locator("td.role")).not_to_have_text("—")
            expect(row.locator("td.model")).to_contain_text("claude")
            alice.screenshot(path=str(shots / "1-alice-jobs-running.png"), full_page=True)

            row.locator("a").first.click()
            transcript = alice.locator("#transcript")
            expect(transcript).to_contain_text("[REDACTED]")
            expect(transcript).to_contain_text('<script>document.title="pwned"</script>')
            assert secret not in alice.content()
            expect(alice.locator("#transcript script")).to_have_count(0)
            assert alice.title() != "pwned"
            expect(transcript).not_to_contain_text(marker)
            alice.screenshot(path=str(shots / "2-alice-job-running.png"), full_page=True)

            agent.gates[1].set()  # the agent calls `echo marker`, then waits again
            assert agent.reached[2].wait(120)
            # The page was drawn before the line existed, and the job still runs.
            expect(transcript).to_contain_text(f"echo {marker}", timeout=WAIT_MS)
            expect(alice.locator("#live-status")).to_be_visible()
            alice.screenshot(path=str(shots / "3-alice-job-live.png"), full_page=True)

            agent.gates[2].set()  # the agent finishes; the page shows how the job ended
            expect(alice.locator("#outcome pre")).to_be_visible(timeout=WAIT_MS)
            expect(alice.locator("#phases")).to_contain_text("execute")
            expect(alice.locator("#transcript")).to_contain_text("Looked around")
            alice.screenshot(path=str(shots / "4-alice-job-ended.png"), full_page=True)
            job_url = alice.url
            alice.goto(rolecall.url + "/")
            expect(alice.locator("tr.job td.cost")).to_contain_text("$")
            alice.screenshot(path=str(shots / "5-alice-jobs-ended.png"), full_page=True)

            mallory = browser.new_page()
            sign_in_with_github(mallory, rolecall, "mallory")
            expect(mallory.locator("#no-jobs")).to_be_visible()
            expect(mallory.locator("tr.job")).to_have_count(0)
            answer = mallory.goto(job_url)
            assert answer is not None and answer.status == 404
            assert REPO not in mallory.content()
            mallory.screenshot(path=str(shots / "6-mallory-job-404.png"), full_page=True)

            operator = browser.new_page()
            operator.goto(rolecall.url + "/")
            operator.fill("#operator-token", operator_token)
            operator.click("#operator-signin")
            expect(operator.locator("tr.job")).to_have_count(1)
            operator.screenshot(path=str(shots / "7-operator-jobs.png"), full_page=True)

        assert_no_data_for_the_anonymous(rolecall, job_url, operator_token)
    finally:
        agent.open_all()
        stop_rolecall(rolecall)
    print(f"screenshots in {shots}")


def assert_no_data_for_the_anonymous(rolecall: Rolecall, job_url: str, operator_token: str) -> None:
    with httpx.Client(timeout=10) as client:
        front = client.get(rolecall.url + "/")
        assert front.status_code == 200 and REPO not in front.text
        assert "default-src 'none'" in front.headers["content-security-policy"]
        job = client.get(job_url)
        assert job.status_code == 303 and job.headers["location"].startswith("/signin")
        assert client.get(job_url + "/live").status_code == 404
        wrong = client.get(rolecall.url + "/", headers={"Authorization": "Bearer nope"})
        assert REPO not in wrong.text
        operator = client.get(job_url, headers={"Authorization": f"Bearer {operator_token}"})
        assert operator.status_code == 200 and REPO in operator.text
