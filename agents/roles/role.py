"""A role as Rolecall runs it, and the set of roles a repository gets.

`agents.roles.loader` makes these from role files; everything after that (routing,
settings, the worker) reads only these types.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.roles.tools import DEFAULT_TOOLS, WRITING_TOOLS, RoleFormat
from agents.text.redact import REDACTED

_NAME_LIMIT = 64


class RoleError(ValueError):
    """A role file that cannot be read at all; `reason` is one sentence for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Handoff:
    """A Copilot handoff (a button that switches agents): kept for display, never acted on."""

    agent: str
    label: str = ""
    prompt: str = ""
    send: bool = False


@dataclass(frozen=True)
class Role:
    """One runnable role: who it is, what it may do, and what we noticed reading it."""

    name: str
    description: str
    instructions: str
    format: RoleFormat
    source: str  # "builtin" or the repo-relative path it was read from
    tools: frozenset[str] = DEFAULT_TOOLS
    ignored_tools: tuple[str, ...] = ()
    model: str | None = None  # raw spec; agents.model resolves it
    max_turns: int | None = None
    thinking: int | None = None  # extended thinking's budget in tokens (`thinking: 8000`)
    permission_mode: str | None = None
    handoffs: tuple[Handoff, ...] = ()
    target: str | None = None
    warnings: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def can_write(self) -> bool:
        """Whether the role can change the worktree (and so may produce commits)."""
        return bool(self.tools & WRITING_TOOLS)

    def redact(self, text: str) -> str:
        """`text` with every credential found in this role's file replaced."""
        for secret in sorted(self.secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text


@dataclass(frozen=True)
class Shadowing:
    """Role `name` from `winner` hides the one of the same name from `loser`."""

    name: str
    winner: str
    loser: str


@dataclass(frozen=True)
class RoleFileError:
    """A role file that was skipped, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class RoleSet:
    """The roles a repository gets, highest precedence first, with what was hidden or broken."""

    roles: tuple[Role, ...]
    shadowed: tuple[Shadowing, ...] = ()
    errors: tuple[RoleFileError, ...] = ()

    def get(self, name: str) -> Role | None:
        """The role called `name` (case-insensitive; `Code Reviewer` finds `code-reviewer`)."""
        wanted = slugify(name)
        return next((role for role in self.roles if role.name == wanted), None)

    def names(self) -> list[str]:
        return [role.name for role in self.roles]


def slugify(name: str) -> str:
    """A role name as commands and lookups use it: lower-case letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return slug[:_NAME_LIMIT].rstrip("-")
