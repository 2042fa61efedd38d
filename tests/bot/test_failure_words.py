"""What a failed GitHub call is called, in words a person can act on.

Every error here is the one githubkit really raised against the GitHub stand-in (a JWT
signed by another key, a token without a permission, a rate limit, a stall, a closed
port), handed to `explain_failure`, the function whose sentence the tracking comment
shows and the ledger keeps (what `rolecall jobs` prints).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from githubkit import AppAuthStrategy, GitHub, TokenAuthStrategy
from githubkit.cache import MemCacheStrategy

from agents.model import Provider, make_client
from agents.text.redact import Redactor
from bot.github import JOB_PERMISSIONS, GitHubApp
from bot.jobs.failures import explain_failure
from standins.github import GitHubStandIn
from standins.github.keys import new_app_key

REPO = "octo/calc"
CREDENTIALS = "GitHub refused the App's credentials (401): check APP_ID and PRIVATE_KEY."


def other_pem() -> str:
    """A well-formed RSA key that belongs to no App (another App's key, for GitHub)."""
    return new_app_key()[1]


def raised(call: Callable[[], object]) -> Exception:
    """The exception `call` raised (it must raise one)."""
    try:
        call()
    except Exception as exc:
        return exc
    raise AssertionError("the call did not fail")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def gh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path_factory.mktemp("github")) as stand_in:
        stand_in.add_user("alice")
        stand_in.create_repo(REPO, files={"calc.py": "x = 1\n"})
        stand_in.set_permission(REPO, "alice", "write")
        yield stand_in
        assert stand_in.server_errors == [], stand_in.server_errors[0]


@pytest.fixture
def fresh_gh(tmp_path: Path) -> Iterator[GitHubStandIn]:
    """A GitHub of its own: githubkit caches an App's JWT by App id for the whole process,
    so a test about the App's credentials needs an App id no other test signed in as."""
    with GitHubStandIn(root=tmp_path / "github") as stand_in:
        stand_in.add_user("alice")
        stand_in.create_repo(REPO, files={"calc.py": "x = 1\n"})
        yield stand_in


def repo_client(
    gh: GitHubStandIn, pem: str, *, app_id: int | None = None, **permissions: str
) -> Any:
    """Rolecall's own client for octo/calc, as a job gets it (`GitHubApp.repo`)."""
    app = GitHubApp(gh.app_id if app_id is None else app_id, pem, gh.api_url)
    return app.repo(gh.installation_id(REPO), REPO, Redactor(), permissions or JOB_PERMISSIONS)


def bare_client(gh: GitHubStandIn, **options: Any) -> GitHub[Any]:
    """An installation-token client that reports the first answer (no retries).

    Keep it in a variable while calling: `client.rest` holds it only weakly.
    """
    token = gh.issue_token(REPO)
    return GitHub(
        TokenAuthStrategy(token),
        base_url=options.pop("base_url", gh.api_url),
        timeout=options.pop("timeout", 10),
        http_cache=False,
        auto_retry=False,
    )


# -- the App's credentials ------------------------------------------------------------


def test_another_apps_key_is_named_as_the_apps_credentials(fresh_gh: GitHubStandIn) -> None:
    """The token for a job cannot be minted: the private key is another App's."""
    error = raised(lambda: repo_client(fresh_gh, other_pem()).permission("alice"))
    said = explain_failure(error)
    assert said == CREDENTIALS
    assert "Response(" not in said and "RequestFailed" not in said


def test_another_app_id_is_named_as_the_apps_credentials(fresh_gh: GitHubStandIn) -> None:
    wrong_id = fresh_gh.app_id + 1000
    error = raised(
        lambda: repo_client(fresh_gh, fresh_gh.private_key_pem, app_id=wrong_id).permission("alice")
    )
    assert explain_failure(error) == CREDENTIALS


def test_an_app_id_github_does_not_know_says_to_check_app_id(gh: GitHubStandIn) -> None:
    """GitHub's answer when the JWT's `iss` names no App at all (told to the stand-in)."""
    gh.fail_next("GET", "/app", status=404, body={"message": "Integration not found"})
    client = GitHub(
        AppAuthStrategy(gh.app_id, gh.private_key_pem),
        base_url=gh.api_url,
        timeout=10,
        http_cache=False,
        cache_strategy=MemCacheStrategy(),
    )
    said = explain_failure(raised(client.rest.apps.get_authenticated))
    assert said.startswith("GitHub knows no App with the id in APP_ID (404): check APP_ID")


def test_a_key_that_is_no_key_says_what_private_key_must_hold(fresh_gh: GitHubStandIn) -> None:
    garbage = "-----BEGIN RSA PRIVATE KEY-----\nnot-a-key\n-----END RSA PRIVATE KEY-----\n"
    error = raised(lambda: repo_client(fresh_gh, garbage).permission("alice"))
    said = explain_failure(error)
    assert "PRIVATE_KEY" in said and "PEM" in said
    assert "not-a-key" not in said and "Could not parse" not in said


# -- the installation -----------------------------------------------------------------


def test_a_permission_the_installation_lacks_is_named(gh: GitHubStandIn) -> None:
    read_only = repo_client(gh, gh.private_key_pem, issues="read", metadata="read")
    number = int(gh.open_issue(REPO, "alice", "A bug"))
    said = explain_failure(raised(lambda: read_only.comment(number, "hello")))
    assert said.startswith("GitHub refused the App (403):")
    assert "`issues: write`" in said and "installation" in said
    assert "rate limit" not in said


def test_permissions_the_installation_never_granted_are_named(fresh_gh: GitHubStandIn) -> None:
    """The App asks for `issues: write` but the installation was made without it."""
    del fresh_gh.app_permissions["issues"]
    repo = repo_client(fresh_gh, fresh_gh.private_key_pem)
    said = explain_failure(raised(lambda: repo.permission("alice")))
    assert said.startswith("The App's installation has not granted the permissions Rolecall")
    assert "`issues: write`" in said and "installation's settings" in said


def test_a_used_up_rate_limit_says_so_and_when_to_retry(gh: GitHubStandIn) -> None:
    reset = int(time.time()) + 600
    gh.fail_next(
        "GET",
        r"/repos/octo/calc",
        status=403,
        headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
        body={"message": "API rate limit exceeded for installation ID 1."},
    )
    client = bare_client(gh)
    said = explain_failure(raised(lambda: client.rest.repos.get("octo", "calc")))
    assert said.startswith("GitHub's API rate limit for the App's installation is used up (403)")
    assert "/retry" in said and "10 minutes" in said
    assert "permission" not in said


def test_a_secondary_rate_limit_is_told_apart(gh: GitHubStandIn) -> None:
    gh.fail_next("GET", r"/repos/octo/calc", status=403, headers={"retry-after": "1"})
    client = bare_client(gh)
    said = explain_failure(raised(lambda: client.rest.repos.get("octo", "calc")))
    assert said.startswith("GitHub's secondary rate limit stopped Rolecall (403)")
    assert "/retry" in said and "permission" not in said


def test_a_repository_that_is_gone_is_named(gh: GitHubStandIn) -> None:
    client = bare_client(gh)
    said = explain_failure(raised(lambda: client.rest.repos.get("octo", "gone")))
    assert said.startswith("GitHub could not find `octo/gone` (404):")
    assert "App is not installed on it" in said


def test_a_token_for_a_repository_the_installation_lacks_is_named(gh: GitHubStandIn) -> None:
    """Minting a job's token for a repository that is gone (or not in the installation)."""
    app = GitHubApp(gh.app_id, gh.private_key_pem, gh.api_url)
    repo = app.repo(gh.installation_id(REPO), "octo/gone", Redactor())
    said = explain_failure(raised(lambda: repo.permission("alice")))
    assert said.startswith("GitHub could not find `gone` in the App's installation (422):")
    assert "App is not installed on it" in said


def test_an_installation_that_is_gone_is_named(gh: GitHubStandIn) -> None:
    app = GitHubApp(gh.app_id, gh.private_key_pem, gh.api_url)
    said = explain_failure(raised(lambda: app.repo(987654, REPO, Redactor()).permission("alice")))
    assert said.startswith("GitHub does not know the App's installation 987654 (404):")
    assert "install" in said


# -- GitHub unavailable or unreachable --------------------------------------------------


def test_a_server_error_says_github_is_unavailable_and_to_retry(gh: GitHubStandIn) -> None:
    gh.fail_next("GET", r"/repos/octo/calc", status=502)
    client = bare_client(gh)
    said = explain_failure(raised(lambda: client.rest.repos.get("octo", "calc")))
    assert said.startswith("GitHub is unavailable (502)")
    assert "/retry" in said


def test_a_timeout_says_github_did_not_answer(gh: GitHubStandIn) -> None:
    gh.stall_next("GET", r"/repos/octo/calc", seconds=3)
    slow = bare_client(gh, timeout=httpx.Timeout(0.5))
    said = explain_failure(raised(lambda: slow.rest.repos.get("octo", "calc")))
    assert said.startswith("GitHub did not answer in time")
    assert "/retry" in said


def test_a_closed_port_names_the_address_and_the_setting(gh: GitHubStandIn) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    client = bare_client(gh, base_url=url)
    said = explain_failure(raised(lambda: client.rest.repos.get("o", "r")))
    assert said == (
        f"Rolecall could not reach GitHub at {url} (connection refused): check "
        "GITHUB_API_URL and the network."
    )


def test_the_app_check_with_its_own_jwt_cache(fresh_gh: GitHubStandIn) -> None:
    """`GET /app` with another key, as `rolecall doctor` asks it."""
    client = GitHub(
        AppAuthStrategy(fresh_gh.app_id, other_pem()),
        base_url=fresh_gh.api_url,
        timeout=10,
        http_cache=False,
        cache_strategy=MemCacheStrategy(),
    )
    assert explain_failure(raised(client.rest.apps.get_authenticated)) == CREDENTIALS


# -- never GitHub's words -------------------------------------------------------------


def test_what_github_said_is_not_repeated(gh: GitHubStandIn) -> None:
    """A body can quote anything (here a token-shaped string): the sentence is ours."""
    leaked = "ghs_" + "A1b2C3d4" * 4 + "zz"
    gh.fail_next(
        "POST", r"/repos/octo/calc/issues/\d+/comments", status=422, body={"message": leaked}
    )
    number = int(gh.open_issue(REPO, "alice", "Another bug"))
    client = bare_client(gh)
    error = raised(lambda: client.rest.issues.create_comment("octo", "calc", number, body="x"))
    said = explain_failure(error)
    assert said.startswith(f"GitHub refused `POST /repos/octo/calc/issues/{number}/comments` (422)")
    assert leaked not in said and "ghs_" not in said


# -- the model API, where a phase raised (not the agent loop) ---------------------------


def test_a_model_api_without_a_key_says_which_setting_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    error = raised(lambda: make_client(Provider("anthropic", "http://127.0.0.1:1", None)))
    said = explain_failure(error)
    assert said.startswith("The model API could not be used: no credentials")
    assert "set ANTHROPIC_API_KEY" in said and "Rolecall's log" not in said
