"""A role's model and limits: config over role file over settings; providers from settings."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from agents.executor import Limits
from agents.model import ModelRef, Provider
from agents.roles.loader import Role, load_role_text
from bot.jobs.context import JobStopped
from bot.jobs.role_settings import limits_for, model_for
from bot.providers import provider_for, provider_keys, provider_names
from bot.settings import Settings, SettingsError, get_settings
from handlers.config_parsing import parse_config

HAIKU = ModelRef("anthropic", "claude-haiku-5-5")
GATEWAY = {"gateway": {"base_url": "https://llm.example.com/", "api_key": "gw-secret-123"}}


def settings(
    monkeypatch: pytest.MonkeyPatch, providers: object = None, **values: object
) -> Settings:
    if providers is not None:
        monkeypatch.setenv("ROLECALL_PROVIDERS", json.dumps(providers))
    return get_settings(_env_file=None, **values)


def role(
    model: str | None = None, max_turns: int | None = None, thinking: int | None = None
) -> Role:
    lines = ["---", "name: backend", "description: x"]
    lines += [f"model: {model}"] if model else []
    lines += [f"maxTurns: {max_turns}"] if max_turns else []
    lines += [f"thinking: {thinking}"] if thinking else []
    return load_role_text("\n".join([*lines, "---", "Hi."]), ".claude/agents/backend.md")


@pytest.mark.parametrize(
    ("spec", "config", "expected"),
    [
        (None, "", ModelRef("anthropic", "claude-sonnet-5-5")),
        ("inherit", "", ModelRef("anthropic", "claude-sonnet-5-5")),
        ("opus", "", ModelRef("anthropic", "claude-opus-5-5")),
        ("Claude Haiku 4.5 (copilot)", "", ModelRef("anthropic", "claude-haiku-4-5")),
        ("ollama,qwen2.5-coder:7b", "", ModelRef("ollama", "qwen2.5-coder:7b")),
        ("gateway,gpt-4.1", "", ModelRef("gateway", "gpt-4.1")),
        ("fast", "models:\n  fast: gateway,small-1\n", ModelRef("gateway", "small-1")),
        ("opus", "roles:\n  backend:\n    model: haiku\n", HAIKU),
    ],
)  # fmt: skip
def test_models(
    monkeypatch: pytest.MonkeyPatch, spec: str | None, config: str, expected: ModelRef
) -> None:
    got = model_for(role(spec), parse_config(config), settings(monkeypatch, GATEWAY))
    assert got == expected


@pytest.mark.parametrize(
    ("spec", "config", "says"),
    [
        ("nowhere,m", "", ["`model:` in `.claude/agents/backend.md` says `nowhere,m`",
                           "unknown model provider 'nowhere'"]),
        ("GPT-4.1", "", ["says `GPT-4.1`", "is not a Claude model"]),
        (None, "roles:\n  backend:\n    model: bad,m\n",
         ["`roles.backend.model` in `.github/rolecall.yml` says `bad,m`"]),
    ],
)  # fmt: skip
def test_an_unusable_model_says_where_and_what_to_write(
    monkeypatch: pytest.MonkeyPatch, spec: str | None, config: str, says: list[str]
) -> None:
    with pytest.raises(JobStopped) as stopped:
        model_for(role(spec), parse_config(config), settings(monkeypatch, GATEWAY))
    for text in says:
        assert text in stopped.value.reason
    assert "`provider,model`" in stopped.value.reason
    assert "`anthropic`, `gateway`, `ollama`" in stopped.value.reason


def test_limits_come_from_the_config_then_the_role_file_then_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = settings(monkeypatch, ROLECALL_MAX_TURNS="40", ROLECALL_MAX_MINUTES="10")
    tokens = {"max_total_tokens": 2_000_000}
    assert limits_for(role(), None, base) == Limits(40, 600, Decimal(5), **tokens)
    assert limits_for(role(max_turns=12), None, base) == Limits(12, 600, Decimal(5), **tokens)
    config = parse_config("roles:\n  backend:\n    max_turns: 7\n    max_cost_usd: 0.5\n")
    assert limits_for(role(max_turns=12), config, base) == Limits(7, 600, Decimal("0.5"), **tokens)


def test_the_thinking_budget_comes_from_the_config_then_the_role_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base = settings(monkeypatch, ROLECALL_MAX_TOKENS="500000")
    assert limits_for(role(), None, base).thinking_budget is None
    assert limits_for(role(thinking=4000), None, base).thinking_budget == 4000
    config = parse_config("roles:\n  backend:\n    thinking: 16000\n")
    assert limits_for(role(thinking=4000), config, base).thinking_budget == 16000
    assert limits_for(role(), None, base).max_total_tokens == 500_000


def test_providers_come_from_one_json_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    built = settings(monkeypatch, {**GATEWAY, "ollama": {"base_url": "http://10.0.0.2:11434"}})
    assert provider_names(built) == ["anthropic", "gateway", "ollama"]
    assert provider_for(built, "gateway") == Provider(
        "gateway", "https://llm.example.com", "gw-secret-123"
    )
    assert provider_for(built, "ollama") == Provider("ollama", "http://10.0.0.2:11434", None)
    assert provider_keys(built) == ["gw-secret-123"]
    default = settings(monkeypatch, {})
    assert provider_for(default, "ollama") == Provider("ollama", "http://localhost:11434", None)


@pytest.mark.parametrize(
    ("providers", "says"),
    [
        ({"anthropic": {"base_url": "http://x"}}, "ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY"),
        ({"Gate Way": {"base_url": "http://x"}}, "use lower-case letters"),
        ({"gateway": {"api_key": "k"}}, "provider 'gateway' needs a base_url"),
        ({"gateway": {"base_url": "llm.example.com"}}, "must start with http:// or https://"),
        ({"gateway": {"base_url": "http://x", "key": "k"}}, "Extra inputs are not permitted"),
    ],
)
def test_unusable_providers_are_refused_at_start_without_showing_keys(
    monkeypatch: pytest.MonkeyPatch, providers: object, says: str
) -> None:
    monkeypatch.setenv("ROLECALL_PROVIDERS", json.dumps({**providers, "x": {"api_key": "s3"}}))  # type: ignore[dict-item]
    with pytest.raises(SettingsError) as refused:
        get_settings(_env_file=None)
    assert any(says in line for line in refused.value.lines), refused.value.lines
    assert "s3" not in str(refused.value)


def test_providers_that_are_not_json_are_refused_with_an_example(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ROLECALL_PROVIDERS", "ollama=http://x")
    with pytest.raises(SettingsError) as refused:
        get_settings(_env_file=None)
    assert refused.value.lines == [
        'ROLECALL_PROVIDERS: not valid JSON; write it like {"ollama": {"base_url": '
        '"http://127.0.0.1:11434"}}'
    ]
