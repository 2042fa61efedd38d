"""The agent's tools — Bash, Read, Write, Edit, Glob, Grep, TodoWrite — as Claude Code has them.

Same names, same input fields and similar output, so role files and prompts written for
Claude Code work unchanged. Bash runs in the `Sandbox`; the file tools run on the host
and go through `agents.fs_guard`, which confines every path to the worktree without
following symlinks. `Toolbox.call` never raises for a tool failure: the model gets an
error result it can act on, because a failed `Edit` is information, not a crash.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.capping import DEFAULT_MAX_CHARS, cap_text
from agents.fs_guard import MAX_WRITE_BYTES, PathRefused, Worktree
from agents.sandbox import Sandbox, SandboxError
from agents.search import (
    FILE_TYPES,
    GrepRequest,
    describe_error,
    glob_regex,
    list_files,
    newest_first,
    run_grep,
)
from agents.toolresult import ToolResult

log = logging.getLogger(__name__)

DEFAULT_TOOLS = ("Bash", "Read", "Write", "Edit", "Glob", "Grep", "TodoWrite")
DEFAULT_READ_LINES = 2000
MAX_READ_LINE_CHARS = 2000
MAX_GLOB_RESULTS = 100
DEFAULT_BASH_TIMEOUT = 120.0
BINARY_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class CommandRecord:
    """One Bash command the agent ran: the PR body lists these as how it was verified."""

    command: str
    exit_code: int
    timed_out: bool


# -- schemas ---------------------------------------------------------------------------


def _obj(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_STR = {"type": "string"}
_INT = {"type": "integer", "minimum": 0}


def _schemas(command_timeout: float) -> dict[str, tuple[str, dict[str, Any]]]:
    max_ms = int(command_timeout * 1000)
    return {
        "Bash": (
            "Runs a bash command in the repository's working tree and returns its output"
            " (stdout and stderr merged) and exit code.\n"
            "- Runs in a sandbox: no network, only the working tree and /tmp are writable,"
            " HOME is /tmp, and each command starts a fresh shell (cd and exported"
            " variables do not carry over; background processes end with the command).\n"
            f"- Default timeout {int(min(DEFAULT_BASH_TIMEOUT, command_timeout) * 1000)} ms,"
            f" at most {max_ms} ms. Output beyond {DEFAULT_MAX_CHARS} characters is cut in"
            " the middle.\n"
            "- Prefer Read, Edit, Write, Glob and Grep over cat, sed, echo >, find and grep.",
            _obj(
                {
                    "command": {**_STR, "description": "The command to run"},
                    "timeout": {
                        "type": "number",
                        "description": f"Optional timeout in milliseconds (max {max_ms})",
                    },
                    "description": {
                        **_STR,
                        "description": "What this command does, in 5-10 words",
                    },
                },
                ["command"],
            ),
        ),
        "Read": (
            "Reads a text file from the working tree. Returns lines numbered like `cat -n`"
            f" (number, tab, text), up to {DEFAULT_READ_LINES} lines from the start unless"
            f" offset/limit are given; lines longer than {MAX_READ_LINE_CHARS} characters"
            " are truncated. file_path may be absolute (inside the working tree) or"
            " relative to it. Directories cannot be read: use Glob or Bash `ls`.",
            _obj(
                {
                    "file_path": {**_STR, "description": "The path of the file to read"},
                    "offset": {**_INT, "description": "The line number to start reading from"},
                    "limit": {**_INT, "description": "The number of lines to read"},
                },
                ["file_path"],
            ),
        ),
        "Write": (
            "Writes a file in the working tree, replacing it if it exists and creating"
            " missing parent directories. Prefer Edit for changes to existing files."
            " Files inside .git cannot be written.",
            _obj(
                {
                    "file_path": {**_STR, "description": "The path of the file to write"},
                    "content": {**_STR, "description": "The complete content of the file"},
                },
                ["file_path", "content"],
            ),
        ),
        "Edit": (
            "Replaces exact text in a file. old_string must match the file exactly"
            " (whitespace and indentation included) and be unique in it, unless"
            " replace_all is true. Read the file first to copy the text exactly.",
            _obj(
                {
                    "file_path": {**_STR, "description": "The path of the file to modify"},
                    "old_string": {**_STR, "description": "The text to replace"},
                    "new_string": {
                        **_STR,
                        "description": "The text to replace it with (must be different)",
                    },
                    "replace_all": {
                        "type": "boolean",
                        "description": "Replace every occurrence of old_string (default false)",
                    },
                },
                ["file_path", "old_string", "new_string"],
            ),
        ),
        "Glob": (
            "Finds files by glob pattern such as `**/*.py` or `src/**/*.{ts,tsx}`, newest"
            f" first, at most {MAX_GLOB_RESULTS}. Skips .git and git-ignored files.",
            _obj(
                {
                    "pattern": {**_STR, "description": "The glob pattern to match files against"},
                    "path": {
                        **_STR,
                        "description": "The directory to search in (default: the working tree)",
                    },
                },
                ["pattern"],
            ),
        ),
        "Grep": (
            "Searches file contents with a regular expression (Python `re` syntax, close"
            " to ripgrep's). Skips .git, git-ignored and binary files. output_mode"
            ' "files_with_matches" (default) lists files, "content" shows matching lines,'
            ' "count" counts matching lines per file.',
            _obj(
                {
                    "pattern": {**_STR, "description": "The regular expression to search for"},
                    "path": {
                        **_STR,
                        "description": "File or directory to search (default: the working tree)",
                    },
                    "glob": {
                        **_STR,
                        "description": 'Only files matching this glob, e.g. "*.js" or "*.{ts,tsx}"',
                    },
                    "type": {**_STR, "description": "File type, e.g. py, js, ts, go, rust"},
                    "output_mode": {
                        "type": "string",
                        "enum": ["content", "files_with_matches", "count"],
                        "description": "What to show (default files_with_matches)",
                    },
                    "-i": {"type": "boolean", "description": "Case-insensitive search"},
                    "-n": {
                        "type": "boolean",
                        "description": "Show line numbers in content mode (default true)",
                    },
                    "-A": {**_INT, "description": "Lines of context after each match"},
                    "-B": {**_INT, "description": "Lines of context before each match"},
                    "-C": {**_INT, "description": "Lines of context before and after"},
                    "head_limit": {
                        **_INT,
                        "description": "Show only the first N lines or entries",
                    },
                    "multiline": {
                        "type": "boolean",
                        "description": "Let . match newlines and patterns span lines",
                    },
                },
                ["pattern"],
            ),
        ),
        "TodoWrite": (
            "Creates or replaces the task list for this job. Use it to plan multi-step"
            " work and to show progress: exactly one task in_progress at a time, mark"
            " tasks completed as soon as they are done.",
            _obj(
                {
                    "todos": {
                        "type": "array",
                        "description": "The updated todo list",
                        "items": _obj(
                            {
                                "content": {**_STR, "minLength": 1},
                                "status": {
                                    "type": "string",
                                    "enum": ["pending", "in_progress", "completed"],
                                },
                                "activeForm": {**_STR, "minLength": 1},
                            },
                            ["content", "status"],
                        ),
                    }
                },
                ["todos"],
            ),
        ),
    }


def validate(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    """Problems with `value` against the small JSON Schema subset the tools use.

    `path` names the field for the model (`todos[0].status`); "" is the whole input.
    """
    where = f"field '{path}'" if path else "input"
    kind = schema.get("type")
    type_ok = {
        "object": isinstance(value, dict),
        "array": isinstance(value, list),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        None: True,
    }[kind]
    if not type_ok:
        return [f"{where} must be {'an' if kind in ('object', 'array', 'integer') else 'a'} {kind}"]
    problems: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where} must be one of {', '.join(map(str, schema['enum']))}")
    if "minimum" in schema and value < schema["minimum"]:
        problems.append(f"{where} must be at least {schema['minimum']}")
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(f"{where} must not be empty")
    inside = f" in {path}" if path else ""
    if kind == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"missing required field '{name}'{inside}")
        for name, item in value.items():
            if name in properties:
                problems += validate(properties[name], item, f"{path}.{name}" if path else name)
            elif schema.get("additionalProperties") is False:
                problems.append(
                    f"unknown field '{name}'{inside} (expected: {', '.join(properties)})"
                )
    if kind == "array" and "items" in schema:
        for index, item in enumerate(value):
            problems += validate(schema["items"], item, f"{path}[{index}]")
    return problems


# -- the toolbox -----------------------------------------------------------------------


class Toolbox:
    """The tools one role may use on one worktree, and what they did.

    `commands` records every Bash command (for the PR body); `todos` is the current
    TodoWrite list.
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
    ) -> None:
        allowed = tuple(dict.fromkeys(allowed))
        unknown = [name for name in allowed if name not in DEFAULT_TOOLS]
        if unknown:
            raise ValueError(
                f"unknown tool(s) {', '.join(unknown)};"
                f" Rolecall provides {', '.join(DEFAULT_TOOLS)}"
            )
        if command_timeout <= 0:
            raise ValueError("command_timeout must be positive")
        self.allowed = allowed
        owner = sandbox.run_as.ids if sandbox.run_as is not None else None
        self.fs = Worktree(worktree, max_bytes=max_worktree_bytes, owner=owner)
        self.sandbox = sandbox
        self.command_timeout = command_timeout
        self.grep_timeout = grep_timeout
        self.max_output_chars = max_output_chars
        self.commands: list[CommandRecord] = []
        self.todos: list[dict[str, Any]] = []
        self._schemas = _schemas(command_timeout)
        self._handlers: dict[str, Callable[[dict[str, Any]], ToolResult]] = {
            "Bash": self._bash,
            "Read": self._read,
            "Write": self._write,
            "Edit": self._edit,
            "Glob": self._glob,
            "Grep": self._grep,
            "TodoWrite": self._todo_write,
        }

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
        try:
            result = self.sandbox.run(command, timeout=timeout)
        finally:
            self.fs.invalidate_size()
        self.commands.append(CommandRecord(command, result.exit_code, result.timed_out))
        text = result.output.rstrip("\n") or "(no output)"
        if result.timed_out:
            text += (
                f"\nCommand timed out after {timeout:g} s and was killed,"
                " with every process it started."
            )
        text += f"\nExit code: {result.exit_code}"
        return ToolResult(text, result.timed_out or result.over_quota or result.exit_code != 0)

    # -- Read -------------------------------------------------------------------------

    def _read(self, args: dict[str, Any]) -> ToolResult:
        rel = self.fs.relative(args["file_path"])
        path = self.fs.display(rel)
        start = max(int(args.get("offset") or 1), 1)
        count = int(args["limit"]) if args.get("limit") else DEFAULT_READ_LINES
        if count <= 0:
            return ToolResult("limit must be at least 1", True)
        with self.fs.open_file(rel, os.O_RDONLY) as fd, os.fdopen(os.dup(fd), "rb") as handle:
            sniff = handle.peek(BINARY_SNIFF_BYTES)[:BINARY_SNIFF_BYTES]
            size = os.fstat(fd).st_size
            if b"\0" in sniff:
                return ToolResult(
                    f"{path} is a binary file ({size} bytes); Read shows text only."
                    " Inspect it with Bash (e.g. `file`, `xxd | head`).",
                    True,
                )
            if size == 0:
                return ToolResult(f"{path} exists but is empty.")
            out: list[str] = []
            budget = self.max_output_chars - 200
            number = 0
            stopped_at = None
            while True:
                line, long = _read_line(handle, MAX_READ_LINE_CHARS * 4)
                if line is None:
                    break
                number += 1
                if number < start:
                    continue
                if number >= start + count:
                    stopped_at = number
                    break
                text = line.decode("utf-8", errors="replace").rstrip("\r\n")
                if long or len(text) > MAX_READ_LINE_CHARS:
                    text = text[:MAX_READ_LINE_CHARS] + " … [line truncated]"
                entry = f"{number:>6}\t{text}"
                budget -= len(entry) + 1
                if budget < 0 and out:
                    stopped_at = number
                    out.append(f"… [output limit reached; continue with offset={number}]")
                    return ToolResult("\n".join(out))
                out.append(entry)
        if not out:
            return ToolResult(
                f"{path} has only {number} line{'s' if number != 1 else ''};"
                f" offset {start} is past the end."
            )
        if stopped_at is not None:
            out.append(f"… [file continues; read more with offset={stopped_at}]")
        return ToolResult("\n".join(out))

    # -- Write and Edit ---------------------------------------------------------------

    def _write(self, args: dict[str, Any]) -> ToolResult:
        rel = self.fs.relative(args["file_path"])
        self.fs.check_writable(rel)
        content: str = args["content"]
        data = content.encode("utf-8")
        created = self.fs.write_bytes(rel, data)
        lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
        verb = "Created" if created else "Overwrote"
        return ToolResult(f"{verb} {self.fs.display(rel)} ({lines} lines, {len(data)} bytes)")

    def _edit(self, args: dict[str, Any]) -> ToolResult:
        rel = self.fs.relative(args["file_path"])
        self.fs.check_writable(rel)
        path = self.fs.display(rel)
        old: str = args["old_string"]
        new: str = args["new_string"]
        replace_all = bool(args.get("replace_all", False))
        if old == new:
            return ToolResult("old_string and new_string are identical; nothing to change", True)
        try:
            data = self.fs.read_bytes(rel, limit=MAX_WRITE_BYTES)
        except FileNotFoundError:
            if old == "":
                self.fs.write_bytes(rel, new.encode("utf-8"))
                return ToolResult(f"Created {path}")
            return ToolResult(f"{path} does not exist; use Write to create a new file", True)
        if b"\0" in data[:BINARY_SNIFF_BYTES]:
            return ToolResult(f"{path} is a binary file; Edit works on text only", True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return ToolResult(f"{path} is not valid UTF-8; edit it with Bash instead", True)
        if old == "":
            if text:
                return ToolResult(
                    "old_string is empty but the file is not; give the exact text to replace,"
                    " or use Write to replace the whole file",
                    True,
                )
            self.fs.write_bytes(rel, new.encode("utf-8"), edit_of=len(data))
            return ToolResult(f"Wrote {path}")
        matches = text.count(old)
        if matches == 0:
            return ToolResult(
                f"old_string was not found in {path}. It must match the file exactly,"
                " including whitespace and indentation; Read the file and copy the text.",
                True,
            )
        if matches > 1 and not replace_all:
            return ToolResult(
                f"found {matches} matches of old_string in {path}; add surrounding context"
                " to make it unique, or set replace_all to true to replace every occurrence",
                True,
            )
        first = text.index(old)
        updated = text.replace(old, new) if replace_all else text.replace(old, new, 1)
        self.fs.write_bytes(rel, updated.encode("utf-8"), edit_of=len(data))
        replaced = matches if replace_all else 1
        header = (
            f"Edited {path}: replaced {replaced} occurrence{'s' if replaced != 1 else ''}"
            " of old_string."
        )
        return ToolResult(header + "\n" + _snippet(updated, first, len(new)))

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


def _read_line(handle: Any, max_bytes: int) -> tuple[bytes | None, bool]:
    """The next line (at most `max_bytes` of it) and whether it was longer; None at EOF."""
    line: bytes = handle.readline(max_bytes)
    if not line:
        return None, False
    if line.endswith(b"\n") or len(line) < max_bytes:
        return line, False
    while True:  # skip the rest of an overlong line without holding it in memory
        rest: bytes = handle.readline(65536)
        if not rest or rest.endswith(b"\n"):
            return line, True


def _snippet(text: str, position: int, length: int, context: int = 3) -> str:
    """Numbered lines around an edit, so the model sees the result without a Read."""
    lines = text.split("\n")
    first = text.count("\n", 0, position)
    last = first + text.count("\n", position, position + length)
    start, end = max(first - context, 0), min(last + context, len(lines) - 1)
    shown = []
    for index in range(start, end + 1):
        line = lines[index]
        if len(line) > MAX_READ_LINE_CHARS:
            line = line[:MAX_READ_LINE_CHARS] + " … [line truncated]"
        shown.append(f"{index + 1:>6}\t{line}")
    return "\n".join(shown)
