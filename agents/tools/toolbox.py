"""The agent's tools as Claude Code has them: Bash, Read, Write, Edit, Glob, Grep, TodoWrite.

Same names, same input fields and similar output, so role files and prompts written for
Claude Code work unchanged. Bash runs in the `Sandbox`; the file tools run on the host
and go through `agents.tools.fs_guard`, which confines every path to the worktree without
following symlinks. WebFetch, offered only to a run with network, is the host-side
`agents.tools.web_fetch`. `Toolbox.call` never raises for a tool failure: the model gets
an error result it can act on, because a failed `Edit` is information, not a crash.

This module dispatches calls and holds Bash, Glob, Grep and TodoWrite; what the model is
told about each tool is `agents.tools.schemas`, Read/Write/Edit are
`agents.tools.file_tools`; listing, globs and the Grep engine are `agents.tools.listing`,
`agents.tools.globs` and `agents.tools.search`.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.sandbox.interface import Sandbox, SandboxError
from agents.text.capping import DEFAULT_MAX_CHARS, cap_text
from agents.tools.file_tools import edit_file, read_file, write_file
from agents.tools.fs_guard import PathRefused, Worktree
from agents.tools.globs import FILE_TYPES, glob_regex
from agents.tools.listing import list_files, newest_first
from agents.tools.names import (
    BASH,
    EDIT,
    GLOB,
    GREP,
    READ,
    RUNTIME_TOOL_ORDER,
    TODO_WRITE,
    WEB_FETCH,
    WRITE,
)
from agents.tools.result import ToolResult
from agents.tools.schemas import (
    DEFAULT_BASH_TIMEOUT,
    MAX_GLOB_RESULTS,
    tool_schemas,
    validate,
)
from agents.tools.search import GrepRequest, describe_error, run_grep
from agents.tools.web_fetch import WebFetcher

log = logging.getLogger(__name__)

# What a Toolbox allows when not told: every tool it implements, in the order offered.
DEFAULT_TOOLS = RUNTIME_TOOL_ORDER


@dataclass(frozen=True)
class CommandRecord:
    """One Bash command the agent ran: the PR body lists these as how it was verified."""

    command: str
    exit_code: int
    timed_out: bool


# -- the toolbox -----------------------------------------------------------------------


class Toolbox:
    """The tools one role may use on one worktree, and what they did.

    `commands` records every Bash command (for the PR body); `todos` is the current
    TodoWrite list. `deadline` (a `time.monotonic()` value, set by the executor from the
    job's time limit) caps every command's timeout: no command runs past it.
    """

    def __init__(
        self,
        worktree: Path,
        sandbox: Sandbox,
        allowed: Iterable[str] = DEFAULT_TOOLS,
        *,
        command_timeout: float = 300,
        grep_timeout: float = 60,
        max_output_chars: int = DEFAULT_MAX_CHARS,
        max_worktree_bytes: int | None = None,
        web_fetch: WebFetcher | None = None,
    ) -> None:
        allowed = tuple(dict.fromkeys(allowed))
        provided = (*DEFAULT_TOOLS, WEB_FETCH) if web_fetch is not None else DEFAULT_TOOLS
        unknown = [name for name in allowed if name not in provided]
        if unknown:
            raise ValueError(
                f"unknown tool(s) {', '.join(unknown)};"
                f" Rolecall provides {', '.join(provided)}"
                + ("" if web_fetch is not None else " (WebFetch only with a WebFetcher)")
            )
        if command_timeout <= 0:
            raise ValueError("command_timeout must be positive")
        self.allowed = allowed
        owner = sandbox.run_as.ids if sandbox.run_as is not None else None
        self.fs = Worktree(worktree, max_bytes=max_worktree_bytes, owner=owner)
        self.sandbox = sandbox
        self.command_timeout = command_timeout
        self.deadline: float | None = None
        self.grep_timeout = grep_timeout
        self.max_output_chars = max_output_chars
        self.commands: list[CommandRecord] = []
        self.todos: list[dict[str, Any]] = []
        self._schemas = tool_schemas(command_timeout)
        self._handlers: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
            BASH: self._bash,
            READ: lambda args: read_file(self.fs, args, self.max_output_chars),
            WRITE: lambda args: write_file(self.fs, args),
            EDIT: lambda args: edit_file(self.fs, args),
            GLOB: self._glob,
            GREP: self._grep,
            TODO_WRITE: self._todo_write,
        }
        if web_fetch is not None:  # only a run with the egress proxy has one
            self._handlers[WEB_FETCH] = lambda args: web_fetch.fetch(args["url"])

    def specs(self) -> list[dict[str, Any]]:
        """Anthropic tool definitions for the allowed tools, in the order allowed."""
        return [
            {
                "name": name,
                "description": self._schemas[name][0],
                "input_schema": self._schemas[name][1],
            }
            for name in self.allowed
        ]

    def call(self, name: str, tool_input: dict[str, Any]) -> ToolResult:
        """Run tool `name`; every failure comes back as `ToolResult(is_error=True)`."""
        if name not in self._handlers:
            return ToolResult(
                f"unknown tool {name!r}; available tools: {', '.join(self.allowed)}", True
            )
        if name not in self.allowed:
            return ToolResult(f"tool {name} is not available to this role", True)
        problems = validate(self._schemas[name][1], tool_input)
        if problems:
            return ToolResult(f"invalid input for {name}: " + "; ".join(problems), True)
        try:
            result = self._handlers[name](tool_input)
        except (PathRefused, OSError, SandboxError, re.error) as exc:
            prefix = "the sandbox cannot run commands: " if isinstance(exc, SandboxError) else ""
            result = ToolResult(prefix + describe_error(exc), True)
        except Exception as exc:  # a bug in a tool must not end the job
            log.exception("tool %s failed", name)
            result = ToolResult(f"internal error in {name}: {type(exc).__name__}: {exc}", True)
        return ToolResult(cap_text(result.content, self.max_output_chars), result.is_error)

    # -- Bash -------------------------------------------------------------------------

    def _bash(self, args: dict[str, Any]) -> ToolResult:
        command: str = args["command"]
        if not command.strip():
            return ToolResult("command is empty", True)
        if "timeout" in args:
            timeout = min(max(float(args["timeout"]) / 1000, 1.0), self.command_timeout)
        else:
            timeout = min(DEFAULT_BASH_TIMEOUT, self.command_timeout)
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            return ToolResult("Not run: the job's time limit has been reached.", True)
        cut_by_deadline = left is not None and left < timeout
        if left is not None:
            timeout = min(timeout, left)
        try:
            result = self.sandbox.run(command, timeout=timeout)
        finally:
            self.fs.invalidate_size()
        self.commands.append(CommandRecord(command, result.exit_code, result.timed_out))
        text = result.output.rstrip("\n") or "(no output)"
        if result.timed_out and cut_by_deadline:
            text += (
                f"\nCommand stopped after {timeout:.0f} s, when the job's time limit was"
                " reached, with every process it started."
            )
        elif result.timed_out:
            text += (
                f"\nCommand timed out after {timeout:g} s and was killed,"
                " with every process it started."
            )
        text += f"\nExit code: {result.exit_code}"
        return ToolResult(text, result.timed_out or result.over_quota or result.exit_code != 0)

    # -- Glob and Grep ----------------------------------------------------------------

    def _search_base(self, path: str | None) -> str:
        rel = self.fs.relative(path) if path else ""
        with self.fs.directory(rel):
            pass  # exists, is a directory and no symlink on the way
        return rel

    def _glob(self, args: dict[str, Any]) -> ToolResult:
        pattern: str = args["pattern"]
        if not pattern:
            return ToolResult("pattern is empty", True)
        base = self._search_base(args.get("path"))
        if os.path.isabs(pattern):
            pattern = self.fs.relative(pattern)
            base = ""
        regex = glob_regex(pattern)
        prefix = base + "/" if base else ""
        matched = [f for f in list_files(self.fs, base) if regex.match(f.rel[len(prefix) :])]
        if not matched:
            return ToolResult("No files found")
        ordered = newest_first(matched)
        lines = [self.fs.display(f.rel) for f in ordered[:MAX_GLOB_RESULTS]]
        if len(ordered) > MAX_GLOB_RESULTS:
            lines.append(
                f"(showing {MAX_GLOB_RESULTS} of {len(ordered)} files; use a more specific"
                " pattern or path)"
            )
        return ToolResult("\n".join(lines))

    def _grep(self, args: dict[str, Any]) -> ToolResult:
        pattern: str = args["pattern"]
        flags = re.IGNORECASE if args.get("-i") else 0
        re.compile(pattern, flags)  # a bad pattern is reported without starting a process
        rel = self.fs.relative(args["path"]) if args.get("path") else ""
        self.fs.lstat(rel)  # exists, and no symlink on the way to it
        context = int(args.get("-C", 0))
        request = GrepRequest(
            root=str(self.fs.root),
            base_rel=rel,
            pattern=pattern,
            output_mode=args.get("output_mode", "files_with_matches"),
            case_insensitive=bool(args.get("-i", False)),
            line_numbers=bool(args.get("-n", True)),
            before=int(args.get("-B", context)),
            after=int(args.get("-A", context)),
            glob=args.get("glob"),
            file_type=args.get("type"),
            head_limit=args.get("head_limit"),
            multiline=bool(args.get("multiline", False)),
        )
        if request.file_type is not None and request.file_type not in FILE_TYPES:
            return ToolResult(
                f"unknown file type {request.file_type!r}; known: {', '.join(FILE_TYPES)}",
                True,
            )
        try:
            return ToolResult(run_grep(request, timeout=self.grep_timeout))
        except TimeoutError:
            return ToolResult(
                f"Grep timed out after {self.grep_timeout:g} s; simplify the pattern"
                " (nested repetition backtracks badly) or narrow path, glob or type",
                True,
            )
        except RuntimeError as exc:
            return ToolResult(f"Grep failed: {exc}", True)

    # -- TodoWrite --------------------------------------------------------------------

    def _todo_write(self, args: dict[str, Any]) -> ToolResult:
        self.todos = [dict(item) for item in args["todos"]]
        if not self.todos:
            return ToolResult("Todo list cleared.")
        marks = {"completed": "[x]", "in_progress": "[>]", "pending": "[ ]"}
        lines = [f"Todo list updated ({len(self.todos)} items):"]
        for item in self.todos:
            suffix = " (in progress)" if item["status"] == "in_progress" else ""
            lines.append(f"{marks[item['status']]} {item['content']}{suffix}")
        return ToolResult("\n".join(lines))
