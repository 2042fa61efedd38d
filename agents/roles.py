"""Role files (Claude Code, GitHub Copilot, plain markdown) -> `Role`.

Teams already wrote agent roles for Claude Code (`.claude/agents/*.md`) and for GitHub
Copilot (`.github/agents/*.agent.md`). Rolecall runs those files as they are, so this
module reads both dialects plus frontmatter-less markdown, and is lenient in what it
accepts: anything odd becomes a warning on the role, and only a file that cannot be
read at all raises `RoleError`. Discovery never raises; broken files are listed in
`RoleSet.errors` so a repository with one bad file still gets its other roles.

Model specs are kept raw (after normalising Copilot display names); resolving them to
a provider and model id is `agents.model`'s job.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, get_args

from agents.frontmatter import (
    FrontmatterError,
    normalize_text,
    parse_frontmatter,
    split_frontmatter,
)
from agents.redact import REDACTED, find_secrets
from agents.role_tools import (
    CHANGES,
    DEFAULT_TOOLS,
    READ_ONLY_TOOLS,
    TODO_WRITE,
    WEB_FETCH,
    WRITING_TOOLS,
    RoleFormat,
    select_tools,
    shape,
)

__all__ = [
    "CLAUDE_DIR",
    "COPILOT_DIR",
    "CREDENTIAL_WARNING",
    "MAX_ROLE_CHARS",
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
CLAUDE_DIR = ".claude/agents"
BUILTIN_SOURCE = "builtin"
# Copilot caps a custom agent's prompt at 30,000 characters; a role file several times
# that is a mistake (or an attempt to flood the prompt), not a role.
MAX_ROLE_CHARS = 100_000
CREDENTIAL_WARNING = "role file contains a credential (redacted)"

_FORMATS: tuple[str, ...] = get_args(RoleFormat)
_PERMISSION_MODES = frozenset({"default", "acceptEdits", "dontAsk", "bypassPermissions", "plan"})
# What `permissionMode: plan` leaves a role: looking, never changing.
_PLAN_MODE_TOOLS = READ_ONLY_TOOLS | {CHANGES, TODO_WRITE, WEB_FETCH}
_MODEL_ALIASES = frozenset({"sonnet", "opus", "haiku", "inherit"})
_NAME_LIMIT = 64

_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


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
    `.claude/agents`, the built-ins; within a directory, paths sort alphabetically. A name
    seen again at lower precedence is shadowed, not loaded twice. Never raises.
    """
    tiers: list[list[tuple[str, str]]] = [[], []]
    for raw_path, text in files.items():
        path = _normalize_path(raw_path)
        tier = precedence_of(path)
        if tier is not None and tier < len(tiers):
            tiers[tier].append((path, text))
    roles: list[Role] = []
    by_name: dict[str, Role] = {}
    shadowed: list[Shadowing] = []
    errors: list[RoleFileError] = []

    def add(role: Role) -> None:
        if role.name in by_name:
            shadowed.append(Shadowing(role.name, by_name[role.name].source, role.source))
            return
        by_name[role.name] = role
        roles.append(role)

    for tier_files in tiers:
        for path, text in sorted(tier_files):
            try:
                add(load_role_text(text, path))
            except RoleError as exc:
                errors.append(RoleFileError(path, exc.reason))
    for role in builtin_roles() if builtins is None else builtins:
        add(role)
    return RoleSet(tuple(roles), tuple(shadowed), tuple(errors))


def precedence_of(path: str) -> int | None:
    """0 for `.github/agents/*.md`, 1 for `.claude/agents/*.md`, 2 for built-ins, else None."""
    if path == BUILTIN_SOURCE:
        return 2
    posix = PurePosixPath(_normalize_path(path))
    if posix.suffix != ".md" or posix.name.lower() == "readme.md":
        return None
    parent = str(posix.parent)
    if parent == COPILOT_DIR:
        return 0
    if parent == CLAUDE_DIR:
        return 1
    return None


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

    The patterns are `agents.redact`'s, so what a role file is flagged for is exactly
    what gets redacted from everything Rolecall posts.
    """
    return tuple(dict.fromkeys(secret.rstrip() for secret in find_secrets(text)))


def normalize_model(value: object) -> tuple[str | None, tuple[str, ...]]:
    """A role's `model` field -> (raw spec for `agents.model`, warnings).

    Copilot files name models for its picker ("Claude Haiku 4.5 (copilot)") and may list
    fallbacks; we take the first and turn Claude display names into API ids. Other
    vendors' names are kept (a `provider,model` setup may serve them) but warned about.
    """
    if isinstance(value, list | tuple):
        if not value:
            return None, ()
        value = value[0]
    if value is None:
        return None, ()
    if not isinstance(value, str | int | float):
        return None, (f"model must be a name or a list of names, not {shape(value)}; ignored",)
    raw = str(value).strip()
    if not raw:
        return None, ()
    if "," in raw:
        provider, _, model_id = raw.partition(",")
        return f"{provider.strip()},{model_id.strip()}", ()
    base = re.sub(r"\s*\([^()]*\)$", "", raw).strip() or raw
    if base.lower() in _MODEL_ALIASES:
        return base.lower(), ()
    lowered = base.lower()
    if lowered.startswith("claude"):
        # "Claude Sonnet 4.5" and "claude-sonnet-4.5" both mean the API id claude-sonnet-4-5.
        return re.sub(r"[\s.]+", "-", lowered), ()
    return base, (
        f"model {raw!r} is not an Anthropic model; write 'provider,model' if another "
        "provider serves it",
    )


def slugify(name: str) -> str:
    """A role name as commands and lookups use it: lower-case letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return slug[:_NAME_LIMIT].rstrip("-")


def _normalize_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def _file_stem(source: str) -> str:
    name = PurePosixPath(source.replace("\\", "/")).name
    for suffix in (".agent.md", ".md"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _guess_format(source: str, data: Mapping[str, Any], fmt_hint: str | None) -> RoleFormat:
    if fmt_hint == "claude-code":
        return "claude-code"
    if fmt_hint == "copilot":
        return "copilot"
    path = "/" + _normalize_path(source)
    if path.endswith(".agent.md") or f"/{COPILOT_DIR}/" in path:
        return "copilot"
    if f"/{CLAUDE_DIR}/" in path:
        return "claude-code"
    if "target" in data or "handoffs" in data:
        return "copilot"
    return "claude-code"


def _markdown_role(text: str, source: str, warnings: list[str], secrets: tuple[str, ...]) -> Role:
    """A file with no frontmatter: the whole text is the instructions, every default tool."""
    heading, paragraph = _first_heading_and_paragraph(text)
    name = slugify(heading or "") or slugify(_file_stem(source))
    if not name:
        raise RoleError("the role has no name: give it a '# Heading' or a file name")
    if secrets:
        warnings.append(CREDENTIAL_WARNING)
    return Role(
        name=name,
        description=paragraph or heading or "",
        instructions=text.strip("\n"),
        format="markdown",
        source=source,
        warnings=tuple(dict.fromkeys(warnings)),
        secrets=secrets,
    )


def _first_heading_and_paragraph(text: str) -> tuple[str | None, str | None]:
    heading: str | None = None
    paragraph: list[str] = []
    in_fence = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            if paragraph:
                break
            continue
        if in_fence:
            continue
        match = _HEADING.match(line)
        if match:
            if paragraph:
                break
            heading = heading or match.group(1).strip()
        elif line.strip():
            paragraph.append(line.strip())
        elif paragraph:
            break
    return heading, " ".join(paragraph)[:300] or None


def _frontmatter_role(
    data: Mapping[str, Any],
    body: str,
    source: str,
    fmt: RoleFormat,
    warnings: list[str],
    secrets: tuple[str, ...],
) -> Role:
    name = _name(data, source, fmt, warnings)
    description = _description(data.get("description"), warnings)
    selection = select_tools(data.get("tools"), data.get("disallowedTools"), fmt=fmt)
    warnings.extend(selection.warnings)
    tools = selection.tools
    model, model_warnings = normalize_model(data.get("model"))
    warnings.extend(model_warnings)
    max_turns = _max_turns(data.get("maxTurns"), warnings)
    permission_mode = _optional_str(data.get("permissionMode"))
    if permission_mode is not None and permission_mode not in _PERMISSION_MODES:
        warnings.append(f"unknown permissionMode {permission_mode!r}")
    if permission_mode == "plan":
        tools = tools & _PLAN_MODE_TOOLS
    handoffs = _handoffs(data.get("handoffs"), warnings)
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
        permission_mode=permission_mode,
        handoffs=handoffs,
        target=_optional_str(data.get("target")),
        warnings=tuple(dict.fromkeys(warnings)),
        secrets=secrets,
    )


def _name(data: Mapping[str, Any], source: str, fmt: RoleFormat, warnings: list[str]) -> str:
    declared = _optional_str(data.get("name"))
    name = slugify(declared or "")
    if name:
        return name
    stem = slugify(_file_stem(source))
    if not stem:
        raise RoleError("the role has no name: add 'name:' to its frontmatter")
    if fmt == "claude-code" and source != BUILTIN_SOURCE:
        warnings.append(f"no 'name' in the frontmatter; named {stem!r} after the file")
    return stem


def _description(value: object, warnings: list[str]) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        warnings.append("no 'description' in the frontmatter")
        return ""
    if not isinstance(value, str):
        text = _optional_str(value)
        if text is None:
            warnings.append(f"'description' must be text, not {shape(value)}; ignored")
            return ""
        value = text
    # Generated Claude Code agents write their multi-line descriptions on one line with
    # literal `\n` escapes; YAML keeps those as backslash-n in plain scalars.
    return value.replace("\\n", "\n").strip()


def _max_turns(value: object, warnings: list[str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    warnings.append(f"maxTurns {shape(value)} is not a positive whole number; ignored")
    return None


def _optional_str(value: object) -> str | None:
    """A scalar setting as text; lists and mappings are not text (and may be huge)."""
    if value is None or not isinstance(value, str | int | float):
        return None
    text = str(value).strip()
    return text or None


def _handoffs(value: object, warnings: list[str]) -> tuple[Handoff, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        warnings.append("handoffs must be a list; ignored")
        return ()
    handoffs = []
    for item in value:
        if isinstance(item, dict) and _optional_str(item.get("agent")):
            handoffs.append(
                Handoff(
                    agent=str(item["agent"]).strip(),
                    label=_optional_str(item.get("label")) or "",
                    prompt=_optional_str(item.get("prompt")) or "",
                    send=item.get("send") is True,
                )
            )
        else:
            warnings.append(f"handoff {shape(item)} has no 'agent'; ignored")
    return tuple(handoffs)
