"""One agent run: a role on a worktree, with a brief and limits, and nothing else to know.

This is the single entry the job worker uses. It builds the parts of a run in the order
their lifetimes need (the egress proxy, only for a role granted network; the bubblewrap
sandbox; the toolbox with exactly the tools the role may use; the model client; the
executor), runs the loop, and takes them down again, whatever happened. Callers see
the outcome (`AgentRun`) and one handle to stop it from another thread (`RoleRun.stop`,
which `/cancel` uses): the parts themselves stay inside `agents/`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agents.brief import system_prompt
from agents.executor import Executor, Limits, RunResult
from agents.model import ModelClient
from agents.model_clients import ModelClients
from agents.model_ref import ModelRef, Provider
from agents.progress import RunProgress
from agents.roles.loader import Role
from agents.sandbox.allowlist import network_refusal
from agents.sandbox.bubblewrap import Sandbox, make_sandbox
from agents.sandbox.interface import SandboxError
from agents.sandbox.limits import ResourceLimits
from agents.sandbox.netproxy import EgressProxy, egress_for
from agents.sandbox.user import SandboxUser
from agents.text.redact import Redactor
from agents.tools.offer import note_in_transcript, offer_tools
from agents.tools.toolbox import CommandRecord, Toolbox
from agents.tools.web_fetch import WebFetcher

# What callers of a run need to name: its limits, its result, the failure of its sandbox,
# the model API clients a process shares between runs.
__all__ = [
    "AgentRun",
    "Limits",
    "ModelClients",
    "RoleRun",
    "RunProgress",
    "RunResult",
    "RunSpec",
    "SandboxError",
    "SandboxPolicy",
]


@dataclass(frozen=True)
class SandboxPolicy:
    """How commands are confined: the operator's settings, the same for every run."""

    kind: Literal["bwrap", "none"]
    allow_unsafe: bool
    run_as: SandboxUser | None
    limits: ResourceLimits
    command_timeout: float
    # Hosts reachable through the egress proxy, and the roles granted it (else no network).
    network_allowlist: str = ""
    network_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs: who runs, where, on what model, told what, within what."""

    role: Role
    repo_full_name: str
    worktree: Path
    mirror: Path
    brief: str
    model: ModelRef
    provider: Provider
    limits: Limits
    transcript: Path
    redact: Redactor
    sandbox: SandboxPolicy
    # Told how the run goes (agents.progress): after each model response, before each
    # tool call and before each wait for the model API. Must be quick; errors are logged.
    on_progress: Callable[[RunProgress], None] | None = None
    # The process's shared SDK clients (agents.model_clients); without them the run
    # builds a client of its own and closes it at the end.
    clients: ModelClients | None = None


@dataclass(frozen=True)
class AgentRun:
    """How a run ended (`result`) and every command the agent ran, for the report."""

    result: RunResult
    commands: tuple[CommandRecord, ...]


class RoleRun:
    """Runs one `RunSpec` once; `stop()` from any thread ends it and kills its commands."""

    def __init__(self, spec: RunSpec) -> None:
        self.spec = spec
        self._cancel = threading.Event()
        self._sandbox: Sandbox | None = None

    def stop(self) -> None:
        self._cancel.set()
        if self._sandbox is not None:
            self._sandbox.kill_all()

    def run(self) -> AgentRun:
        spec, policy = self.spec, self.spec.sandbox
        # No network, unless the role is granted the allow-list proxy (netproxy).
        egress = egress_for(policy.network_allowlist, policy.network_roles, spec.role.name)
        try:
            self._sandbox = self._make_sandbox(egress)
            if self._cancel.is_set():  # stopped while the sandbox was being made
                self._sandbox.kill_all()
            # Exactly the role's tools this run can have: WebFetch only with the proxy.
            offline = (
                None
                if egress is not None
                else network_refusal(policy.network_allowlist, policy.network_roles, spec.role.name)
                or "this run has no egress proxy"
            )
            offer = offer_tools(spec.role.tools, no_network=offline)
            tools = list(offer.tools)
            toolbox = Toolbox(
                spec.worktree,
                self._sandbox,
                tools,
                command_timeout=policy.command_timeout,
                web_fetch=WebFetcher.for_egress(egress) if egress is not None else None,
            )
            spec.transcript.parent.mkdir(parents=True, exist_ok=True)
            note_in_transcript(spec.transcript, spec.redact, offer, spec.role.warnings)
            shared = spec.clients
            client = (
                ModelClient(shared.client_for(spec.provider))
                if shared is not None
                else ModelClient.for_provider(spec.provider)
            )
            try:
                if egress is not None:
                    egress.start()
                executor = Executor(
                    client,
                    spec.model,
                    toolbox,
                    spec.limits,
                    spec.transcript,
                    redact=spec.redact,
                    cancel=self._cancel,
                    progress=spec.on_progress,
                )
                system = system_prompt(spec.role.instructions, spec.repo_full_name, tools)
                result = executor.run(system, spec.brief)
            finally:
                if shared is None:
                    client.close()
        finally:
            if egress is not None:
                egress.stop()
        return AgentRun(result, tuple(toolbox.commands))

    def _make_sandbox(self, egress: EgressProxy | None) -> Sandbox:
        spec, policy = self.spec, self.spec.sandbox
        return make_sandbox(
            policy.kind,
            spec.worktree,
            allow_unsafe=policy.allow_unsafe,
            mirror=spec.mirror,
            egress_dir=egress.directory if egress is not None else None,
            run_as=policy.run_as,
            limits=policy.limits,
        )
