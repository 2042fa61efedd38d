"""What every sandbox backend promises: the `Sandbox` protocol and what a command did.

The toolbox and the worker depend on this, not on a backend: `agents.sandbox.bubblewrap`
is the real one, `agents.sandbox.runner.UnsandboxedRunner` the explicit unsafe "none".
Failures of a command (non-zero exit, timeout, runaway output) are data in the
`CommandResult`, never exceptions; `SandboxError` is only for a sandbox that cannot be
set up at all, which is an operator's problem, not the model's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from agents.sandbox.user import SandboxUser


class SandboxError(Exception):
    """The sandbox cannot run commands at all (missing tool, refused configuration)."""


@dataclass(frozen=True)
class CommandResult:
    """What one command did.

    `exit_code` follows the shell convention: 128+N when killed by signal N (so a
    timeout is usually 137). `output` is stdout and stderr merged, capped head+tail.
    """

    exit_code: int
    output: str
    timed_out: bool
    truncated: bool
    # The command grew the worktree past `ResourceLimits.worktree_growth_*` and was stopped.
    over_quota: bool = False


class Sandbox(Protocol):
    """Runs shell commands for the agent, confined to a worktree."""

    # Whom commands run as (the file tools give what they create to the same user).
    run_as: SandboxUser | None

    def run(self, command: str, *, timeout: float) -> CommandResult: ...

    def kill_all(self) -> None: ...
