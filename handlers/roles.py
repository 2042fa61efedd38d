"""Which role a command or label runs in one repository: decided before anything is posted.

Handlers turn every `/name` and every label into a job without knowing the repository
(see handlers.triggers). The worker reads the default branch's roles and
`.github/rolecall.yml` into a `RepoSetup`, and `resolve` answers from it: run this
role, skip quietly (people write `/cc` and `/shrug`; labels like `bug` are not ours),
or refuse with one comment that says what to fix. Everything here is pure, so every
routing rule is a table test.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from agents.roles.loader import Role, RoleSet, builtin_roles, discover_roles, slugify
from handlers.command_names import BUILTIN_COMMANDS, IMPLEMENT
from handlers.config import (
    CONFIG_PATH,
    LABEL_PREFIX,
    ConfigProblem,
    RepoConfig,
    render_problems,
)
from handlers.config_checks import review_config
from handlers.config_parsing import raw_mentions
from handlers.decisions import StartJob


@dataclass(frozen=True)
class RepoSetup:
    """What the default branch says: its roles and its config, or what is wrong with it."""

    default_branch: str
    roles: RoleSet
    config: RepoConfig | None
    problems: tuple[ConfigProblem, ...] = ()
    # The broken file as far as YAML could read it, so its own commands are recognised.
    raw: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def usable_config(self) -> RepoConfig:
        """The config, when there are no problems (callers check `problems` first)."""
        if self.config is None or self.problems:
            raise ValueError(f"{CONFIG_PATH} has problems; check RepoSetup.problems first")
        return self.config


def build_setup(
    default_branch: str,
    config_text: str | None,
    role_files: Mapping[str, str],
    *,
    default_model: str,
    providers: Collection[str],
    extra_problems: Collection[ConfigProblem] = (),
) -> RepoSetup:
    """Parse the config and the role files, and check the config against the roles:
    every problem at once, in line order (handlers.config_checks.review_config)."""
    roles = discover_roles(role_files)
    review = review_config(
        config_text,
        roles.names(),
        default_model=default_model,
        providers=providers,
        extra_problems=extra_problems,
    )
    return RepoSetup(default_branch, roles, review.config, review.problems, review.raw)


@dataclass(frozen=True)
class RunRole:
    """Run this role."""

    role: Role


@dataclass(frozen=True)
class Skip:
    """Not for Rolecall (or nothing to do): end without a word; `reason` goes to the ledger."""

    reason: str


@dataclass(frozen=True)
class Refuse:
    """Addressed to Rolecall but impossible: post `message` as one comment, start nothing."""

    message: str


Route: TypeAlias = RunRole | Skip | Refuse


def resolve(decision: StartJob, setup: RepoSetup) -> Route:
    """The route for a role job (`/implement`, `/<name>`, or a label) in this repository."""
    trigger = describe_trigger(decision)
    if setup.problems:
        if not _addressed_to_rolecall(decision, setup):
            return Skip(f"{trigger} names nothing of Rolecall's here (and {CONFIG_PATH} is broken)")
        return Refuse(render_problems(setup.problems, setup.default_branch))
    name = _wanted_role(decision, setup.usable_config)
    role = setup.roles.get(name) if name else None
    if role is None:
        if decision.trigger == "label" and name:  # `rolecall:<name>` with no such role
            return Refuse(_no_such_role(trigger, name, setup.roles))
        return Skip(f"{trigger} names no command or role in this repository")
    if decision.is_pull_request:
        return Refuse(_roles_run_on_issues(decision, trigger))
    return RunRole(role)


def describe_trigger(decision: StartJob) -> str:
    """How people would name what they did: `/backend`, or label `backend`."""
    if decision.trigger == "label":
        return f"label `{decision.label}`"
    return f"`/{decision.command or decision.kind}`"


def _wanted_role(decision: StartJob, config: RepoConfig) -> str | None:
    if decision.trigger == "label":
        return config.role_for_label(decision.label or "")
    command = decision.command or decision.kind  # decisions stored before commands existed
    if command == IMPLEMENT:
        return config.default_role
    return config.role_for_command(command) or command


def _addressed_to_rolecall(decision: StartJob, setup: RepoSetup) -> bool:
    """Whether the trigger was surely meant for Rolecall, config or no config."""
    if decision.trigger == "label":
        label = decision.label or ""
        return (
            label.casefold().startswith(LABEL_PREFIX)
            or setup.roles.get(label) is not None
            or raw_mentions(setup.raw, label=label)
        )
    command = decision.command or decision.kind
    return (
        command in BUILTIN_COMMANDS
        or setup.roles.get(command) is not None
        or raw_mentions(setup.raw, command=command)
    )


def _no_such_role(trigger: str, name: str, roles: RoleSet) -> str:
    return (
        f"{trigger} asks for the role `{name}`, but this repository has no role of that name. "
        f"Roles here: {', '.join(f'`{n}`' for n in roles.names())}. Role files live in "
        "`.claude/agents/` or `.github/agents/` on the default branch."
    )


def _roles_run_on_issues(decision: StartJob, trigger: str) -> str:
    return (
        f"@{decision.sender_login} {trigger} runs a role on an issue: comment it on the issue "
        "you want worked on. On a pull request, `/fix` addresses review feedback and "
        "`/review` reviews it."
    )


def plausibly_ours(decision: StartJob) -> bool:
    """Whether a trigger looks meant for Rolecall without reading the repository.

    Used when the roles cannot be read at all: an error is worth a comment only for a
    built-in command, a `rolecall:` label, or a built-in role's name.
    """
    if decision.trigger == "label":
        return (decision.label or "").casefold().startswith(LABEL_PREFIX)
    command = decision.command or decision.kind
    return command in BUILTIN_COMMANDS or slugify(command) in {r.name for r in builtin_roles()}
