"""Who gets into the dashboard, and what each one sees, against a real GitHub stand-in.

The app runs in-process (Starlette's test client); GitHub is the stand-in, over HTTP,
with its OAuth web flow. alice can write octo/calc, mallory can write octo/vault and only
read octo/calc. Each test acts as the person or the attacker would: signing in, forging
a callback, reading another repository's job, presenting a wrong token.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.settings import Settings
from bot.store.ledger import Ledger, NewDelivery, open_ledger
from bot.web.app import create_app
from standins.github import GitHubStandIn

OPERATOR = "rolecall-op-" + "5" * 32
WEBHOOK_SECRET = "whsec-dashboard-tests-0123456789"


@dataclass
class Site:
    github: GitHubStandIn
    settings: Settings
    ledger: Ledger
    jobs: dict[str, int]  # repository -> its job's id

    def client(self) -> TestClient:
        app = create_app(self.settings, ledger=self.ledger, enqueue=lambda job_id: None)
        return TestClient(app, follow_redirects=False)


def settings_for(github: GitHubStandIn, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": None,
        "queue_url": None,
        "webhook_secret": WEBHOOK_SECRET,
        "app_id": github.app_id,
        "private_key": github.private_key_pem,
        "private_key_path": None,
        "github_api_url": github.api_url,
        "github_client_id": github.client_id,
        "github_client_secret": github.client_secret,
        "operator_token": OPERATOR,
        "public_url": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def record_job(ledger: Ledger, repo: str, number: int, **fields: Any) -> int:
    [recorded] = ledger.record_deliveries(
        [
            NewDelivery(
                id=f"d-{repo}-{number}",
                event="issue_comment",
                action="created",
                decision="job",
                reason="/implement",
                job={"kind": "implement", "repo_full_name": repo, "issue_number": number},
            )
        ]
    )
    assert recorded.job_id is not None
    if fields:
        ledger.update_job(recorded.job_id, **fields)
    return recorded.job_id


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    with GitHubStandIn(root=tmp_path / "github") as github:
        for login in ("alice", "mallory"):
            github.add_user(login)
        for repo in ("octo/calc", "octo/vault"):
            github.create_repo(repo)
        github.set_permission("octo/calc", "alice", "write")
        github.set_permission("octo/calc", "mallory", "read")
        github.set_permission("octo/vault", "mallory", "write")
        settings = settings_for(github, tmp_path / "data")
        ledger = open_ledger(settings)
        jobs = {repo: record_job(ledger, repo, 1) for repo in ("octo/calc", "octo/vault")}
        try:
            yield Site(github, settings, ledger, jobs)
        finally:
            ledger.close()
        assert not github.server_errors, github.server_errors


def authorize(github: GitHubStandIn, authorize_url: str, login: str) -> str:
    """The person presses "Authorize" on GitHub's page; where GitHub sends them back."""
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    assert httpx.get(authorize_url, timeout=10).status_code == 200
    answer = httpx.post(
        f"{github.api_url}/login/oauth/authorize",
        data={**query, "login": login, "authorize": "1"},
        timeout=10,
    )
    assert answer.status_code == 302
    return str(answer.headers["location"])


def sign_in(client: TestClient, github: GitHubStandIn, login: str, next_path: str = "/") -> str:
    """Through GitHub's web flow; returns where the dashboard sent the browser after."""
    start = client.get("/signin/github", params={"next": next_path})
    assert start.status_code == 302
    done = client.get(authorize(github, start.headers["location"], login))
    assert done.status_code == 303, done.text
    return str(done.headers["location"])


class Page(Protocol):
    @property
    def text(self) -> str: ...


def listed_jobs(page: Page) -> list[str]:
    """The job ids the page lists (`data-job` of each row)."""
    return [part.split('"', 2)[1] for part in page.text.split('<tr class="job" data-job=')[1:]]


def test_people_see_only_the_jobs_of_repositories_they_can_write(site: Site) -> None:
    calc, vault = site.jobs["octo/calc"], site.jobs["octo/vault"]
    with site.client() as alice, site.client() as mallory:
        sign_in(alice, site.github, "alice")
        sign_in(mallory, site.github, "mallory")

        assert listed_jobs(alice.get("/")) == [str(calc)]
        assert listed_jobs(alice.get("/", params={"repo": "octo/vault"})) == []
        assert listed_jobs(mallory.get("/")) == [str(vault)]  # read on calc is not enough

        missing = alice.get("/jobs/987654")
        assert alice.get(f"/jobs/{2**70}").status_code == 404
        hidden = alice.get(f"/jobs/{vault}")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.text == missing.text and "octo/vault" not in hidden.text
        assert alice.get(f"/jobs/{vault}/live").status_code == 404
        shown = alice.get(f"/jobs/{calc}")
        assert shown.status_code == 200 and "octo/calc" in shown.text


def test_a_forged_or_replayed_callback_signs_no_one_in(site: Site) -> None:
    with site.client() as victim, site.client() as attacker:
        # The attacker starts a sign-in and lures the victim to its callback URL.
        start = attacker.get("/signin/github")
        lure = authorize(site.github, start.headers["location"], "mallory")
        forged = victim.get(lure)
        assert forged.status_code == 400 and "rolecall_session" not in forged.cookies
        assert listed_jobs(victim.get("/")) == []
        assert "Sign in to Rolecall" in victim.get("/").text

        # A finished sign-in's callback, replayed, signs in no one (its code is spent too).
        start = attacker.get("/signin/github")
        callback = authorize(site.github, start.headers["location"], "mallory")
        assert attacker.get(callback).status_code == 303
        attacker.cookies.clear()
        assert attacker.get(callback).status_code == 400


def test_sign_in_returns_only_to_paths_of_this_site(site: Site) -> None:
    with site.client() as alice:
        assert sign_in(alice, site.github, "alice", "//evil.example/steal") == "/"
    with site.client() as alice:
        calc = site.jobs["octo/calc"]
        assert sign_in(alice, site.github, "alice", f"/jobs/{calc}") == f"/jobs/{calc}"


def test_the_operator_token_sees_everything_and_nothing_else_does(site: Site) -> None:
    every = sorted(str(job) for job in site.jobs.values())
    with site.client() as client:
        as_operator = client.get("/", headers={"Authorization": f"Bearer {OPERATOR}"})
        assert sorted(listed_jobs(as_operator)) == every
        for wrong in (f"Bearer {OPERATOR}x", "Bearer ", f"token {OPERATOR}", "Basic Zm9vOmJhcg=="):
            assert listed_jobs(client.get("/", headers={"Authorization": wrong})) == []
        job = site.jobs["octo/calc"]
        assert client.get(f"/jobs/{job}").status_code == 303  # to sign-in, nothing shown

        refused = client.post("/signin/operator", data={"token": "guess"})
        assert refused.status_code == 401 and "rolecall_session" not in refused.cookies
        cross_site = client.post(
            "/signin/operator", data={"token": OPERATOR}, headers={"Origin": "https://evil.example"}
        )
        assert cross_site.status_code == 401
        signed_in = client.post("/signin/operator", data={"token": OPERATOR, "next": "/"})
        assert signed_in.status_code == 303
        assert sorted(listed_jobs(client.get("/"))) == every
        assert client.post("/signout").status_code == 303
        assert listed_jobs(client.get("/")) == []


def test_without_an_oauth_client_the_page_says_how_to_set_one_until_there_is_one(
    site: Site, tmp_path: Path
) -> None:
    settings = settings_for(
        site.github, tmp_path / "data", github_client_id=None, github_client_secret=None
    )
    app = create_app(settings, ledger=site.ledger, enqueue=lambda job_id: None)
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/")
        assert "GITHUB_CLIENT_ID" in page.text and "/signin/callback" in page.text
        assert listed_jobs(page) == []
        assert client.get("/signin/github").status_code == 404
        # The setup page configures the App without a restart (it replaces the settings).
        app.state.settings = site.settings
        start = client.get("/signin/github")
        assert start.status_code == 302
        assert start.headers["location"].startswith(f"{site.github.api_url}/login/oauth/")


def test_a_finished_jobs_transcript_streams_redacted_to_its_end(site: Site) -> None:
    transcripts = site.settings.data_dir / "transcripts"
    transcripts.mkdir(parents=True)
    job = site.jobs["octo/calc"]
    path = transcripts / f"job-{job}.jsonl"
    secret = site.github.client_secret  # a value this process holds, written unredacted
    lines = [
        {"event": "tool_call", "turn": 1, "name": "Bash", "input": {"command": f"echo {secret}"}},
        {"event": "tool_result", "turn": 1, "content": "<img src=x onerror=alert(1)>"},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"event": "ass')
    site.ledger.update_job(
        job, state="succeeded", transcript_path=str(path), outcome=f"done {secret}"
    )
    with site.client() as client:
        headers = {"Authorization": f"Bearer {OPERATOR}"}
        page = client.get(f"/jobs/{job}", headers=headers)
        assert secret not in page.text and "[REDACTED]" in page.text
        assert "<img" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        with client.stream("GET", f"/jobs/{job}/live", headers=headers) as stream:
            body = "".join(stream.iter_text())
    events = [block for block in body.split("\n\n") if block.startswith("id:") or "event:" in block]
    names = [
        line.split(": ", 1)[1]
        for b in events
        for line in b.splitlines()
        if line.startswith("event:")
    ]
    assert names == ["entry", "entry", "end"]  # the unfinished last line waits
    assert secret not in body and "[REDACTED]" in body
    # Each entry's id is the byte offset after its line: where a reconnect resumes.
    assert f"id: {len(json.dumps(lines[0])) + 1}\n" in body


def test_when_github_cannot_say_what_someone_can_write_they_see_nothing(site: Site) -> None:
    with site.client() as alice:
        site.github.fail_next("GET", "/user/installations", status=502, times=3)
        sign_in(alice, site.github, "alice")  # its lookup fails; the page asks again
        page = alice.get("/")
        assert listed_jobs(page) == [] and "GitHub could not be asked" in page.text
        assert alice.get(f"/jobs/{site.jobs['octo/calc']}").status_code == 404
        assert listed_jobs(alice.get("/")) == [str(site.jobs["octo/calc"])]  # GitHub is back
