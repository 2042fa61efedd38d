"""Lenient YAML frontmatter for role files.

Role files are written by people and by generators, and the tools that read them
(Claude Code, VS Code) are forgiving: a generated Claude Code agent commonly has an
unquoted `description:` full of `Context: ...` and `user: "..."` fragments, which strict
YAML rejects ("mapping values are not allowed here"). Refusing those files would refuse
exactly the roles teams already use, so we try strict YAML first and, when it fails,
read the block line by line: a line that starts with a key we know begins a new value,
and every other line continues the value before it.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

# Keys that begin a value in the line-based fallback. Only these count, because a
# description's embedded examples are full of `Context:`, `user:` and `assistant:` lines
# that must stay inside the description.
KNOWN_KEYS: frozenset[str] = frozenset(
    {
        # Claude Code subagents.
        "name",
        "description",
        "tools",
        "disallowedTools",
        "model",
        "maxTurns",
        "permissionMode",
        "color",
        "skills",
        "hooks",
        "memory",
        "mcpServers",
        "background",
        "isolation",
        "disabled",
        # GitHub Copilot / VS Code custom agents.
        "target",
        "handoffs",
        "argument-hint",
        "mcp-servers",
        "metadata",
        "infer",
        "agents",
        "user-invocable",
        "disable-model-invocation",
    }
)
_KNOWN_BY_LOWER = {key.lower(): key for key in KNOWN_KEYS}

_KEY_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]+(.*)|[ \t]*)$")
_BLOCK_SCALAR = re.compile(r"^[|>][+-]?[0-9]?[ \t]*$")
_SCALARS = (str, int, float, bool)


class FrontmatterError(ValueError):
    """The frontmatter cannot be read at all, not even leniently; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Frontmatter:
    """What the `---` block said, and what we had to guess to read it."""

    data: dict[str, Any]
    warnings: tuple[str, ...] = ()
    lenient: bool = False  # True when strict YAML failed and the line-based reader was used


@dataclass(frozen=True)
class SplitDocument:
    """A role file cut into its frontmatter text (None when there is none) and its body."""

    frontmatter: str | None
    body: str


def normalize_text(text: str) -> str:
    """Drop a byte-order mark and turn CRLF/CR into LF, so every later step sees one shape."""
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_frontmatter(text: str) -> SplitDocument:
    """Separate a leading `---` ... `---` block from the markdown body.

    Blank lines before the opening `---` are tolerated. An opening line with no closing
    one is an error rather than "no frontmatter": silently treating half a header as
    instructions would hand the model a broken role.
    """
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines) or lines[start].rstrip() != "---":
        return SplitDocument(frontmatter=None, body=text)
    for end in range(start + 1, len(lines)):
        if lines[end].rstrip() in ("---", "..."):
            return SplitDocument(
                frontmatter="\n".join(lines[start + 1 : end]),
                body="\n".join(lines[end + 1 :]),
            )
    raise FrontmatterError(
        f"the frontmatter opened with '---' on line {start + 1} is never closed "
        "(add a line '---' after the last setting)"
    )


def parse_frontmatter(text: str) -> Frontmatter:
    """Read frontmatter as strict YAML, falling back to the line-based reader.

    Keys are returned as strings; known keys written in another case (`Tools:`) are
    mapped to their canonical spelling so the caller looks up one name.
    """
    if not text.strip():
        return Frontmatter(data={})
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        return _lenient(text, cause=f"frontmatter is not valid YAML ({_describe_yaml_error(exc)})")
    if loaded is None:
        return Frontmatter(data={})
    if isinstance(loaded, dict):
        return Frontmatter(data={_canonical_key(str(key)): value for key, value in loaded.items()})
    return _lenient(text, cause="frontmatter is not a list of 'key: value' settings")


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    """One short clause naming the problem and its line, without PyYAML's multi-line dump."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        # +2: the mark is 0-based and the frontmatter starts after the opening '---' line.
        return f"line {mark.line + 2}: {problem}"
    return str(problem)


def _canonical_key(key: str) -> str:
    return _KNOWN_BY_LOWER.get(key.lower(), key)


def _lenient(text: str, *, cause: str) -> Frontmatter:
    """Line-based reading: known keys start values, everything else continues them.

    `cause` says why strict YAML was not enough; it leads the warning, or the error when
    even this reading finds nothing.
    """
    warnings = [f"{cause}; read it line by line"]
    entries: list[tuple[str, str, list[str]]] = []
    stray: list[int] = []
    for number, line in enumerate(text.split("\n"), start=2):
        match = _KEY_LINE.match(line)
        if match and match.group(1).lower() in _KNOWN_BY_LOWER:
            entries.append((_canonical_key(match.group(1)), match.group(2) or "", []))
        elif entries:
            entries[-1][2].append(line)
        elif line.strip():
            stray.append(number)
    if not entries:
        raise FrontmatterError(
            f"{cause}, and no line in it starts with a setting Rolecall knows "
            "(such as 'name:', 'description:' or 'tools:')"
        )
    if stray:
        warnings.append(f"frontmatter line {stray[0]} is before any setting and was ignored")
    data: dict[str, Any] = {}
    for key, first, rest in entries:
        data[key] = _lenient_value(first, rest)
    return Frontmatter(data=data, warnings=tuple(warnings), lenient=True)


def _lenient_value(first: str, rest: list[str]) -> Any:
    """Turn one key's raw text into the value strict YAML would most likely have meant."""
    first = first.strip()
    while rest and not rest[-1].strip():
        rest = rest[:-1]
    if not rest:
        return _scalar_or_text(first)
    if not first:
        nested = _nested_yaml(rest)
        if nested is not None:
            return nested
    if not first and all(_is_list_item(line) for line in rest if line.strip()):
        return [_scalar_or_text(line.strip()[1:].strip()) for line in rest if line.strip()]
    if _BLOCK_SCALAR.match(first):
        block = textwrap.dedent("\n".join(line.expandtabs(4) for line in rest)).strip("\n")
        if first.startswith(">"):
            return " ".join(part.strip() for part in block.split("\n") if part.strip())
        return block
    whole = "\n".join([first, *rest]) if first else "\n".join(rest)
    if whole[:1] in ("'", '"', "[") and len(whole) > 1:
        try:
            loaded = yaml.safe_load(whole)
        except yaml.YAMLError:
            loaded = None
        if _is_plain(loaded):
            return loaded
    continuation = textwrap.dedent("\n".join(line.expandtabs(4) for line in rest))
    return "\n".join(part for part in (first, continuation.strip("\n")) if part)


def _nested_yaml(lines: list[str]) -> list[Any] | dict[str, Any] | None:
    """An indented block under a key (`handoffs:` items) that is valid YAML on its own."""
    try:
        loaded = yaml.safe_load(textwrap.dedent("\n".join(lines)))
    except yaml.YAMLError:
        return None
    return loaded if isinstance(loaded, list | dict) else None


def _is_list_item(line: str) -> bool:
    stripped = line.lstrip()
    return stripped == "-" or stripped.startswith(("- ", "-\t"))


def _scalar_or_text(text: str) -> Any:
    """YAML's reading of a one-line value when it is a plain scalar or flat list, else the text."""
    if not text:
        return None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if loaded is None and text not in ("~", "null", "Null", "NULL"):
        return text  # e.g. a value that starts with '#', which YAML would drop as a comment
    return loaded if _is_plain(loaded) else text


def _is_plain(value: object) -> bool:
    if value is None or isinstance(value, _SCALARS):
        return True
    return isinstance(value, list) and _all_scalars(value)


def _all_scalars(values: Iterable[object]) -> bool:
    return all(isinstance(item, _SCALARS) for item in values)
