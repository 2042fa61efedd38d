"""Reading `.github/rolecall.yml`'s text into a `RepoConfig`, or saying what is wrong.

A file that is wrong is never half-used, and it is told in one round: `read_config`
finds every problem at once (duplicate keys, every key pydantic refuses, names that
cannot be typed or are taken), each with its key path and line, in line order. Reading
does not stop at the first wrong key: a key that is wrong is set aside and the rest is
read as if it were absent, so `handlers.config_checks` can still look for roles the file
names but the repository lacks. Silently falling back to defaults would run a role the
maintainers did not configure, so a file with any problem yields no config to use.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from handlers.command_names import IMPLEMENT, RESERVED_COMMANDS
from handlers.config import (
    CiSettings,
    ConfigError,
    ConfigProblem,
    PullRequestSettings,
    RepoConfig,
    RoleSettings,
)
from handlers.protected_paths import pattern_problem

_COMMAND_NAME = re.compile(r"[a-z][a-z0-9-]{0,63}")
# Setting a wrong key aside can in principle expose another; a few rounds always end it.
_VALIDATION_ROUNDS = 4


@dataclass(frozen=True)
class ConfigReading:
    """What a file says: every problem in line order, and what was read around them.

    `readable` is the settings with every wrong key set aside (None when the file is not
    YAML, or not a mapping): checks against the repository's roles look at it, so they
    can be told in the same round. Nothing may run with it; `config` is what may.
    """

    readable: RepoConfig | None
    problems: tuple[ConfigProblem, ...] = ()
    # The file as YAML read it, so a broken file's own commands and labels are recognised.
    raw: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def config(self) -> RepoConfig | None:
        """The settings to use, or None when the file has any problem."""
        return None if self.problems else self.readable


def in_line_order(problems: Iterable[ConfigProblem]) -> tuple[ConfigProblem, ...]:
    """Problems as a reader meets them: about the whole file first, then by line.

    The sort is stable, so problems on one line keep the order they were found in.
    """
    return tuple(sorted(problems, key=lambda problem: problem.line or 0))


def raw_mentions(
    raw: Mapping[str, Any] | None, *, command: str | None = None, label: str | None = None
) -> bool:
    """Whether a broken file's `commands:`/`labels:` (as far as YAML read them) name this.

    Lets a repository whose file is broken still hear about it when someone uses a
    command or label that file defines.
    """
    if raw is None:
        return False
    section, name = ("commands", command) if command else ("labels", label)
    entries = raw.get(section)
    if not isinstance(entries, Mapping) or not name:
        return False
    return name.casefold() in {str(key).casefold() for key in entries}


def parse_config(text: str | None) -> RepoConfig:
    """The repository's config from the file's text (None: no file), or `ConfigError`
    listing every problem in line order."""
    reading = read_config(text)
    if reading.config is None:
        raise ConfigError(list(reading.problems), reading.raw)
    return reading.config


def read_config(text: str | None) -> ConfigReading:
    """Everything wrong with the file's text, in line order, and what could be read."""
    if text is None or not text.strip():
        return ConfigReading(RepoConfig())
    try:
        lines, problems = _structure(text)
        data = yaml.safe_load(text)
    except _Unreadable as unreadable:
        return ConfigReading(None, (unreadable.problem,))
    except yaml.YAMLError as exc:
        return ConfigReading(None, (_yaml_problem(exc),))
    if data is None:
        return ConfigReading(RepoConfig(), in_line_order(problems))
    if not isinstance(data, dict):
        shape = ConfigProblem("", f"the file must be a mapping of settings, not {_shape(data)}", 1)
        return ConfigReading(None, (shape,))
    readable, refused = _validate(data, lines)
    problems += refused
    if readable is not None:
        readable._lines.update(lines)
        problems += _name_problems(readable)
    return ConfigReading(readable, in_line_order(problems), data)


def _validate(
    data: dict[str, Any], lines: Mapping[str, int]
) -> tuple[RepoConfig | None, list[ConfigProblem]]:
    """The settings with every key pydantic refuses set aside, and a problem for each."""
    problems: list[ConfigProblem] = []
    remaining = copy.deepcopy(data)
    for _ in range(_VALIDATION_ROUNDS):
        try:
            return RepoConfig.model_validate(remaining), problems
        except ValidationError as exc:
            errors = exc.errors()
        for error in errors:
            problem = _pydantic_problem(error, lines)
            if problem not in problems:
                problems.append(problem)
            _set_aside(remaining, tuple(error["loc"]))
    return None, problems


def _set_aside(data: MutableMapping[Any, Any], loc: tuple[Any, ...]) -> None:
    """Remove the value at pydantic's `loc` from `data`, so the rest can be read.

    A role whose settings are wrong stays, with none (the role's name is still checked);
    an item of a list takes the whole list with it (indices would shift otherwise).
    """
    parts = [part for part in loc if part != "[key]"]
    if not parts:
        return
    parent = data
    for part in parts[:-1]:
        child = parent.get(part)
        if isinstance(child, list):
            parent.pop(part, None)
            return
        if not isinstance(child, MutableMapping):
            return
        parent = child
    last = parts[-1]
    a_roles_settings = len(parts) == 2 and parts[0] == "roles" and "[key]" not in loc
    if a_roles_settings and last in parent:
        parent[last] = {}
    else:
        parent.pop(last, None)


class _Unreadable(Exception):
    """The file cannot be read as YAML at all (or must not be): nothing else can be said."""

    def __init__(self, problem: ConfigProblem) -> None:
        super().__init__(problem.message)
        self.problem = problem


# --- where things are in the file --------------------------------------------------------------


def _structure(text: str) -> tuple[dict[str, int], list[ConfigProblem]]:
    """Each key path's line, and the problems PyYAML would let pass silently.

    Duplicate keys (PyYAML keeps the last one) are problems; aliases (`*anchor`, which
    can make a small file expand into a huge one) and text that is not YAML end the
    reading (`_Unreadable`) before the file is loaded.
    """
    problems: list[ConfigProblem] = []
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise _Unreadable(
                    ConfigProblem(
                        "",
                        "YAML aliases (`*name`) are not supported here: write the value out",
                        event.start_mark.line + 1 if event.start_mark else None,
                    )
                )
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise _Unreadable(_yaml_problem(exc)) from None
    lines: dict[str, int] = {}
    if root is not None:
        _walk(root, (), lines, problems)
    return lines, problems


def _walk(
    node: yaml.Node, path: tuple[str, ...], lines: dict[str, int], problems: list[ConfigProblem]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = key_node.start_mark.line + 1
            dotted = ".".join((*path, key))
            if key in seen:
                problems.append(
                    ConfigProblem(
                        dotted, f"appears twice (lines {seen[key]} and {line}); keep one", line
                    )
                )
            seen[key] = line
            lines[dotted] = line
            _walk(value_node, (*path, key), lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[".".join((*path, str(index)))] = item.start_mark.line + 1
            _walk(item, (*path, str(index)), lines, problems)


def _yaml_problem(exc: yaml.YAMLError) -> ConfigProblem:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    line = mark.line + 1 if mark is not None else None
    return ConfigProblem("", f"not valid YAML: {problem}", line)


# --- what is wrong, in words ----------------------------------------------------------------


_SECTIONS: dict[str, type[BaseModel]] = {"pull_requests": PullRequestSettings, "ci": CiSettings}


def _pydantic_problem(error: Any, lines: Mapping[str, int]) -> ConfigProblem:
    loc = tuple(str(part) for part in error["loc"] if part != "[key]")
    key = ".".join(loc)
    kind = error["type"]
    value = error.get("input")
    if kind == "extra_forbidden":
        known = _known_keys(loc[:-1])
        close = difflib.get_close_matches(loc[-1], known, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        message = f"unknown key; {hint}keys allowed here: {', '.join(f'`{k}`' for k in known)}"
    else:
        message = _describe(kind, error.get("ctx") or {}, error["msg"])
        if isinstance(value, str | int | float | bool) and not isinstance(value, dict):
            message += f", not `{str(value)[:60]}`"
    return ConfigProblem(key, message, _line(lines, loc))


def _describe(kind: str, ctx: Mapping[str, Any], fallback: str) -> str:
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be a whole number"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing"):
        return "must be a number"
    if kind in ("bool_type", "bool_parsing"):
        return "must be true or false"
    if kind == "string_type":
        return "must be text (quote it if YAML reads it as something else)"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "must be a mapping (`key: value` lines)"
    if kind in ("tuple_type", "list_type"):
        return "must be a list of paths (`[a, b]`, or one `- a` line each)"
    for bound, words in (
        ("ge", "at least"),
        ("gt", "more than"),
        ("le", "at most"),
        ("lt", "less than"),
    ):
        if bound in ctx:
            limit = ctx[bound]
            shown = int(limit) if isinstance(limit, float) and limit.is_integer() else limit
            return f"must be {words} {shown}"
    return str(fallback)


def _known_keys(path: tuple[str, ...]) -> list[str]:
    if not path:
        model: type[BaseModel] = RepoConfig
    elif len(path) == 2 and path[0] == "roles":
        model = RoleSettings
    else:
        model = _SECTIONS.get(path[0], RepoConfig)
    return sorted(model.model_fields)


def _line(lines: Mapping[str, int], loc: tuple[str, ...]) -> int | None:
    """The line of the deepest part of `loc` the file has (a missing key: its parent's)."""
    for end in range(len(loc), 0, -1):
        line = lines.get(".".join(loc[:end]))
        if line is not None:
            return line
    return None


def _name_problems(config: RepoConfig) -> Iterable[ConfigProblem]:
    """Names pydantic cannot judge: commands that cannot be typed, or that are taken."""
    for name, role in config.commands.items():
        where = ("commands", name)
        if not _COMMAND_NAME.fullmatch(name):
            yield ConfigProblem(
                ".".join(where),
                "a command is lower-case letters, digits and dashes, starting with a letter "
                "(write it without the `/`)",
                config.line_of(*where),
            )
        elif name in RESERVED_COMMANDS:
            hint = " (set `default_role` to choose what it runs)" if name == IMPLEMENT else ""
            yield ConfigProblem(
                ".".join(where),
                f"`/{name}` is one of Rolecall's own commands and cannot be mapped{hint}",
                config.line_of(*where),
            )
        if not role.strip():
            yield ConfigProblem(".".join(where), "names no role", config.line_of(*where))
    for label, role in config.labels.items():
        if not label.strip() or not role.strip():
            where = ("labels", label)
            yield ConfigProblem(
                ".".join(where), "a label and its role must both be named", config.line_of(*where)
            )
    if not config.pull_requests.draft:
        where = ("pull_requests", "draft")
        yield ConfigProblem(
            ".".join(where),
            "Rolecall opens pull requests as drafts only, so that a person decides when one "
            "is ready for review; remove this line or set it to `true`",
            config.line_of(*where),
        )
    for name, settings in config.roles.items():
        for index, pattern in enumerate(settings.may_change):
            grant = ("roles", name, "may_change", str(index))
            if (problem := pattern_problem(pattern)) is not None:
                yield ConfigProblem(".".join(grant), problem, config.line_of(*grant))
    for alias, target in config.models.items():
        where = ("models", alias)
        if "," in alias or not alias.strip():
            yield ConfigProblem(
                ".".join(where),
                "an alias is one word (no commas): it is what role files write as `model:`",
                config.line_of(*where),
            )
        if not target.strip():
            yield ConfigProblem(".".join(where), "names no model", config.line_of(*where))


def _shape(value: object) -> str:
    if isinstance(value, list):
        return "a list"
    return "a single value" if isinstance(value, str | int | float | bool) else type(value).__name__
