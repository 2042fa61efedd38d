"""What a role gets when it runs on this deployment: the warnings `rolecall roles` adds.

A role file can be perfectly valid and still not run as its author expects here: it
asks for WebFetch while this deployment grants it no network, for a tool Rolecall does
not have (`Changes`), or for a model Rolecall cannot price, so no cost limit can stop
it. `roles show` and `roles check` say so as warnings, with what to change, using the
same decisions as the run itself (`agents.tools.offer`, `agents.sandbox.allowlist`,
`agents.pricing`). Settings are read as the worker reads them, falling back to the
environment when other settings are incomplete, and a model is resolved as the worker
resolves it.
"""

from __future__ import annotations

import os

from agents.model_ref import ModelError, ModelRef, resolve_model
from agents.pricing import has_price
from agents.roles.loader import Role
from agents.sandbox.allowlist import network_refusal
from agents.tools.offer import ToolOffer, offer_tools
from bot.settings import DEFAULT_MODEL, SettingsError, get_settings


def resolve_role_model(spec: str | None, default: str) -> ModelRef:
    """A role's model spec as the worker will resolve it; ValueError when it cannot be used.

    Repository-level aliases (`.github/rolecall.yml`) are not applied: these commands
    look at role files alone, so only the built-in aliases count here.
    """
    try:
        return resolve_model(spec, default=default, aliases={})
    except ModelError as exc:
        raise ValueError(str(exc)) from None


def worker_default_model() -> str:
    """ROLECALL_MODEL as the worker would read it, even when other settings are incomplete."""
    try:
        return get_settings().model
    except SettingsError:
        return os.environ.get("ROLECALL_MODEL") or DEFAULT_MODEL


def network_settings() -> tuple[str, frozenset[str]]:
    """ROLECALL_NETWORK_ALLOWLIST and ROLECALL_NETWORK_ROLES as the worker would read them."""
    try:
        settings = get_settings()
    except SettingsError:
        roles = os.environ.get("ROLECALL_NETWORK_ROLES", "").replace(",", " ").split()
        return os.environ.get("ROLECALL_NETWORK_ALLOWLIST", ""), frozenset(roles)
    return settings.network_allowlist, settings.network_roles_set()


def runtime_offer(role: Role) -> ToolOffer:
    """The tools `role` is offered when it runs here, and the ones dropped, with why."""
    allowlist, granted = network_settings()
    return offer_tools(role.tools, no_network=network_refusal(allowlist, granted, role.name))


def price_warning(model: ModelRef) -> str | None:
    """Why a run on `model` has no cost limit, or None when Rolecall can price it."""
    if has_price(model.provider, model.id):
        return None
    return (
        f"cost cannot be computed for model {model} (Rolecall has no price for it), so "
        "the cost limit does not apply; the token limit (ROLECALL_MAX_TOKENS) does instead"
    )
