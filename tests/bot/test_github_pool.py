"""GitHub calls go over pooled keep-alive connections, and installation tokens are reused.

What GitHub (the stand-in) sees: which TCP connection carried each request (the
stand-in numbers them as it accepts them), how many installation tokens were minted,
and which token each request carried. Jobs are what `bot.jobs.worker.run_job` builds: a
`RepoClient` per job from the process's one `GitHubApp`, each with its own `Redactor`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from githubkit import GitHub, TokenAuthStrategy

from agents.text.redact import Redactor
from bot.github import JOB_PERMISSIONS, GitHubApp, RepoClient
from standins.github import GitHubStandIn, RecordedRequest
from standins.scenario import REPO

OTHER = "octo/other"
CALLS = 6


@pytest.fixture
def github(tmp_path: Path) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.create_repo(REPO, files={"README.md": "calc\n"})
        stand_in.create_repo(OTHER, files={"README.md": "other\n"})
        yield stand_in
        assert stand_in.server_errors == []


@pytest.fixture
def app(github: GitHubStandIn) -> Iterator[GitHubApp]:
    with GitHubApp(github.app_id, github.private_key_pem, github.api_url) as app:
        yield app


def job_client(
    app: GitHubApp,
    github: GitHubStandIn,
    repo: str = REPO,
    *,
    permissions: dict[str, str] | None = None,
) -> RepoClient:
    """What `run_job` builds for one job: its own client and its own redactor."""
    return app.repo(github.installation_id(repo), repo, Redactor([]), permissions)


def mints(github: GitHubStandIn, since: int = 0) -> list[RecordedRequest]:
    return [
        r
        for r in github.requests[since:]
        if r.method == "POST" and r.path.endswith("/access_tokens")
    ]


def repo_calls(github: GitHubStandIn, repo: str = REPO, since: int = 0) -> list[RecordedRequest]:
    return [r for r in github.requests[since:] if r.path.startswith(f"/repos/{repo}")]


def token_of(request: RecordedRequest) -> str:
    return request.headers["authorization"].split()[1]


def test_consecutive_calls_of_one_job_share_one_connection(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    repo = job_client(app, github)
    for _ in range(CALLS):
        repo.info()
    calls = repo_calls(github)
    assert len(calls) == CALLS
    connections = {r.connection for r in calls}
    assert len(connections) == 1, f"{CALLS} calls opened {len(connections)} connections"


def test_two_jobs_on_one_repository_mint_one_token_and_share_the_connection(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    first, second = job_client(app, github), job_client(app, github)
    first.info()
    first.branch_sha("main")
    second.info()
    second.branch_sha("main")
    assert len(mints(github)) == 1, "each job minted its own token"
    calls = repo_calls(github)
    assert len({token_of(r) for r in calls}) == 1
    assert len({r.connection for r in calls}) == 1


def test_jobs_starting_at_once_on_one_repository_mint_one_token(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    start = threading.Barrier(4)
    failures: list[BaseException] = []

    def one_job() -> None:
        try:
            repo = job_client(app, github)
            start.wait(timeout=30)
            repo.info()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=one_job) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert len(repo_calls(github)) == 4
    assert len(mints(github)) == 1


def test_the_app_calls_share_one_connection(github: GitHubStandIn, app: GitHubApp) -> None:
    """GET /app and every mint authenticate with the JWT over one pooled connection."""
    app.bot_login()
    job_client(app, github).info()
    job_client(app, github, OTHER).info()
    job_client(app, github, permissions={"issues": "write", "metadata": "read"}).info()
    as_app = [r for r in github.requests if r.token_kind == "jwt"]
    assert len(as_app) == 4  # GET /app and three mints
    assert len({r.connection for r in as_app}) == 1


def test_tokens_stay_scoped_to_one_repository_and_one_set_of_permissions(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    """Reuse never widens a token: another repository or other permissions get their own."""
    reader = {"contents": "read", "metadata": "read"}
    job_client(app, github).info()
    job_client(app, github, OTHER).info()
    job_client(app, github, permissions=reader).info()
    job_client(app, github, permissions=dict(JOB_PERMISSIONS)).info()  # same as the first
    minted = mints(github)
    assert len(minted) == 3
    assert all(len(m.json["repositories"]) == 1 for m in minted)
    tokens = {token_of(r) for r in repo_calls(github)}
    assert len(tokens) == 2  # the job's and the reader's, on REPO
    other = {token_of(r) for r in repo_calls(github, OTHER)}
    assert len(other) == 1 and not tokens & other
    # Each token reaches its own repository and not the other one.
    for token, own, foreign in [*((t, REPO, OTHER) for t in tokens), (*other, OTHER, REPO)]:
        headers = {"Authorization": f"token {token}"}
        seen = httpx.get(f"{github.api_url}/repos/{own}", headers=headers, timeout=10)
        unseen = httpx.get(f"{github.api_url}/repos/{foreign}", headers=headers, timeout=10)
        assert (seen.status_code, unseen.status_code) == (200, 404)


def test_a_token_close_to_expiry_is_replaced_before_the_next_call(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    """Tokens living less than the refresh margin are never handed out twice."""
    github.token_lifetime = 60  # GitHub gives an hour; the refresh margin is minutes
    repo = job_client(app, github)
    repo.info()
    repo.info()
    job_client(app, github).info()
    assert len(mints(github)) == 3
    tokens = [token_of(r) for r in repo_calls(github)]
    assert len(set(tokens)) == 3
    github.token_lifetime = 3600
    since = len(github.requests)
    job_client(app, github).info()
    job_client(app, github).info()
    assert len(mints(github, since)) == 1, "a token with an hour left was not reused"


def test_closing_the_app_closes_its_connections(github: GitHubStandIn, app: GitHubApp) -> None:
    repo = job_client(app, github)
    repo.info()
    repo.info()
    app.close()
    repo.info()
    before, again, after = repo_calls(github)
    assert before.connection == again.connection != after.connection


def test_a_token_github_no_longer_accepts_is_replaced_not_reused(
    github: GitHubStandIn, app: GitHubApp
) -> None:
    """A revoked token (or one GitHub dropped early) costs no job: the call mints anew."""
    job_client(app, github).info()
    [first] = {token_of(r) for r in repo_calls(github)}
    revoker = GitHub(
        TokenAuthStrategy(first), base_url=github.api_url, timeout=10, http_cache=False
    )
    revoker.rest.apps.revoke_installation_access_token()
    since = len(github.requests)
    later = job_client(app, github)
    assert later.info().full_name == REPO
    later.branch_sha("main")
    assert len(mints(github, since)) == 1
    answered = [r for r in repo_calls(github, since=since) if r.status == 200]
    assert answered and first not in {token_of(r) for r in answered}
