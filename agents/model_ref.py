"""Which model a role runs on, by name: aliases, providers and `provider,model` specs.

Pure names, no client: `resolve_model` turns what people write in role files and
`ROLECALL_MODEL` (an alias like `sonnet`, a full id, `inherit`, `ollama,qwen2.5-coder:7b`)
into a `ModelRef`. Kept apart from `agents.model`, which builds the SDK client, so that
everything that only names models (the CLI, role checks, routing) starts without
importing the SDK.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from agents.model_names import api_spelling, is_api_id, read_model_name, without_picker_note

DEFAULT_ALIASES: Mapping[str, str] = {
    "sonnet": "claude-sonnet-5-5",
    "opus": "claude-opus-5-5",
    "haiku": "claude-haiku-5-5",
}
INHERIT = "inherit"


class ModelError(Exception):
    """A model name or provider Rolecall cannot use; the message says what to change."""


@dataclass(frozen=True)
class Provider:
    """A server speaking the Anthropic Messages API.

    `base_url=None` leaves the SDK's default (ANTHROPIC_BASE_URL, else
    api.anthropic.com); `api_key=None` leaves the SDK's own lookup (ANTHROPIC_API_KEY)
    for the `anthropic` provider only.
    """

    name: str
    base_url: str | None = None
    api_key: str | None = None


@dataclass(frozen=True)
class ModelRef:
    """A resolved model: which provider serves it, and its id there."""

    provider: str
    id: str

    def __str__(self) -> str:
        return self.id if self.provider == "anthropic" else f"{self.provider},{self.id}"


KNOWN_PROVIDERS: Mapping[str, Provider] = {
    "anthropic": Provider("anthropic"),
    # Ollama serves the Anthropic Messages API at /v1/messages.
    "ollama": Provider("ollama", base_url="http://localhost:11434"),
}


def get_provider(name: str, *, base_url: str | None = None, api_key: str | None = None) -> Provider:
    """A known provider, with the caller's URL and key (from settings) laid over its defaults."""
    known = KNOWN_PROVIDERS.get(name.strip().lower())
    if known is None:
        raise ModelError(
            f"unknown model provider {name!r}: use one of {', '.join(sorted(KNOWN_PROVIDERS))} "
            "(write `provider,model`, e.g. `ollama,qwen2.5-coder:7b`)"
        )
    return Provider(
        name=known.name,
        base_url=base_url if base_url is not None else known.base_url,
        api_key=api_key if api_key is not None else known.api_key,
    )


def resolve_model(
    spec: str | None,
    *,
    default: str,
    aliases: Mapping[str, str],
    providers: Collection[str] = tuple(KNOWN_PROVIDERS),
) -> ModelRef:
    """Turn a role's `model:` (or None) into a provider and a model id.

    `None` and `inherit` mean the default (itself resolved the same way); `sonnet`,
    `opus` and `haiku` are aliases that `aliases` may override or extend; `provider,id`
    picks another provider; a Claude name as Copilot writes it ("Claude Sonnet 4.6")
    is the id Rolecall's model table has for it; another vendor's model ("GPT-4.1") is
    refused with whose it is; anything else is a full Anthropic model id. `providers` are
    the provider names this deployment can reach (settings may add to the known ones).
    """
    table = {**DEFAULT_ALIASES, **{k.lower(): v for k, v in aliases.items()}}
    text = "" if spec is None else spec.strip()
    if spec is not None and not text:
        raise ModelError("the model name is empty: write an alias, a model id, or `inherit`")
    if spec is not None and "," not in text and text.lower() not in table:
        text = _servable_name(text)
    if spec is None or text.lower() == INHERIT:
        text = default.strip()
        if not text or text.lower() == INHERIT:
            raise ModelError("the default model (ROLECALL_MODEL) must name a model, not inherit")
    names = frozenset(name.strip().lower() for name in providers)
    return _parse(text, table, names, depth=0)


def _servable_name(text: str) -> str:
    """A bare name someone wrote, as an id Anthropic serves; ModelError when it is not one.

    A bare id Rolecall does not know (`claude-sonnet-9`, `my-finetune`) is left to
    Anthropic to accept or refuse: it may be newer than the model table. A name spelled
    as a picker shows it (capitals, spaces) is never an Anthropic id.
    """
    name = read_model_name(text)
    if name.spec is not None:
        return name.spec
    if name.closest is not None:
        raise ModelError(
            f"`{text}` is not a Claude model Rolecall knows (its model table has no such "
            f"model); the closest it knows is `{name.closest}`"
        )
    if name.vendor is not None:
        raise ModelError(
            f"`{text}` is not a Claude model but {name.vendor}'s; Anthropic serves only Claude "
            f"models, so it needs a provider that serves {name.vendor}'s models (write "
            f"`<provider>,{api_spelling(text)}` with a provider named in ROLECALL_PROVIDERS)"
        )
    if not is_api_id(without_picker_note(text)):  # a picker name, such as "Raptor mini"
        raise ModelError(
            f"`{text}` is not a Claude model; Anthropic serves only Claude models, so it needs "
            f"a provider that serves it (write `<provider>,{api_spelling(text)}` with a "
            "provider named in ROLECALL_PROVIDERS)"
        )
    return text


def _parse(
    text: str, aliases: Mapping[str, str], providers: frozenset[str], *, depth: int
) -> ModelRef:
    if depth > 4:
        raise ModelError(f"model alias {text!r} refers to itself")
    provider, comma, model_id = text.partition(",")
    if not comma:
        provider, model_id = "anthropic", text
    provider = provider.strip().lower()
    model_id = model_id.strip()
    if provider not in providers:
        raise ModelError(
            f"unknown model provider {provider!r}: use one of {', '.join(sorted(providers))} "
            "(write `provider,model`, e.g. `ollama,qwen2.5-coder:7b`)"
        )
    if not model_id:
        raise ModelError(f"{text!r} names a provider but no model: write `{provider},<model>`")
    if provider == "anthropic":
        target = aliases.get(model_id.lower())
        if target is not None and target.strip().lower() != model_id.lower():
            return _parse(target.strip(), aliases, providers, depth=depth + 1)
    return ModelRef(provider=provider, id=model_id)
