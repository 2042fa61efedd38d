"""`.github/rolecall.yml` against what exists: the repository's roles, Rolecall's models.

A parsed file can still name a role the repository does not have (a typo, a deleted
role file) or a model provider Rolecall cannot use; these checks need the role files
and the settings, which the worker has, so they run after `parse_config`.
"""

from __future__ import annotations

from collections.abc import Collection

from agents.model_ref import ModelError, resolve_model
from agents.roles.loader import slugify
from handlers.config import ConfigProblem, RepoConfig


def check_roles(config: RepoConfig, role_names: Collection[str]) -> list[ConfigProblem]:
    """References to roles the repository does not have (typos, deleted role files)."""
    known = {slugify(name) for name in role_names}
    available = ", ".join(f"`{name}`" for name in sorted(role_names))

    def missing(role: str, *path: str) -> ConfigProblem | None:
        if slugify(role) in known:
            return None
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
