"""`rolecall doctor` proves each setting against the real stand-ins, and says what to fix.

The App's key is proved by GitHub accepting its JWT (`GET /app`), the model key by one
request to the default model; a wrong one is named with the setting that holds it, and
the exit status is 1. What the operator reads is the printed lines; what the services
saw is in the stand-ins' records.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from agents.host import running_as_host_root
from bot.cli.main import main
from bot.settings import DEFAULT_MODEL
from standins.github import GitHubStandIn
from standins.github.keys import new_app_key
from standins.model import ModelStandIn
from tests.helpers import enterable_dir

MODEL_KEY = "sk-ant-doctor-test-key-0123456789"
ENV_NAMES = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "GITHUB_API_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
    "ROLECALL_MODEL",
    "ROLECALL_PROVIDERS",
    "ROLECALL_DATABASE_URL",
    "ROLECALL_QUEUE_URL",
    "ROLECALL_SANDBOX",
)

Doctor = Callable[..., tuple[int, list[str]]]


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(root=tmp_path_factory.mktemp("github"), app_slug="rolecall-doc") as gh:
        yield gh
        assert gh.server_errors == [], gh.server_errors[0]


@pytest.fixture(scope="module")
def model() -> Iterator[ModelStandIn]:
    with ModelStandIn(api_key=MODEL_KEY, models={DEFAULT_MODEL}) as standin:
        standin.respond_with(lambda request: "ok")
        yield standin
    assert standin.errors == []


@pytest.fixture
def doctor(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    github: GitHubStandIn,
    model: ModelStandIn,
) -> Doctor:
    """`rolecall doctor` in this process, set up against the stand-ins; `**env` changes it."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    good = {
        "APP_ID": str(github.app_id),
        "PRIVATE_KEY": github.private_key_pem,
        "WEBHOOK_SECRET": github.webhook_secret,
        "GITHUB_API_URL": github.api_url,
        "ANTHROPIC_API_KEY": MODEL_KEY,
        "ANTHROPIC_BASE_URL": model.url,
        # Enterable by the sandbox user, as a job's data dir must be (tests.helpers).
        "ROLECALL_DATA_DIR": str(enterable_dir("doctor-data")),
    }

    def run(**env: str) -> tuple[int, list[str]]:
        for name, value in {**good, **env}.items():
            monkeypatch.setenv(name, value)
        code = main(["doctor"])
        out, _ = capsys.readouterr()
        return code, out.splitlines()

    return run


def other_pem() -> str:
    """A well-formed RSA key that belongs to no App (another App's key, for GitHub)."""
    return new_app_key()[1]


def line_about(lines: list[str], topic: str) -> str:
    [found] = [line for line in lines if line[6:].startswith(f"{topic}:")]
    return found


def test_a_good_setup_is_ok_on_every_line(
    doctor: Doctor, github: GitHubStandIn, model: ModelStandIn
) -> None:
    asked = len(model.requests)
    code, lines = doctor()
    assert code == 0, "\n".join(lines)
    assert all(line.startswith("ok    ") for line in lines), "\n".join(lines)
    topics = [line[6:].split(":")[0] for line in lines]
    for topic in (
        "github app",
        "webhook secret",
        "model",
        "bwrap",
        "job sandbox",
        "git",
        "data dir",
    ):
        assert topic in topics
    assert "database" in topics and "queue" in topics
    assert "`rolecall-doc`" in line_about(lines, "github app")
    # The model was really asked, with the key and the default model.
    [request] = model.requests[asked:]
    sent = request.headers.get("x-api-key") or request.headers["authorization"]
    assert sent.removeprefix("Bearer ") == MODEL_KEY
    assert request.json["model"] == DEFAULT_MODEL and request.json["max_tokens"] == 1
    assert MODEL_KEY not in "\n".join(lines)


def test_another_apps_key_names_the_credentials_and_fails(
    doctor: Doctor, github: GitHubStandIn
) -> None:
    code, lines = doctor(PRIVATE_KEY=other_pem())
    assert code == 1
    assert line_about(lines, "github app") == (
        f"FAIL  github app: App {github.app_id} at {github.api_url}: GitHub refused the "
        "App's credentials (401): check APP_ID and PRIVATE_KEY."
    )
    assert [line for line in lines if line.startswith("FAIL")] == [line_about(lines, "github app")]


def test_another_app_id_names_the_credentials_too(doctor: Doctor, github: GitHubStandIn) -> None:
    code, lines = doctor(APP_ID=str(github.app_id + 1000))
    assert code == 1
    assert "check APP_ID and PRIVATE_KEY" in line_about(lines, "github app")


def test_a_private_key_that_is_no_key_says_what_it_must_be(doctor: Doctor) -> None:
    code, lines = doctor(PRIVATE_KEY="this is not a key")
    assert code == 1
    line = line_about(lines, "github app")
    assert line.startswith("FAIL") and "not an RSA private key in PEM form" in line
    assert "this is not a key" not in "\n".join(lines)


def test_a_wrong_model_key_names_anthropic_api_key(doctor: Doctor, model: ModelStandIn) -> None:
    wrong = "sk-ant-revoked-key-9876543210"
    code, lines = doctor(ANTHROPIC_API_KEY=wrong)
    assert code == 1
    assert line_about(lines, "model") == (
        f"FAIL  model: `{DEFAULT_MODEL}` (ROLECALL_MODEL) at {model.url}: the model API "
        "refused the key (401): check ANTHROPIC_API_KEY"
    )
    assert wrong not in "\n".join(lines)


def test_a_model_the_provider_does_not_know_is_named(doctor: Doctor) -> None:
    code, lines = doctor(ROLECALL_MODEL="claude-nope-1")
    assert code == 1
    line = line_about(lines, "model")
    assert line.startswith("FAIL") and "does not know the model `claude-nope-1` (404)" in line


def test_an_unreachable_model_api_names_its_address(doctor: Doctor) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    code, lines = doctor(ANTHROPIC_BASE_URL=url)
    assert code == 1
    assert line_about(lines, "model").endswith(
        f"could not reach the model API at {url} (connection refused); check ANTHROPIC_BASE_URL"
    )


def test_an_empty_webhook_secret_fails(doctor: Doctor) -> None:
    code, lines = doctor(WEBHOOK_SECRET="")
    assert code == 1
    assert any(line.startswith("FAIL  setting WEBHOOK_SECRET is empty") for line in lines)


def test_a_data_dir_the_sandbox_user_cannot_enter_fails_where_bwrap_alone_passes(
    doctor: Doctor, tmp_path: Path
) -> None:
    private = tmp_path / "private"  # pytest's own directories are 0700, as a home often is
    private.mkdir(mode=0o700)
    code, lines = doctor(ROLECALL_DATA_DIR=str(private / "data"))
    assert line_about(lines, "bwrap").startswith("ok")
    job_sandbox = line_about(lines, "job sandbox")
    if running_as_host_root():  # commands run as ROLECALL_SANDBOX_USER, who cannot enter it
        assert code == 1 and job_sandbox.startswith("FAIL"), job_sandbox
        assert "cannot reach" in job_sandbox and "chmod o+x" in job_sandbox
    else:  # commands run as this user, who can
        assert job_sandbox.startswith("ok"), job_sandbox
