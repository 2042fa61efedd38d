"""How model names in role files and ROLECALL_MODEL resolve to a provider and an id."""

from __future__ import annotations

import pytest

from agents.model import (
    KNOWN_PROVIDERS,
    ModelError,
    ModelRef,
    Provider,
    get_provider,
    resolve_model,
)

DEFAULT = "claude-sonnet-5-5"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, ModelRef("anthropic", "claude-sonnet-5-5")),
        ("inherit", ModelRef("anthropic", "claude-sonnet-5-5")),
        ("  Inherit ", ModelRef("anthropic", "claude-sonnet-5-5")),
        ("sonnet", ModelRef("anthropic", "claude-sonnet-5-5")),
        ("opus", ModelRef("anthropic", "claude-opus-5-5")),
        ("HAIKU", ModelRef("anthropic", "claude-haiku-5-5")),
        ("claude-opus-4-8", ModelRef("anthropic", "claude-opus-4-8")),
        ("claude-haiku-4-5-20251001", ModelRef("anthropic", "claude-haiku-4-5-20251001")),
        ("ollama,qwen2.5-coder:7b", ModelRef("ollama", "qwen2.5-coder:7b")),
        (" Ollama , llama3.3 ", ModelRef("ollama", "llama3.3")),
        ("anthropic,opus", ModelRef("anthropic", "claude-opus-5-5")),
        ("anthropic,claude-opus-4-7", ModelRef("anthropic", "claude-opus-4-7")),
    ],
)
def test_resolves(spec: str | None, expected: ModelRef) -> None:
    assert resolve_model(spec, default=DEFAULT, aliases={}) == expected


def test_default_may_itself_be_an_alias_or_another_provider() -> None:
    assert resolve_model(None, default="haiku", aliases={}) == ModelRef(
        "anthropic", "claude-haiku-5-5"
    )
    assert resolve_model("inherit", default="ollama,qwen3", aliases={}) == ModelRef(
        "ollama", "qwen3"
    )


def test_aliases_can_be_overridden_and_extended() -> None:
    aliases = {"sonnet": "claude-sonnet-4-6", "local": "ollama,qwen2.5-coder:7b"}
    assert resolve_model("sonnet", default=DEFAULT, aliases=aliases) == ModelRef(
        "anthropic", "claude-sonnet-4-6"
    )
    assert resolve_model("local", default=DEFAULT, aliases=aliases) == ModelRef(
        "ollama", "qwen2.5-coder:7b"
    )
    # Untouched aliases keep their defaults.
    assert resolve_model("opus", default=DEFAULT, aliases=aliases).id == "claude-opus-5-5"


def test_aliases_do_not_apply_to_other_providers() -> None:
    assert resolve_model("ollama,sonnet", default=DEFAULT, aliases={}) == ModelRef(
        "ollama", "sonnet"
    )


@pytest.mark.parametrize(
    ("spec", "default", "message"),
    [
        ("openrouter,gpt-9", DEFAULT, "unknown model provider 'openrouter'"),
        ("ollama,", DEFAULT, "names a provider but no model"),
        ("", DEFAULT, "empty"),
        (None, "inherit", "must name a model"),
        ("loop", DEFAULT, "refers to itself"),
    ],
)
def test_bad_names_raise_an_actionable_model_error(
    spec: str | None, default: str, message: str
) -> None:
    aliases = {"loop": "anthropic,loop2", "loop2": "loop"}
    with pytest.raises(ModelError, match=message):
        resolve_model(spec, default=default, aliases=aliases)


def test_unknown_provider_error_lists_the_known_ones() -> None:
    with pytest.raises(ModelError) as raised:
        get_provider("bedrock")
    for name in KNOWN_PROVIDERS:
        assert name in str(raised.value)


def test_known_providers_and_settings_overrides() -> None:
    assert get_provider("ollama") == Provider("ollama", "http://localhost:11434", None)
    assert get_provider("anthropic") == Provider("anthropic", None, None)
    assert get_provider("anthropic", base_url="http://127.0.0.1:9", api_key="k") == Provider(
        "anthropic", "http://127.0.0.1:9", "k"
    )


def test_model_ref_prints_the_way_it_is_written() -> None:
    assert str(ModelRef("anthropic", "claude-opus-5-5")) == "claude-opus-5-5"
    assert str(ModelRef("ollama", "qwen3")) == "ollama,qwen3"


# ---- Names as Copilot writes them ----------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("Claude Sonnet 4.6 (copilot)", ModelRef("anthropic", "claude-sonnet-4-6")),
        ("Claude Sonnet 4", ModelRef("anthropic", "claude-sonnet-4-0")),
        ("Auto (copilot)", ModelRef("anthropic", "claude-sonnet-5-5")),
        # A bare id Rolecall does not know may be newer than its table: Anthropic decides.
        ("claude-sonnet-9-9", ModelRef("anthropic", "claude-sonnet-9-9")),
        ("my-finetune", ModelRef("anthropic", "my-finetune")),
        # Naming the provider is a choice, whatever the model is called.
        ("anthropic,GPT-4.1", ModelRef("anthropic", "GPT-4.1")),
    ],
)
def test_copilot_picker_names_resolve_through_the_model_table(
    spec: str, expected: ModelRef
) -> None:
    assert resolve_model(spec, default=DEFAULT, aliases={}) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "GPT-4.1",
            "`GPT-4.1` is not a Claude model but OpenAI's; Anthropic serves only Claude "
            "models, so it needs a provider that serves OpenAI's models (write "
            "`<provider>,gpt-4.1` with a provider named in ROLECALL_PROVIDERS)",
        ),
        (
            "Gemini 2.5 Pro (copilot)",
            "`Gemini 2.5 Pro (copilot)` is not a Claude model but Google's; Anthropic serves "
            "only Claude models, so it needs a provider that serves Google's models (write "
            "`<provider>,gemini-2.5-pro` with a provider named in ROLECALL_PROVIDERS)",
        ),
        (
            "Raptor mini (Preview)",
            "`Raptor mini (Preview)` is not a Claude model; Anthropic serves only Claude "
            "models, so it needs a provider that serves it (write `<provider>,raptor-mini` "
            "with a provider named in ROLECALL_PROVIDERS)",
        ),
        (
            "Claude Haiku 4.6",
            "`Claude Haiku 4.6` is not a Claude model Rolecall knows (its model table has no "
            "such model); the closest it knows is `claude-haiku-4-5`",
        ),
    ],
)
def test_a_model_rolecall_cannot_serve_says_whose_it_is(spec: str, message: str) -> None:
    with pytest.raises(ModelError) as raised:
        resolve_model(spec, default=DEFAULT, aliases={})
    assert str(raised.value) == message


def test_the_operators_default_is_taken_as_written() -> None:
    # ROLECALL_MODEL may name a model that ANTHROPIC_BASE_URL's gateway serves.
    assert resolve_model(None, default="gpt-4.1", aliases={}) == ModelRef("anthropic", "gpt-4.1")
    # And a repository's alias may point anywhere its author chose.
    aliases = {"GPT-4.1": "gateway,gpt-4.1"}
    got = resolve_model(
        "GPT-4.1", default=DEFAULT, aliases=aliases, providers=["anthropic", "gateway"]
    )
    assert got == ModelRef("gateway", "gpt-4.1")
