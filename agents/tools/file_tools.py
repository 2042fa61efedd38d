"""The file tools Read, Write and Edit, on the host, through `agents.tools.fs_guard`.

They never run in the sandbox: every path goes through the guarded `Worktree`, which
confines it to the worktree without following symlinks and keeps writes within the
worktree's size budget. Failures the model can act on come back as error results;
`PathRefused` and `OSError` are turned into results by `Toolbox.call`.
"""

from __future__ import annotations

import os
from typing import Any

from agents.tools.fs_guard import MAX_WRITE_BYTES, Worktree
from agents.tools.result import ToolResult
from agents.tools.schemas import DEFAULT_READ_LINES, MAX_READ_LINE_CHARS

BINARY_SNIFF_BYTES = 8192


def read_file(fs: Worktree, args: dict[str, Any], max_output_chars: int) -> ToolResult:
    """Read: numbered lines of a text file, within `max_output_chars` (less a margin)."""
    rel = fs.relative(args["file_path"])
    path = fs.display(rel)
    start = max(int(args.get("offset") or 1), 1)
    count = int(args["limit"]) if args.get("limit") else DEFAULT_READ_LINES
    if count <= 0:
        return ToolResult("limit must be at least 1", True)
    with fs.open_file(rel, os.O_RDONLY) as fd, os.fdopen(os.dup(fd), "rb") as handle:
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
        budget = max_output_chars - 200
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


def write_file(fs: Worktree, args: dict[str, Any]) -> ToolResult:
    """Write: create or replace a whole file."""
    rel = fs.relative(args["file_path"])
    fs.check_writable(rel)
    content: str = args["content"]
    data = content.encode("utf-8")
    created = fs.write_bytes(rel, data)
    lines = content.count("\n") + (0 if content.endswith("\n") or not content else 1)
    verb = "Created" if created else "Overwrote"
    return ToolResult(f"{verb} {fs.display(rel)} ({lines} lines, {len(data)} bytes)")


def edit_file(fs: Worktree, args: dict[str, Any]) -> ToolResult:
    """Edit: replace exact text, once or everywhere, and show the lines around it."""
    rel = fs.relative(args["file_path"])
    fs.check_writable(rel)
    path = fs.display(rel)
    old: str = args["old_string"]
    new: str = args["new_string"]
    replace_all = bool(args.get("replace_all", False))
    if old == new:
        return ToolResult("old_string and new_string are identical; nothing to change", True)
    try:
        data = fs.read_bytes(rel, limit=MAX_WRITE_BYTES)
    except FileNotFoundError:
        if old == "":
            fs.write_bytes(rel, new.encode("utf-8"))
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
        fs.write_bytes(rel, new.encode("utf-8"), edit_of=len(data))
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
    fs.write_bytes(rel, updated.encode("utf-8"), edit_of=len(data))
    replaced = matches if replace_all else 1
    header = (
        f"Edited {path}: replaced {replaced} occurrence{'s' if replaced != 1 else ''}"
        " of old_string."
    )
    return ToolResult(header + "\n" + _snippet(updated, first, len(new)))


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
