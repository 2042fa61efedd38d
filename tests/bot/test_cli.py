"""`rolecall` as a user runs it: the installed console script, in a fresh directory."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.main import main
from bot.settings import Settings
from bot.store.ledger import NewDelivery, open_ledger
from tests.helpers import enterable_dir

ROLECALL = str(Path(sys.executable).with_name("rolecall"))


def clean_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """An environment with none of the developer's Rolecall or App settings in it."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir.parent),
        "LANG": "C.UTF-8",
        "ROLECALL_DATA_DIR": str(data_dir),
    }
    env.update(extra)
    return env


def rolecall(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ROLECALL, *argv],
        cwd=tmp_path,
        env=clean_env(tmp_path / "data", **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("serve", "worker", "jobs", "doctor", "roles"):
        assert command in result.stdout


def test_a_malformed_setting_is_one_line_and_exit_2_without_a_traceback(tmp_path: Path) -> None:
    result = rolecall(tmp_path, "jobs", PORT="abc")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "rolecall: setting PORT: Input should be a valid integer, unable to parse string as "
        "an integer (got 'abc')"
    ]


SETTING_NAMES = (
    "APP_ID",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PATH",
    "WEBHOOK_SECRET",
    "WEBHOOK_SECRET_PREVIOUS",
    "ROLECALL_DATABASE_URL",
    "ROLECALL_QUEUE_URL",
    "ROLECALL_SANDBOX",
    "ANTHROPIC_API_KEY",
    "PORT",
)


@pytest.fixture
def in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run `main(argv)` in this process with a clean environment; returns (code, out, err)."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROLECALL_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    def run(*argv: str, **env: str) -> tuple[int, str, str]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ROLECALL_DATABASE_URL", "mysql://db", "ROLECALL_DATABASE_URL: Value error, use sqlite"),
        ("ROLECALL_QUEUE_URL", "amqp://q", "ROLECALL_QUEUE_URL: Value error, use sqlite"),
        ("ROLECALL_SANDBOX", "none", "ROLECALL_ALLOW_UNSAFE_SANDBOX=true"),
        ("ROLECALL_WORKERS", "0", "ROLECALL_WORKERS: Input should be greater than or equal to 1"),
    ],
)
def test_each_unusable_setting_is_one_line_and_exit_2(
    in_process: Callable[..., tuple[int, str, str]], name: str, value: str, expected: str
) -> None:
    code, out, err = in_process("jobs", **{name: value})
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_a_worker_without_app_credentials_names_them_and_exits_2(
    in_process: Callable[..., tuple[int, str, str]],
) -> None:
    code, _, err = in_process("worker")
    assert code == 2
    assert [line.split(":")[1].strip() for line in err.splitlines()] == [
        "setting APP_ID",
        "setting PRIVATE_KEY or PRIVATE_KEY_PATH",
    ]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def unconfigured_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    port = free_port()
    process = subprocess.Popen(
        [ROLECALL, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path,
        env=clean_env(enterable_dir("data")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, "rolecall serve did not start"
        try:
            httpx.get(url + "/healthz", timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.05)
    try:
        yield url, process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)


def test_serve_starts_without_credentials_and_names_each_missing_setting(
    unconfigured_server: tuple[str, subprocess.Popen[str]],
) -> None:
    url, process = unconfigured_server
    page = httpx.get(url + "/", timeout=10)
    assert page.status_code == 200
    for setting in ("APP_ID", "PRIVATE_KEY or PRIVATE_KEY_PATH", "WEBHOOK_SECRET"):
        assert f"<code>{setting}:" in page.text
    assert "https://github.com/settings/apps/new" in page.text and "app.yml" in page.text

    webhook = httpx.post(
        url + "/api/github/webhooks",
        content=b"{}",
        headers={"Content-Type": "application/json", "X-GitHub-Event": "ping"},
        timeout=10,
    )
    assert webhook.status_code == 503
    assert "set WEBHOOK_SECRET" in webhook.json()["error"]

    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert "Traceback" not in stderr


def make_settings(data_dir: Path) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "database_url": None, "queue_url": None}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def record_two_jobs(data_dir: Path) -> tuple[int, int]:
    ledger = open_ledger(make_settings(data_dir))
    results = ledger.record_deliveries(
        [
            NewDelivery(
                id=f"d-{n}",
                event="issue_comment",
                action="created",
                decision="job",
                reason="/implement",
                job={
                    "kind": "implement",
                    "role": "implementer",
                    "repo_full_name": "octo/repo",
                    "issue_number": n,
                },
            )
            for n in (1, 2)
        ]
    )
    first, second = (r.job_id for r in results)
    assert first is not None and second is not None
    ledger.update_job(
        first, state="succeeded", cost_usd=0.4321, pr_url="https://github.com/octo/repo/pull/3"
    )
    ledger.update_job(second, state="failed", outcome="interrupted by a restart")
    ledger.close()
    return first, second


def test_jobs_json_prints_what_the_ledger_holds(tmp_path: Path) -> None:
    first, second = record_two_jobs(tmp_path / "data")
    listed = rolecall(tmp_path, "jobs", "--json")
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)
    assert [(j["id"], j["state"], j["cost_usd"]) for j in jobs] == [
        (second, "failed", None),
        (first, "succeeded", 0.4321),
    ]
    assert jobs[1]["pr_url"] == "https://github.com/octo/repo/pull/3"


def test_jobs_table_shows_unknown_cost_and_outcomes(
    tmp_path: Path, in_process: Callable[..., tuple[int, str, str]]
) -> None:
    first, second = record_two_jobs(tmp_path / "data")
    code, out, _ = in_process("jobs")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split() == ["ID", "STATE", "ROLE", "TARGET", "COST", "OUTCOME", "PR"]
    assert rows[1].split()[:5] == [str(second), "failed", "implementer", "octo/repo#2", "unknown"]
    assert "interrupted by a restart" in rows[1]
    assert rows[2].split() == [
        str(first),
        "succeeded",
        "implementer",
        "octo/repo#1",
        "$0.4321",
        "-",
        "https://github.com/octo/repo/pull/3",
    ]


def test_doctor_says_what_is_missing_one_line_each(
    in_process: Callable[..., tuple[int, str, str]],
) -> None:
    code, text, _ = in_process("doctor")
    assert code == 1  # the App is not configured
    lines = text.splitlines()
    assert all(line.startswith(("ok  ", "FAIL")) for line in lines)
    assert "FAIL  setting APP_ID" in text and "FAIL  setting WEBHOOK_SECRET" in text
    assert "FAIL  setting ANTHROPIC_API_KEY" in text
    assert "ok    git: git version" in text
    assert "ok    data dir:" in text and "ok    database:" in text
    assert any("bwrap" in line for line in lines)


def test_doctor_names_an_unreachable_database_without_its_password(
    in_process: Callable[..., tuple[int, str, str]],
) -> None:
    url = "postgresql://rolecall:hunter2-password@127.0.0.1:1/nowhere"
    code, text, _ = in_process("doctor", ROLECALL_DATABASE_URL=url)
    assert code == 1
    [line] = [line for line in text.splitlines() if "database:" in line]
    assert line.startswith("FAIL  database: cannot reach postgresql://rolecall:***@127.0.0.1:1")
    assert "ROLECALL_DATABASE_URL" in line and "hunter2" not in text


def test_jobs_where_there_is_no_ledger_says_so_and_creates_none(tmp_path: Path) -> None:
    listed = rolecall(tmp_path, "jobs")
    assert listed.returncode == 1
    assert "no ledger at" in listed.stderr and "ROLECALL_DATA_DIR" in listed.stderr
    assert "no jobs yet" not in listed.stdout
    assert not (tmp_path / "data" / "rolecall.db").exists()


def test_jobs_shows_an_outcome_as_plain_text_cut_at_a_word(
    tmp_path: Path, in_process: Callable[..., tuple[int, str, str]]
) -> None:
    _, second = record_two_jobs(tmp_path / "data")
    ledger = open_ledger(make_settings(tmp_path / "data"))
    outcome = "The agent stopped at the **turn limit** (`50 turns`) before finishing the work"
    ledger.update_job(second, outcome=f"{outcome}\n\nIts work so far is on a draft PR.")
    ledger.close()
    code, out, _ = in_process("jobs")
    assert code == 0
    row = out.splitlines()[1]
    assert "The agent stopped at the turn limit (50 turns) before…" in row
    assert "**" not in row and "`" not in row
