"""The settings the process edge adds: URLs checked up front, secrets in rotation order."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from bot.settings import Settings, SettingsError, get_settings
from tests.helpers import enterable_dir


def settings(**values: Any) -> Settings:
    return get_settings(_env_file=None, **values)


def test_default_ledger_and_queue_are_sqlite_files_in_the_data_dir(tmp_path: Path) -> None:
    built = settings(data_dir=tmp_path, database_url=None, queue_url=None)
    assert built.resolved_database_url() == f"sqlite:///{tmp_path.resolve()}/rolecall.db"
    assert built.resolved_queue_url() == f"sqlite:///{tmp_path.resolve()}/queue.db"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("ROLECALL_DATABASE_URL", "mysql://db", "ROLECALL_DATABASE_URL: Value error, use sqlite"),
        ("ROLECALL_QUEUE_URL", "amqp://localhost", "ROLECALL_QUEUE_URL: Value error, use sqlite"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL: Input should be"),
        ("PORT", "abc", "PORT: Input should be a valid integer"),
    ],
)
def test_an_unusable_value_is_one_line_naming_the_variable(
    name: str, value: str, expected: str
) -> None:
    # Passed by the environment variable's name, as a user sets them.
    with pytest.raises(SettingsError) as refused:
        settings(**{name: value})
    assert len(refused.value.lines) == 1
    assert refused.value.lines[0].startswith(expected)


def test_a_refused_secret_is_not_echoed() -> None:
    with pytest.raises(SettingsError) as refused:
        settings(APP_ID="not-a-number", WEBHOOK_SECRET=["a", "list"])
    lines = refused.value.lines
    assert [line.split(":")[0] for line in lines] == ["APP_ID", "WEBHOOK_SECRET"]
    assert "'list'" not in "\n".join(lines)


def test_accepted_urls_and_case_insensitive_levels() -> None:
    built = settings(
        database_url="postgresql://postgres@127.0.0.1:5432/test",
        queue_url="redis://127.0.0.1:6379/15",
        log_level="DEBUG",
        sandbox="BWRAP",
    )
    assert built.log_level == "debug" and built.sandbox == "bwrap"
    assert built.resolved_queue_url() == "redis://127.0.0.1:6379/15"


def test_webhook_secrets_current_first_then_the_previous_one() -> None:
    assert settings(webhook_secret="new", webhook_secret_previous="old").webhook_secrets() == [
        b"new",
        b"old",
    ]
    assert settings(webhook_secret=None, webhook_secret_previous=None).webhook_secrets() == []


def test_a_worker_needs_app_credentials_but_no_webhook_secret() -> None:
    built = settings(app_id=None, private_key=None, private_key_path=None, webhook_secret="s")
    assert [line.split(":")[0] for line in built.missing_app_credentials()] == [
        "APP_ID",
        "PRIVATE_KEY or PRIVATE_KEY_PATH",
    ]
    assert [line.split(":")[0] for line in built.missing_app_settings()] == [
        "APP_ID",
        "PRIVATE_KEY or PRIVATE_KEY_PATH",
    ]


def test_a_sandbox_user_that_cannot_be_used_is_refused_at_start() -> None:
    """Run as root, Rolecall drops sandboxed commands to ROLECALL_SANDBOX_USER; run as
    anyone else there is no one to drop to, and the setting is not consulted."""
    for name, said in (("no-such-user-here", "no user"), ("root", "is root")):
        if os.geteuid() != 0:
            assert get_settings(sandbox_user=name).sandbox_run_as() is None
            continue
        with pytest.raises(SettingsError) as refused:
            get_settings(sandbox_user=name)
        [line] = refused.value.lines
        assert line.startswith("ROLECALL_SANDBOX_USER:") and said in line, line


def test_a_data_dir_the_sandbox_user_cannot_enter_is_refused_with_the_fix() -> None:
    private = enterable_dir("settings") / "private"
    private.mkdir(mode=0o700)
    settings = get_settings(data_dir=private / "data")
    if os.geteuid() != 0:
        settings.check_sandbox_reach()  # Rolecall's own user owns it: nothing to drop to
        return
    with pytest.raises(SettingsError) as refused:
        settings.check_sandbox_reach()
    [line] = refused.value.lines
    assert f"nobody (ROLECALL_SANDBOX_USER), who cannot enter {private}" in line, line
    assert f"chmod o+x {private}" in line, line
    get_settings(data_dir=private.parent / "data").check_sandbox_reach()  # enterable: fine
