"""`rolecall` as a user runs it: the installed console script, in a fresh directory."""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.cli.jobs import no_ledger
from bot.cli.main import COMMANDS, build_parser, main
from bot.settings import Settings, get_settings
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
    # Each command is found by its module alone (what keeps `rolecall jobs` fast).
    [commands] = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert sorted(commands.choices) == sorted(COMMANDS)
    for name, module in COMMANDS.items():
        [alone] = [
            a for a in build_parser(name)._actions if isinstance(a, argparse._SubParsersAction)
        ]
        assert name in alone.choices, module


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
    code, out, _ = in_process("jobs", COLUMNS="100")
    assert code == 0
    rows = out.splitlines()
    assert rows[0].split() == ["ID", "STATE", "ROLE", "TARGET", "COST", "PR", "OUTCOME"]
    assert rows[1].split() == [
        str(second),
        "failed",
        "implementer",
        "octo/repo#2",
        "unknown",
        "-",
        *["interrupted", "by", "a", "restart"],
    ]
    assert rows[2].split() == [
        str(first),
        "succeeded",
        "implementer",
        "octo/repo#1",
        "$0.4321",
        "#3",
        "-",
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


def test_jobs_shows_outcomes_as_plain_text_cut_at_a_word_to_fit_the_terminal(
    tmp_path: Path, in_process: Callable[..., tuple[int, str, str]]
) -> None:
    first, second = record_two_jobs(tmp_path / "data")
    ledger = open_ledger(make_settings(tmp_path / "data"))
    outcome = "The agent stopped at the **turn limit** (`50 turns`) before finishing the work"
    ledger.update_job(second, outcome=f"⚠️ {outcome}\n\nIts work so far is on a draft PR.")
    # What an older Rolecall wrote: an exception's repr, and text that steers a terminal.
    ledger.update_job(
        first, outcome="failed in execute: RuntimeError('sandbox \\'bwrap\\' died')\x1b[2J"
    )
    ledger.close()
    for columns in (80, 120):
        code, out, _ = in_process("jobs", COLUMNS=str(columns))
        assert code == 0
        lines = out.splitlines()
        assert all(len(line) <= columns for line in lines), (columns, lines)
        newest, oldest = lines[1], lines[2]
        assert "**" not in newest and "`" not in newest and "⚠" not in newest
        shown = newest.split("  ")[-1].strip()
        assert shown.endswith("…") and shown.removesuffix("…") in (
            "The agent stopped at the turn limit (50 turns) before finishing the work Its work "
            "so far is on a draft PR."
        )
        assert shown.removesuffix("…").split()[-1] in outcome.replace("**", "").split()
        assert "RuntimeError(" not in oldest and "\x1b" not in out
        if columns == 120:
            assert oldest.endswith("failed in execute: RuntimeError: sandbox 'bwrap' died[2J")
    code, out, _ = in_process("jobs", COLUMNS="80")
    assert out.splitlines()[1].endswith("  The agent stopped at the…")


def test_jobs_json_is_what_the_ledger_model_holds(
    tmp_path: Path, in_process: Callable[..., tuple[int, str, str]]
) -> None:
    """`--json` reads the file without SQLModel, and prints exactly what `Job` would."""
    first, second = record_two_jobs(tmp_path / "data")
    ledger = open_ledger(make_settings(tmp_path / "data"))
    ledger.update_job(
        first,
        started_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        turns=7,
        decision_json={"kind": "implement", "notes": None, "labels": ["a"]},
    )
    ledger.update_job(second, is_pull_request=True, cost_usd=2.0, summary="done\n`x`")
    expected = [job.model_dump(mode="json") for job in ledger.list_jobs(limit=50)]
    ledger.close()
    code, out, _ = in_process("jobs", "--json")
    assert code == 0
    assert json.loads(out) == expected
    assert json.loads(out)[1]["started_at"] == "2026-01-02T03:04:05Z"
    assert json.loads(out)[1]["decision_json"] == {
        "kind": "implement",
        "notes": None,
        "labels": ["a"],
    }


def test_jobs_from_another_directory_creates_nothing_and_says_where_it_looked(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    data = tmp_path / "srv" / "data"  # not there: Rolecall never ran with it
    for argv in (["jobs"], ["jobs", "--json"]):
        listed = subprocess.run(
            [ROLECALL, *argv],
            cwd=elsewhere,
            env=clean_env(data),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 1
        assert listed.stdout == ""
        assert f"no ledger at {data / 'rolecall.db'} (ROLECALL_DATA_DIR is {data})" in listed.stderr
        assert "nothing was created" in listed.stderr
        assert "ROLECALL_DATA_DIR (or ROLECALL_DATABASE_URL)" in listed.stderr
        assert list(elsewhere.iterdir()) == [] and not data.parent.exists()


def test_jobs_finds_the_ledger_the_settings_name_from_any_directory(tmp_path: Path) -> None:
    _, second = record_two_jobs(tmp_path / "srv" / "data")
    elsewhere = tmp_path / "home"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text(f"ROLECALL_DATA_DIR={tmp_path / 'srv' / 'data'}\n")
    env = clean_env(tmp_path / "srv" / "data")
    del env["ROLECALL_DATA_DIR"]  # from .env only
    listed = subprocess.run(
        [ROLECALL, "jobs"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[:2] == [str(second), "failed"]
    url = f"sqlite:///{tmp_path / 'srv' / 'data' / 'rolecall.db'}"
    listed = subprocess.run(
        [ROLECALL, "jobs", "--json"],
        cwd=tmp_path,
        env={**env, "ROLECALL_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert json.loads(listed.stdout)[0]["id"] == second
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "srv"]
    assert [p.name for p in (tmp_path / "srv" / "data").iterdir()] == ["rolecall.db"], (
        "reading leaves no side file (-wal, -shm) behind"
    )


def test_without_rolecall_data_dir_the_message_names_the_default(
    in_process: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ROLECALL_DATA_DIR")
    settings = get_settings()
    message = no_ledger(settings, settings.data_dir / "rolecall.db")
    assert "ROLECALL_DATA_DIR is not set, so the default data directory (" in message
    assert str(settings.data_dir) in message and "nothing was created" in message
    url = "sqlite:///nowhere/ledger.db"
    monkeypatch.setenv("ROLECALL_DATABASE_URL", url)
    code, out, err = in_process("jobs")
    assert (code, out) == (1, "")
    assert f"no ledger at {Path('nowhere/ledger.db').absolute()} (ROLECALL_DATABASE_URL " in err
    assert not Path("nowhere").exists()


def test_jobs_on_a_sqlite_ledger_never_loads_sqlalchemy(tmp_path: Path) -> None:
    """What keeps `rolecall jobs` and `--help` fast (bench/startup.py): SQLModel with
    SQLAlchemy takes longer to import than the whole command may."""
    record_two_jobs(tmp_path / "data")
    probe = (
        "import sys\n"
        "from bot.cli.main import build_parser, main\n"
        "build_parser()\n"
        "for argv in (['jobs'], ['jobs', '--json']):\n"
        "    assert main(argv) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=clean_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == "[]"


def test_jobs_on_an_unreachable_database_says_which_setting(
    in_process: Callable[..., tuple[int, str, str]],
) -> None:
    url = "postgresql://rolecall:hunter2-password@127.0.0.1:1/nowhere"
    code, out, err = in_process("jobs", ROLECALL_DATABASE_URL=url)
    assert (code, out) == (1, "")
    assert "check ROLECALL_DATABASE_URL" in err and "hunter2" not in err
