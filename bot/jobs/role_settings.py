"""What a role runs with in one repository: its model and its limits.

Precedence, highest first: the repository's `.github/rolecall.yml` (`roles.<name>`),
the role file itself (`model:`, `maxTurns:`, `thinking:`), then Rolecall's settings. A model that
cannot be used stops the job with a message naming the file and the key to change,
because the person reading the tracking comment is the one who can fix it.
"""

from __future__ import annotations

from agents.model_ref import DEFAULT_ALIASES, INHERIT, ModelError, ModelRef, resolve_model
from agents.roles.loader import BUILTIN_SOURCE, Role
from agents.run import Limits
from bot.jobs.context import JobStopped
from bot.providers import provider_names
from bot.settings import Settings
from handlers.config import CONFIG_PATH, RepoConfig


def model_for(role: Role, config: RepoConfig | None, settings: Settings) -> ModelRef:
    """The provider and model id `role` runs on, or `JobStopped` saying what to write."""
    override = config.role_settings(role.name).model if config else None
    spec = override or role.model
    aliases = config.models if config else {}
    providers = provider_names(settings)
    try:
        ref = resolve_model(spec, default=settings.model, aliases=aliases, providers=providers)
    except ModelError as exc:
        raise JobStopped(_unusable(role, override, spec, str(exc), aliases, providers)) from None
    if spec is not None and _foreign(spec, aliases):
        reason = f"`{spec}` is not a Claude model, and Anthropic serves only Claude models"
        raise JobStopped(_unusable(role, override, spec, reason, aliases, providers))
    return ref


def limits_for(role: Role, config: RepoConfig | None, settings: Settings) -> Limits:
    """Turns, minutes and dollars for one run of `role`."""
    own = config.role_settings(role.name) if config else None
    turns = (own.max_turns if own else None) or role.max_turns or settings.max_turns
    minutes = (own.max_minutes if own else None) or settings.max_minutes
    dollars = (own.max_cost_usd if own else None) or settings.max_cost_usd
    thinking = (own.thinking if own else None) or role.thinking
    return Limits(
        max_turns=turns,
        max_seconds=minutes * 60,
        max_cost_usd=dollars,
        context_window=settings.context_window,
        thinking_budget=thinking,
        max_total_tokens=settings.max_total_tokens,
    )


def _foreign(spec: str, aliases: dict[str, str]) -> bool:
    """A bare name that is no alias and no Claude id (a Copilot pick like `GPT-4.1`)."""
    name = spec.strip().lower()
    known = {*DEFAULT_ALIASES, *(alias.lower() for alias in aliases), INHERIT}
    return "," not in name and name not in known and not name.startswith("claude")


def _unusable(
    role: Role,
    override: str | None,
    spec: str | None,
    reason: str,
    aliases: dict[str, str],
    providers: list[str],
) -> str:
    if override:
        where = f"`roles.{role.name}.model` in `{CONFIG_PATH}`"
    elif spec is None or spec.strip().lower() == INHERIT or role.source == BUILTIN_SOURCE:
        where = "ROLECALL_MODEL, which the role inherits,"
    else:
        where = f"`model:` in `{role.source}`"
    names = sorted({*DEFAULT_ALIASES, *aliases})
    return (
        f"The role `{role.name}` cannot run: {where} says `{spec or 'inherit'}`, and "
        f"{reason}.\n\nWrite instead an alias ({', '.join(f'`{n}`' for n in names)}), "
        "`inherit`, a Claude model id such as `claude-sonnet-5-5`, or `provider,model` "
        f"with a provider this Rolecall knows ({', '.join(f'`{p}`' for p in providers)}), "
        "e.g. `ollama,qwen2.5-coder:7b`. Providers are added by Rolecall's operator in "
        "ROLECALL_PROVIDERS."
    )
