"""`.github/rolecall.yml` against what exists: the repository's roles, Rolecall's models.

A file can name a role the repository does not have (a typo, a deleted role file) or a
model provider Rolecall cannot use; these checks need the role files and the settings,
which the worker (and `rolecall roles check`) have. `review_config` runs them beside
the file's own checks, so a maintainer hears of every problem in one round, in line
order, rather than of the unknown roles only once the schema errors are fixed.
"""

from __future__ import annotations

from collections.abc import Collection

from agents.model_ref import ModelError, resolve_model
from agents.roles.loader import slugify
from handlers.config import ConfigProblem, RepoConfig
from handlers.config_parsing import ConfigReading, in_line_order, read_config


def review_config(
    text: str | None,
    role_names: Collection[str],
    *,
    default_model: str,
    providers: Collection[str],
    extra_problems: Collection[ConfigProblem] = (),
) -> ConfigReading:
    """Every problem with the file, in line order: its own (schema, names) and the roles
    and models it names that this repository or this Rolecall lacks.

    `extra_problems` are about the file as a whole (too large to read, a misspelt name)
    and come first. The roles and models are checked in what could be read around the
    file's own problems (`ConfigReading.readable`).
    """
    reading = read_config(text)
    found = [*extra_problems, *reading.problems]
    if reading.readable is not None:
        found += check_roles(reading.readable, role_names)
        found += check_models(reading.readable, default=default_model, providers=providers)
    return ConfigReading(reading.readable, in_line_order(found), reading.raw)


def check_roles(config: RepoConfig, role_names: Collection[str]) -> list[ConfigProblem]:
    """References to roles the repository does not have (typos, deleted role files)."""
    known = {slugify(name) for name in role_names}
    available = ", ".join(f"`{name}`" for name in sorted(role_names))

    def missing(role: str, *path: str) -> ConfigProblem | None:
        if slugify(role) in known:
            return None
        if not role.strip() and path[0] in ("commands", "labels"):
            return None  # `names no role`: the file's own check says so already
        return ConfigProblem(
            ".".join(path),
            f"no role named `{role}` in this repository; roles here: {available}",
            config.line_of(*path),
        )

    found = [missing(config.default_role, "default_role")]
    found += [missing(role, "commands", name) for name, role in config.commands.items()]
    found += [missing(role, "labels", name) for name, role in config.labels.items()]
    found += [missing(name, "roles", name) for name in config.roles]
    return [problem for problem in found if problem is not None]


def check_models(
    config: RepoConfig, *, default: str, providers: Collection[str]
) -> list[ConfigProblem]:
    """Model aliases and overrides that name a provider (or model) Rolecall cannot use."""
    found: list[ConfigProblem] = []
    targets: list[tuple[tuple[str, ...], str]] = [
        (("models", alias), spec) for alias, spec in config.models.items()
    ]
    targets += [(("roles", name, "model"), s.model) for name, s in config.roles.items() if s.model]
    for path, spec in targets:
        try:
            resolve_model(spec, default=default, aliases=config.models, providers=providers)
        except ModelError as exc:
            found.append(ConfigProblem(".".join(path), str(exc), config.line_of(*path)))
    return found
