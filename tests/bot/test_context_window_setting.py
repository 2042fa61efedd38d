"""ROLECALL_CONTEXT_WINDOW: the window of a model Rolecall's table does not know."""

from __future__ import annotations

import pytest

from agents.roles.loader import load_role_text
from bot.jobs.role_settings import limits_for
from bot.settings import SettingsError, get_settings

ROLE = load_role_text("---\nname: backend\ndescription: x\n---\nHi.", ".claude/agents/backend.md")


def test_the_setting_reaches_the_runs_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLECALL_CONTEXT_WINDOW", "32768")
    assert limits_for(ROLE, None, get_settings(_env_file=None)).context_window == 32_768


def test_unset_it_leaves_the_window_to_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLECALL_CONTEXT_WINDOW", raising=False)
    assert limits_for(ROLE, None, get_settings(_env_file=None)).context_window is None


@pytest.mark.parametrize("value", ["0", "-5", "lots"])
def test_a_window_that_is_no_positive_number_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("ROLECALL_CONTEXT_WINDOW", value)
    with pytest.raises(SettingsError) as refused:
        get_settings(_env_file=None)
    assert any("ROLECALL_CONTEXT_WINDOW" in line for line in refused.value.lines)
