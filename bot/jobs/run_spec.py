"""What the worker asks of `agents.run`: the spec of one agent run for one job.

Everything an agent run needs comes from three places: the job's products (the
checkout, the role, the model and the brief), the repository's config (its limits for
the role) and the operator's settings (the provider's URL and key, the sandbox policy).
"""

from __future__ import annotations

from pathlib import Path

from agents.progress import ProgressCallback
from agents.run import RunSpec, SandboxPolicy
from bot.jobs.context import Briefing, Checkout, Given, Services
from bot.jobs.role_settings import limits_for
from bot.providers import provider_for
from bot.settings import Settings


def run_spec(
    svc: Services,
    given: Given,
    checkout: Checkout,
    briefing: Briefing,
    transcript: Path,
    on_progress: ProgressCallback | None = None,
) -> RunSpec:
    settings = svc.settings
    return RunSpec(
        role=briefing.role,
        repo_full_name=given.repo.full_name,
        worktree=checkout.worktree,
        mirror=checkout.mirror,
        brief=briefing.text,
        model=briefing.model,
        provider=provider_for(settings, briefing.model.provider),
        limits=limits_for(briefing.role, briefing.loaded.setup.config, settings),
        transcript=transcript,
        redact=given.redact,
        sandbox=sandbox_policy(settings),
        on_progress=on_progress,
        clients=svc.model_clients,
    )


def sandbox_policy(settings: Settings) -> SandboxPolicy:
    """How this deployment confines agent commands (the same for every run)."""
    return SandboxPolicy(
        kind=settings.sandbox,
        allow_unsafe=settings.allow_unsafe_sandbox,
        run_as=settings.sandbox_run_as(),
        limits=settings.sandbox_limits(),
        command_timeout=settings.command_timeout,
        network_allowlist=settings.network_allowlist,
        network_roles=settings.network_roles_set(),
    )
