"""Tool names in role files -> the tools Rolecall actually has.

Claude Code and GitHub Copilot name the same abilities differently (`Bash` vs `execute`
vs `runCommands`), and files in the wild mix both. We map every spelling we know onto
Rolecall's small tool set and report the rest instead of failing, because a role that
mentions a tool we lack (an MCP server, the editor's Problems panel) is still useful.

Two rules are deliberate:

- Reading is always granted (Read, Glob, Grep): a role that cannot look at the code it
  works on is never what anyone meant, and reading inside the sandbox is harmless.
- Anything we cannot enforce as written is *not* granted. `Bash(npm test:*)` asks for
  "only npm test"; we cannot promise that, so the role gets no Bash and a warning,
  rather than more power than its author gave it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from agents.tools.names import (
    BASH,
    CHANGES,
    EDIT,
    GLOB,
    GREP,
    READ,
    RUNTIME_TOOLS,
    TODO_WRITE,
    WEB_FETCH,
    WRITE,
)

RoleFormat = Literal["claude-code", "copilot", "markdown"]

READ_ONLY_TOOLS: frozenset[str] = frozenset({READ, GLOB, GREP})
# A role that names no tools (or `*`) gets every tool the runtime has.
DEFAULT_TOOLS: frozenset[str] = RUNTIME_TOOLS
ALL_TOOLS: frozenset[str] = DEFAULT_TOOLS | {CHANGES, WEB_FETCH}
WRITING_TOOLS: frozenset[str] = frozenset({BASH, WRITE, EDIT})

# Every spelling we understand, lower-cased, for both Claude Code and Copilot/VS Code.
_ALIASES: dict[str, frozenset[str]] = {
    # Shell.
    "bash": frozenset({BASH}),
    "execute": frozenset({BASH}),
    "shell": frozenset({BASH}),
    "powershell": frozenset({BASH}),
    "runcommands": frozenset({BASH}),
    "runtasks": frozenset({BASH}),
    "runinterminal": frozenset({BASH}),
    "createandruntask": frozenset({BASH}),
    # Reading and finding.
    "read": frozenset({READ}),
    "readfile": frozenset({READ}),
    "readfiles": frozenset({READ}),
    "view": frozenset({READ}),
    "notebookread": frozenset({READ}),
    "ls": frozenset({GLOB}),
    "listdirectory": frozenset({GLOB}),
    "glob": frozenset({GLOB}),
    "filesearch": frozenset({GLOB}),
    "findtestfiles": frozenset({GLOB}),
    "grep": frozenset({GREP}),
    "textsearch": frozenset({GREP}),
    "search": frozenset({GLOB, GREP}),
    "codebase": frozenset({GLOB, GREP}),
    "usages": frozenset({GLOB, GREP}),
    # Writing.
    "write": frozenset({WRITE}),
    "createfile": frozenset({WRITE}),
    "createdirectory": frozenset({WRITE}),
    "edit": frozenset({EDIT, WRITE}),  # Copilot's `edit` covers creating files too
    "editfiles": frozenset({EDIT, WRITE}),
    "multiedit": frozenset({EDIT}),
    "str_replace_editor": frozenset({EDIT}),
    # The rest.
    "todowrite": frozenset({TODO_WRITE}),
    "todo": frozenset({TODO_WRITE}),
    "todos": frozenset({TODO_WRITE}),
    "changes": frozenset({CHANGES}),
    "webfetch": frozenset({WEB_FETCH}),
    "websearch": frozenset({WEB_FETCH}),
    "fetch": frozenset({WEB_FETCH}),
    "web": frozenset({WEB_FETCH}),
}

# Claude Code spellings whose meaning is narrower than the Copilot alias of the same
# letters: Claude's `Edit` edits existing files, Copilot's `edit` also creates them.
_CLAUDE_EXACT: dict[str, frozenset[str]] = {"Edit": frozenset({EDIT})}

_NO_SUBAGENTS = "roles cannot start other agents"
_NO_EDITOR = "it belongs to an editor, which Rolecall does not have"
_NO_GITHUB = "the agent has no GitHub access and no network"
_NO_NOTEBOOKS = "notebooks are not supported"

# Names we recognise but cannot offer, with the reason a role author should read.
_UNSUPPORTED: dict[str, str] = {
    "task": _NO_SUBAGENTS,
    "agent": _NO_SUBAGENTS,
    "custom-agent": _NO_SUBAGENTS,
    "runsubagent": _NO_SUBAGENTS,
    "problems": "Rolecall has no editor diagnostics; run the linter with Bash instead",
    "geterrors": "Rolecall has no editor diagnostics; run the linter with Bash instead",
    "testfailure": _NO_EDITOR,
    "runtests": "use Bash to run the tests",
    "terminallastcommand": _NO_EDITOR,
    "terminalselection": _NO_EDITOR,
    "getterminaloutput": _NO_EDITOR,
    "selection": _NO_EDITOR,
    "searchresults": _NO_EDITOR,
    "vscodeapi": _NO_EDITOR,
    "extensions": _NO_EDITOR,
    "installextension": _NO_EDITOR,
    "runcommand": _NO_EDITOR,
    "getprojectsetupinfo": _NO_EDITOR,
    "askquestions": "nobody is there to answer mid-run; the role works from the issue text",
    "new": _NO_EDITOR,
    "newworkspace": _NO_EDITOR,
    "opensimplebrowser": _NO_EDITOR,
    "browser": _NO_EDITOR,
    "githubrepo": _NO_GITHUB,
    "githubtextsearch": _NO_GITHUB,
    "notebookedit": _NO_NOTEBOOKS,
    "editnotebook": _NO_NOTEBOOKS,
    "runnotebookcell": _NO_NOTEBOOKS,
    "getnotebooksummary": _NO_NOTEBOOKS,
    "readnotebookcelloutput": _NO_NOTEBOOKS,
    "readcelloutput": _NO_NOTEBOOKS,
    "runnotebooks": _NO_NOTEBOOKS,
    "think": "the model thinks without a tool (`thinking: 8000` turns on extended thinking)",
    "bashoutput": "background shells are not supported; Bash runs each command to the end",
    "killshell": "background shells are not supported; Bash runs each command to the end",
    "killbash": "background shells are not supported; Bash runs each command to the end",
    "exitplanmode": "there is no interactive plan mode",
    "slashcommand": "slash commands are not available to roles",
    "skill": "skills are not available to roles",
}

# VS Code qualifies its built-in tools by tool set: `edit/editFiles`, `execute/runInTerminal`.
_VSCODE_TOOL_SETS = frozenset(
    {"edit", "execute", "read", "search", "web", "todo", "agent", "vscode", "browser"}
)
_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9_-]*)\s*\((.*)\)$", re.DOTALL)


@dataclass(frozen=True)
class ToolSelection:
    """The granted Rolecall tools, the names we could not honour, and why."""

    tools: frozenset[str]
    ignored: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


def select_tools(
    declared: object, disallowed: object = None, *, fmt: RoleFormat = "claude-code"
) -> ToolSelection:
    """Map a role's `tools` and `disallowedTools` fields onto Rolecall's tools.

    `declared` is the raw field: None when absent (every default tool), a list, or a
    comma-separated string. An empty list grants reading only.
    """
    warnings: list[str] = []
    ignored: list[str] = []
    if declared is None:
        tools = set(DEFAULT_TOOLS)
    else:
        names = _names(declared, "tools", warnings)
        tools = set() if names is None else _grant(names, fmt, ignored, warnings)
    if disallowed is not None:
        _deny(_names(disallowed, "disallowedTools", warnings) or [], fmt, tools, warnings)
    tools |= READ_ONLY_TOOLS
    return ToolSelection(frozenset(tools), tuple(dict.fromkeys(ignored)), tuple(warnings))


def _names(value: object, field: str, warnings: list[str]) -> list[str] | None:
    """The tool names a field lists, or None (with a warning) when it is not a list at all."""
    if isinstance(value, str):
        return split_tool_string(value)
    if isinstance(value, list | tuple):
        names = []
        for item in value:
            if isinstance(item, str) and item.strip():
                names.append(item.strip())
            elif item is not None:
                warnings.append(f"{field} entry {shape(item)} is not a tool name; ignored")
        return names
    warnings.append(
        f"{field} must be a list or a comma-separated string, not {shape(value)}; "
        + ("granting reading only" if field == "tools" else "nothing removed")
    )
    return None


def split_tool_string(value: str) -> list[str]:
    """Split `Read, Grep, Bash(git diff:*)` on commas that are not inside parentheses."""
    names: list[str] = []
    depth = 0
    current: list[str] = []
    for char in value:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if char == "," and depth == 0:
            names.append("".join(current))
            current = []
        else:
            current.append(char)
    names.append("".join(current))
    result: list[str] = []
    for name in (part.strip() for part in names):
        if not name:
            continue
        # `Read Grep Glob` with spaces and no commas: several names, not one.
        if " " in name and "(" not in name:
            result.extend(name.split())
        else:
            result.append(name)
    return result


def _grant(names: list[str], fmt: RoleFormat, ignored: list[str], warnings: list[str]) -> set[str]:
    granted: set[str] = set()
    for name in names:
        mapped, problem = map_tool_name(name, fmt=fmt)
        if mapped is not None:
            granted |= mapped
        else:
            ignored.append(name)
            if problem not in warnings:
                warnings.append(problem)
    return granted


def _deny(names: list[str], fmt: RoleFormat, tools: set[str], warnings: list[str]) -> None:
    for name in names:
        pattern = _PATTERN.match(name)
        base = pattern.group(1) if pattern else name
        mapped, _ = map_tool_name(base, fmt=fmt)
        if mapped is None:
            warnings.append(f"unknown disallowed tool {name!r} ignored")
            continue
        if pattern and mapped - READ_ONLY_TOOLS:
            warnings.append(
                f"disallowed tool {name!r}: only some uses cannot be denied, so "
                f"{', '.join(sorted(mapped - READ_ONLY_TOOLS))} is removed entirely"
            )
        kept = mapped & READ_ONLY_TOOLS
        if kept:
            warnings.append(f"disallowed tool {name!r} kept: reading is always allowed")
        tools -= mapped - READ_ONLY_TOOLS


def map_tool_name(
    name: str, *, fmt: RoleFormat = "claude-code"
) -> tuple[frozenset[str] | None, str]:
    """One role-file tool name -> (Rolecall tools, "") or (None, the warning to report)."""
    stripped = name.strip()
    if stripped == "*":
        return DEFAULT_TOOLS, ""
    if fmt == "claude-code" and stripped in _CLAUDE_EXACT:
        return _CLAUDE_EXACT[stripped], ""
    lowered = stripped.lower()
    # Copilot's tools are spelled `runInTerminal` in files and `run_in_terminal` by the
    # model; both are seen in chat modes.
    compact = lowered.replace("_", "").replace("-", "")
    for key in (lowered, compact):
        if key in _ALIASES:
            return _ALIASES[key], ""
        if key in _UNSUPPORTED:
            return None, f"tool {stripped!r} ignored: {_UNSUPPORTED[key]}"
    pattern = _PATTERN.match(stripped)
    if pattern:
        return _map_pattern(stripped, pattern.group(1), fmt)
    if lowered.startswith("mcp__"):
        return None, f"tool {stripped!r} ignored: MCP servers are not available to roles"
    if "/" in stripped:
        tool_set, _, tool = stripped.partition("/")
        if tool_set.lower() in _VSCODE_TOOL_SETS:
            inner = tool_set if tool in ("", "*") else tool
            mapped, problem = map_tool_name(inner, fmt=fmt)
            return mapped, problem.replace(repr(inner), repr(stripped), 1)
        return None, f"tool {stripped!r} ignored: MCP servers are not available to roles"
    return None, f"unknown tool {stripped!r} ignored"


def _map_pattern(name: str, base: str, fmt: RoleFormat) -> tuple[frozenset[str] | None, str]:
    """`Bash(git diff:*)`, `Edit(docs/**)`, `Task(reviewer)`: restricted forms of a tool."""
    mapped, problem = map_tool_name(base, fmt=fmt)
    if mapped is None:
        return None, problem.replace(repr(base), repr(name), 1)
    if mapped <= READ_ONLY_TOOLS:
        return mapped, ""  # reading is granted in full anyway
    return None, (
        f"tool {name!r} ignored: Rolecall cannot limit {base} to some uses, "
        f"so it does not grant {', '.join(sorted(mapped))}"
    )


def shape(value: object) -> str:
    """A value for a warning: short scalars as written, containers by kind only.

    Role files are repository-controlled; a YAML alias bomb is small on disk but its
    repr is not, so we never print a container's contents.
    """
    if value is None or isinstance(value, str | int | float):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"a {type(value).__name__}"
