"""`.github/rolecall.yml`: what a repository can tell Rolecall, and how a problem is told.

The file is read from the default branch only (a pull request cannot change the rules
it is judged by). It maps slash commands and labels to roles, names the role
`/implement` runs, sets per-role limits and model overrides, grants roles protected
paths (`may_change`), defines model aliases, says whether pull requests open as drafts
and whether Rolecall's pushes may start CI at once (`ci.run_on_push`). Everything is
optional; an empty or missing file means the defaults.

This module is the schema and the problem report; reading the text is
handlers.config_parsing, checking it against the repository's roles and Rolecall's
providers is handlers.config_checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from agents.roles.fields import MAX_THINKING_BUDGET, MIN_THINKING_BUDGET
from agents.roles.loader import slugify

CONFIG_PATH = ".github/rolecall.yml"
LABEL_PREFIX = "rolecall:"
DEFAULT_ROLE = "implementer"


class _Strict(BaseModel):
    """Unknown keys are errors: a typo (`lables:`) must not be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleSettings(_Strict):
    """Per-role settings; each one left out keeps the role file's or Rolecall's default."""

    model: str | None = None
    max_turns: int | None = Field(default=None, ge=1, le=1000)
    max_minutes: float | None = Field(default=None, gt=0, le=24 * 60)
    max_cost_usd: Decimal | None = Field(default=None, gt=0, le=1000)
    # Extended thinking's budget in tokens, as a role file's `thinking:` (agents.roles).
    thinking: int | None = Field(default=None, ge=MIN_THINKING_BUDGET, le=MAX_THINKING_BUDGET)
    # Protected paths (handlers.protected_paths) this role may change: root-anchored globs
    # such as ".github/actions/**". Workflows can never be granted.
    may_change: tuple[str, ...] = ()


class PullRequestSettings(_Strict):
    """Kept so `draft: true` may be written; `false` is refused (handlers.config_parsing)."""

    draft: bool = True


class CiSettings(_Strict):
    """Whether Rolecall's pushes start CI at once.

    By default every commit Rolecall pushes carries `[skip ci]`, and CI runs when someone
    with write access comments `/ci` (bot.jobs.ci_gate): the agent's code (a Makefile, a test,
    a `conftest.py`) would otherwise run in CI with the repository's secrets unreviewed.
    `run_on_push: true` drops the marker, for repositories whose CI holds no secrets.
    """

    run_on_push: bool = False


class RepoConfig(_Strict):
    """The whole file. Keys of `commands` are command names without the slash."""

    default_role: str = DEFAULT_ROLE
    commands: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    roles: dict[str, RoleSettings] = Field(default_factory=dict)
    models: dict[str, str] = Field(default_factory=dict)
    pull_requests: PullRequestSettings = Field(default_factory=PullRequestSettings)
    ci: CiSettings = Field(default_factory=CiSettings)
    # Comments by people without write access reach the model only when this is true,
    # and then marked as such (invariant 3; SECURITY.md).
    include_untrusted_comments: bool = False

    # Key path ("roles.backend.model") -> line, so later checks can point at the line.
    _lines: dict[str, int] = PrivateAttr(default_factory=dict)

    def line_of(self, *path: str) -> int | None:
        return self._lines.get(".".join(path))

    def role_settings(self, role: str) -> RoleSettings:
        """The settings for `role` (names compare as role lookups do, case-insensitively)."""
        wanted = slugify(role)
        found = next((s for name, s in self.roles.items() if slugify(name) == wanted), None)
        return found or RoleSettings()

    def role_for_label(self, label: str) -> str | None:
        """The role a label starts: mapped here, else `rolecall:<role>`; None for others."""
        wanted = label.strip().casefold()
        for name, role in self.labels.items():
            if name.strip().casefold() == wanted:
                return role
        if wanted.startswith(LABEL_PREFIX) and wanted[len(LABEL_PREFIX) :].strip():
            return label.strip()[len(LABEL_PREFIX) :].strip()
        return None

    def role_for_command(self, command: str) -> str | None:
        """The role a command maps to in `commands:`, if it is mapped."""
        return self.commands.get(command.lower())


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with the file: where (key path, line) and what to do about it."""

    key: str  # dotted key path, "" for the file as a whole
    message: str
    line: int | None = None

    def render(self) -> str:
        where = [f"line {self.line}"] if self.line else []
        if self.key:
            where.append(f"`{self.key}`")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class ConfigError(ValueError):
    """The file cannot be used; `problems` lists every reason, `raw` what could be read."""

    def __init__(self, problems: list[ConfigProblem], raw: Mapping[str, Any] | None = None):
        super().__init__("; ".join(p.render() for p in problems))
        self.problems = problems
        self.raw = raw


def render_problems(problems: Iterable[ConfigProblem], default_branch: str) -> str:
    """The comment that tells maintainers what is wrong with the file and where."""
    items = "\n".join(f"- {problem.render()}" for problem in problems)
    return (
        f"⚠️ **Rolecall cannot use `{CONFIG_PATH}`**, so it started nothing. Please fix "
        f"the file on the default branch (`{default_branch}`) and ask again:\n\n{items}\n\n"
        "Rolecall reads this file (and role files) from the default branch only; it does "
        "not fall back to its defaults while the file is wrong."
    )
