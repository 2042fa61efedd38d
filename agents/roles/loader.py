"""Role files (Claude Code, GitHub Copilot, plain markdown) -> `Role`.

Teams already wrote agent roles for Claude Code (`.claude/agents/*.md`) and for GitHub
Copilot: custom agents (`.github/agents/*.agent.md`) and the chat modes that came before
them (`.github/chatmodes/*.chatmode.md`). Rolecall runs those files as they are, so this
module reads both dialects plus frontmatter-less markdown, and is lenient in what it
accepts: anything odd becomes a warning on the role, and only a file that cannot be
read at all raises `RoleError`. Discovery never raises; broken files are listed in
`RoleSet.errors` so a repository with one bad file still gets its other roles.

Model specs are kept raw (after normalising Copilot display names); resolving them to
a provider and model id is `agents.model`'s job. The types a role file becomes are
`agents.roles.role`; reading each field leniently is `agents.roles.fields`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, get_args

from agents.roles.fields import (
    first_heading_and_paragraph,
    normalize_model,
    optional_str,
    read_description,
    read_handoffs,
    read_max_turns,
    read_thinking,
)
from agents.roles.frontmatter import (
    FrontmatterError,
    normalize_text,
    parse_frontmatter,
    split_frontmatter,
)
from agents.roles.role import (
    Handoff,
    Role,
    RoleError,
    RoleFileError,
    RoleSet,
    Shadowing,
    slugify,
)
from agents.roles.tools import READ_ONLY_TOOLS, RoleFormat, select_tools
from agents.text.redact import find_secrets
from agents.tools.names import CHANGES, TODO_WRITE, WEB_FETCH

__all__ = [
    "CHATMODE_DIR",
    "CLAUDE_DIR",
    "COPILOT_DIR",
    "CREDENTIAL_WARNING",
    "MAX_ROLE_CHARS",
    "ROLE_DIRS",
    "Handoff",
    "Role",
    "RoleError",
    "RoleFileError",
    "RoleFormat",
    "RoleSet",
    "Shadowing",
    "builtin_roles",
    "discover_roles",
    "find_credentials",
    "load_role_file",
    "load_role_text",
    "normalize_model",
    "precedence_of",
    "slugify",
]

COPILOT_DIR = ".github/agents"
# Copilot's chat modes, the custom agents' predecessor: only `*.chatmode.md` files count.
CHATMODE_DIR = ".github/chatmodes"
CHATMODE_SUFFIX = ".chatmode.md"
CLAUDE_DIR = ".claude/agents"
# Where a repository's role files are, highest precedence first: Copilot, as Copilot
# itself does, puts custom agents before chat modes; Copilot's files come before Claude
# Code's. Whatever reads a repository's roles (the worker, `rolecall roles`) lists these.
ROLE_DIRS = (COPILOT_DIR, CHATMODE_DIR, CLAUDE_DIR)
BUILTIN_SOURCE = "builtin"
# Copilot caps a custom agent's prompt at 30,000 characters; a role file several times
# that is a mistake (or an attempt to flood the prompt), not a role.
MAX_ROLE_CHARS = 100_000
CREDENTIAL_WARNING = "role file contains a credential (redacted)"

_FORMATS: tuple[str, ...] = get_args(RoleFormat)
_PERMISSION_MODES = frozenset({"default", "acceptEdits", "dontAsk", "bypassPermissions", "plan"})
# What `permissionMode: plan` leaves a role: looking, never changing.
_PLAN_MODE_TOOLS = READ_ONLY_TOOLS | {CHANGES, TODO_WRITE, WEB_FETCH}


def load_role_text(text: str, source: str, *, fmt_hint: str | None = None) -> Role:
    """Parse one role file's text. `source` is where it came from (used for the fallback
    name and the format guess); `fmt_hint` forces "claude-code", "copilot" or "markdown".
    """
    if fmt_hint is not None and fmt_hint not in _FORMATS:
        raise ValueError(f"fmt_hint must be one of {', '.join(_FORMATS)}, not {fmt_hint!r}")
    warnings: list[str] = []
    if "\ufffd" in text:
        warnings.append("file is not valid UTF-8; unreadable bytes were replaced")
    text = normalize_text(text)
    if len(text) > MAX_ROLE_CHARS:
        raise RoleError(
            f"the file has {len(text)} characters; a role may have at most {MAX_ROLE_CHARS}"
        )
    if not text.strip():
        raise RoleError("the file is empty")
    secrets = find_credentials(text)
    try:
        document = split_frontmatter(text)
        if document.frontmatter is None:
            return _markdown_role(text, source, warnings, secrets)
        parsed = parse_frontmatter(document.frontmatter)
    except FrontmatterError as exc:
        raise RoleError(exc.reason) from None
    except RecursionError:
        raise RoleError("the frontmatter is nested too deeply to read") from None
    warnings.extend(parsed.warnings)
    fmt: RoleFormat = _guess_format(source, parsed.data, fmt_hint)
    return _frontmatter_role(parsed.data, document.body, source, fmt, warnings, secrets)


def load_role_file(path: str | Path) -> Role:
    """Read and parse a role file from disk; undecodable bytes are replaced (and warned about)."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise RoleError(f"cannot read the file: {exc.strerror or exc}") from None
    return load_role_text(data.decode("utf-8", errors="replace"), file.as_posix())


def discover_roles(files: Mapping[str, str], *, builtins: Iterable[Role] | None = None) -> RoleSet:
    """The roles a repository gets from its role files plus the built-ins.

    `files` maps repo-relative paths to text. Precedence, highest first: `.github/agents`,
    `.github/chatmodes`, `.claude/agents`, the built-ins (`ROLE_DIRS`); within a directory,
    paths sort alphabetically. A name seen again at lower precedence is shadowed, not
    loaded twice; when both are the repository's files, the role that wins says so in a
    warning (two files for one role is usually a leftover). Never raises.
    """
    found: list[tuple[int, str, str]] = []
    for raw_path, text in files.items():
        path = _normalize_path(raw_path)
        directory = _role_dir_of(path)
        if directory is not None:
            found.append((ROLE_DIRS.index(directory), path, text))
    by_name: dict[str, Role] = {}
    shadowed: list[Shadowing] = []
    errors: list[RoleFileError] = []

    def add(role: Role) -> None:
        winner = by_name.get(role.name)
        if winner is None:
            by_name[role.name] = role
            return
        shadowed.append(Shadowing(role.name, winner.source, role.source))
        if role.source != BUILTIN_SOURCE:
            why = _why_it_wins(winner.source, role.source)
            by_name[role.name] = dataclasses.replace(
                winner,
                warnings=(
                    *winner.warnings,
                    f"{role.source} also defines role {role.name!r}; this file wins ({why})",
                ),
            )

    for _, path, text in sorted(found):
        try:
            add(load_role_text(text, path))
        except RoleError as exc:
            errors.append(RoleFileError(path, exc.reason))
    for role in builtin_roles() if builtins is None else builtins:
        add(role)
    return RoleSet(tuple(by_name.values()), tuple(shadowed), tuple(errors))


def precedence_of(path: str) -> int | None:
    """0 for Copilot's files (`.github/agents/*.md`, then `.github/chatmodes/*.chatmode.md`),
    1 for `.claude/agents/*.md`, 2 for built-ins, else None (not a role file)."""
    if path == BUILTIN_SOURCE:
        return 2
    directory = _role_dir_of(_normalize_path(path))
    if directory is None:
        return None
    return 1 if directory == CLAUDE_DIR else 0


def _role_dir_of(path: str) -> str | None:
    """Which of `ROLE_DIRS` holds the role file at `path`, or None when it is no role file."""
    posix = PurePosixPath(path)
    if posix.suffix != ".md" or posix.name.lower() == "readme.md":
        return None
    parent = str(posix.parent)
    if parent == CHATMODE_DIR:
        return parent if posix.name.lower().endswith(CHATMODE_SUFFIX) else None
    return parent if parent in ROLE_DIRS else None


def _why_it_wins(winner: str, loser: str) -> str:
    winner_dir, loser_dir = _role_dir_of(winner), _role_dir_of(loser)
    if winner_dir == loser_dir:
        return "of two files in one directory, the first in alphabetical order wins"
    if (winner_dir, loser_dir) == (COPILOT_DIR, CHATMODE_DIR):
        return "custom agents take precedence over chat modes, as in Copilot"
    return "Copilot's files take precedence over Claude Code's"


def builtin_roles() -> list[Role]:
    """The roles Rolecall ships (`agents/builtin/*.md`), which any repository can shadow."""
    return list(_builtin_roles())


@functools.cache
def _builtin_roles() -> tuple[Role, ...]:
    folder = resources.files("agents").joinpath("builtin")
    roles = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".md"):
            roles.append(
                load_role_text(
                    entry.read_text(encoding="utf-8"), BUILTIN_SOURCE, fmt_hint="claude-code"
                )
            )
    return tuple(roles)


def find_credentials(text: str) -> tuple[str, ...]:
    """Credential-shaped strings in `text`, in order of appearance, each once.

    The patterns are `agents.text.redact`'s, so what a role file is flagged for is exactly
    what gets redacted from everything Rolecall posts.
    """
    return tuple(dict.fromkeys(secret.rstrip() for secret in find_secrets(text)))


def _normalize_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _file_stem(source: str) -> str:
    name = PurePosixPath(source.replace("\\", "/")).name
    for suffix in (".agent.md", CHATMODE_SUFFIX, ".md"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _guess_format(source: str, data: Mapping[str, Any], fmt_hint: str | None) -> RoleFormat:
    if fmt_hint == "claude-code":
        return "claude-code"
    if fmt_hint == "copilot":
        return "copilot"
    if _is_copilot_path(source):
        return "copilot"
    path = "/" + _normalize_path(source)
    if f"/{CLAUDE_DIR}/" in path:
        return "claude-code"
    if "target" in data or "handoffs" in data:
        return "copilot"
    return "claude-code"


def _is_copilot_path(source: str) -> bool:
    path = "/" + _normalize_path(source)
    lowered = path.lower()
    return (
        lowered.endswith((".agent.md", CHATMODE_SUFFIX))
        or f"/{COPILOT_DIR}/" in path
        or f"/{CHATMODE_DIR}/" in path
    )


def _is_chatmode(source: str) -> bool:
    return _normalize_path(source).lower().endswith(CHATMODE_SUFFIX)


def _markdown_role(text: str, source: str, warnings: list[str], secrets: tuple[str, ...]) -> Role:
    """A file with no frontmatter: the whole text is the instructions, every default tool.

    A chat mode is named after its file, as Copilot names it; other files after their
    first heading.
    """
    heading, paragraph = first_heading_and_paragraph(text)
    chatmode = _is_chatmode(source)
    if chatmode:
        name = slugify(_file_stem(source))
    else:
        name = slugify(heading or "") or slugify(_file_stem(source))
    if not name:
        raise RoleError("the role has no name: give it a '# Heading' or a file name")
    if secrets:
        warnings.append(CREDENTIAL_WARNING)
    return Role(
        name=name,
        description=paragraph or heading or "",
        instructions=text.strip("\n"),
        format="copilot" if chatmode else "markdown",
        source=source,
        warnings=tuple(dict.fromkeys(warnings)),
        secrets=secrets,
    )


def _frontmatter_role(
    data: Mapping[str, Any],
    body: str,
    source: str,
    fmt: RoleFormat,
    warnings: list[str],
    secrets: tuple[str, ...],
) -> Role:
    name = _name(data, source, fmt, warnings)
    description = read_description(data.get("description"), warnings)
    selection = select_tools(data.get("tools"), data.get("disallowedTools"), fmt=fmt)
    warnings.extend(selection.warnings)
    tools = selection.tools
    model, model_warnings = normalize_model(data.get("model"))
    warnings.extend(model_warnings)
    max_turns = read_max_turns(data.get("maxTurns"), warnings)
    thinking = read_thinking(data.get("thinking"), warnings)
    permission_mode = optional_str(data.get("permissionMode"))
    if permission_mode is not None and permission_mode not in _PERMISSION_MODES:
        warnings.append(f"unknown permissionMode {permission_mode!r}")
    if permission_mode == "plan":
        tools = tools & _PLAN_MODE_TOOLS
    handoffs = read_handoffs(data.get("handoffs"), warnings)
    instructions = body.strip("\n")
    if not instructions.strip():
        warnings.append("the role has no instructions after its frontmatter")
    if secrets:
        warnings.append(CREDENTIAL_WARNING)
    return Role(
        name=name,
        description=description,
        instructions=instructions,
        format=fmt,
        source=source,
        tools=tools,
        ignored_tools=selection.ignored,
        model=model,
        max_turns=max_turns,
        thinking=thinking,
        permission_mode=permission_mode,
        handoffs=handoffs,
        target=optional_str(data.get("target")),
        warnings=tuple(dict.fromkeys(warnings)),
        secrets=secrets,
    )


def _name(data: Mapping[str, Any], source: str, fmt: RoleFormat, warnings: list[str]) -> str:
    declared = optional_str(data.get("name"))
    name = slugify(declared or "")
    if name:
        return name
    stem = slugify(_file_stem(source))
    if not stem:
        raise RoleError("the role has no name: add 'name:' to its frontmatter")
    if fmt == "claude-code" and source != BUILTIN_SOURCE:
        warnings.append(f"no 'name' in the frontmatter; named {stem!r} after the file")
    return stem
