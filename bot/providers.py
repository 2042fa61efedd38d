"""Model providers: `anthropic` and `ollama` out of the box, more named in ROLECALL_PROVIDERS.

A provider is a server that speaks the Anthropic Messages API: Anthropic itself, a
gateway in front of other vendors, or a local Ollama. Role files pick one with
`provider,model` (`ollama,qwen2.5-coder:7b`, `gateway,gpt-4.1`). The environment names
them, as JSON, so one variable holds every URL and key:

    ROLECALL_PROVIDERS='{"ollama": {"base_url": "http://127.0.0.1:11434"},
                         "gateway": {"base_url": "https://llm.example.com", "api_key": "…"}}'

`anthropic` keeps the SDK's own variables (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY), so
it cannot be redefined here; `ollama` may be (to move its URL). Keys are secrets: they
are redacted from everything Rolecall posts and never reach the agent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator

if TYPE_CHECKING:
    from agents.model_ref import Provider

BUILTIN_PROVIDERS = ("anthropic", "ollama")
OLLAMA_URL = "http://localhost:11434"
PROVIDERS_EXAMPLE = '{"ollama": {"base_url": "http://127.0.0.1:11434"}}'
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")


class ProviderSettings(BaseModel):
    """One entry of ROLECALL_PROVIDERS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str | None = None
    api_key: SecretStr | None = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")


def check_providers(providers: dict[str, ProviderSettings]) -> dict[str, ProviderSettings]:
    """Refuse names that cannot be written in a role file, and entries missing a URL."""
    for name, entry in providers.items():
        if not _NAME.fullmatch(name):
            raise ValueError(
                f"provider name {name!r}: use lower-case letters, digits, '-' and '_' "
                "(it is what role files write before the comma)"
            )
        if name == "anthropic":
            raise ValueError(
                "the anthropic provider is set with ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY"
            )
        if name != "ollama" and entry.base_url is None:
            raise ValueError(f"provider {name!r} needs a base_url")
    return providers


class ProviderSource(Protocol):
    """What the functions below read of the settings (`bot.settings.Settings` has it all).

    A protocol rather than `Settings` itself: the settings validate ROLECALL_PROVIDERS
    with this module, so this module cannot import them back.
    """

    @property
    def providers(self) -> Mapping[str, ProviderSettings]: ...

    @property
    def anthropic_base_url(self) -> str | None: ...

    @property
    def anthropic_api_key(self) -> SecretStr | None: ...


def provider_names(settings: ProviderSource) -> list[str]:
    """Every provider a role may name on this deployment."""
    return sorted({*BUILTIN_PROVIDERS, *settings.providers})


def provider_for(settings: ProviderSource, name: str) -> Provider:
    """The URL and key to reach provider `name` (which `resolve_model` has checked)."""
    from agents.model_ref import ModelError, Provider

    if name == "anthropic":
        key = settings.anthropic_api_key
        return Provider(
            "anthropic",
            base_url=settings.anthropic_base_url,
            api_key=key.get_secret_value() if key else None,
        )
    entry = settings.providers.get(name)
    if entry is None and name != "ollama":
        raise ModelError(
            f"unknown model provider {name!r}: add it to ROLECALL_PROVIDERS or use one of "
            f"{', '.join(provider_names(settings))}"
        )
    base_url = entry.base_url if entry and entry.base_url else OLLAMA_URL
    api_key = entry.api_key.get_secret_value() if entry and entry.api_key else None
    return Provider(name, base_url=base_url, api_key=api_key)


def provider_keys(settings: ProviderSource) -> list[str]:
    """The API keys of the named providers, for the redactor."""
    return [
        entry.api_key.get_secret_value()
        for entry in settings.providers.values()
        if entry.api_key is not None and entry.api_key.get_secret_value()
    ]
