"""The Grep engine behind the Grep tool, run in a child process of its own.

Grep runs the model's regular expression in a separate Python process with a timeout
and a memory limit: Python's `re` cannot be interrupted and holds the GIL, so one
catastrophically backtracking pattern would otherwise freeze the whole worker. The child
is `python -P -m agents.tools.search`, so this module and what it imports (listing,
globs, the guarded worktree) stay standard library only. Which files are searched is
`agents.tools.listing`; globs and file types are `agents.tools.globs`.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from agents.text.capping import DEFAULT_MAX_CHARS, cap_text
from agents.tools.fs_guard import PathRefused, Worktree
from agents.tools.globs import path_filter
from agents.tools.listing import SAFE_PATH, ListedFile, list_files, newest_first

MAX_GREP_FILE_BYTES = 10 * 1024**2
GREP_MEMORY_BYTES = 2 * 1024**3
BINARY_SNIFF_BYTES = 8192
MAX_LINE_CHARS = 2000


def describe_error(exc: BaseException) -> str:
    """The message of a tool failure, without Python's `[Errno N]` decoration."""
    if isinstance(exc, re.error):
        return f"invalid regular expression: {exc}"
    if isinstance(exc, OSError) and exc.filename is None and exc.strerror:
        return exc.strerror
    return str(exc)


@dataclass(frozen=True)
class GrepRequest:
    root: str
    base_rel: str
    pattern: str
    output_mode: str = "files_with_matches"
    case_insensitive: bool = False
    line_numbers: bool = True
    before: int = 0
    after: int = 0
    glob: str | None = None
    file_type: str | None = None
    head_limit: int | None = None
    multiline: bool = False


def _candidates(worktree: Worktree, req: GrepRequest) -> list[ListedFile]:
    info = worktree.lstat(req.base_rel)
    if stat.S_ISREG(info.st_mode):  # a single file: searched even if ignored
        return [ListedFile(req.base_rel, info.st_mtime)]
    if stat.S_ISLNK(info.st_mode):
        raise PathRefused(
            f"{worktree.display(req.base_rel)} is a symbolic link; Grep does not follow symlinks"
        )
    if not stat.S_ISDIR(info.st_mode):
        raise PathRefused(f"{worktree.display(req.base_rel)} is not a file or directory")
    accept = path_filter(req.glob, req.file_type)
    prefix = req.base_rel + "/" if req.base_rel else ""
    return [f for f in list_files(worktree, req.base_rel) if accept(f.rel[len(prefix) :])]


def _text_of(worktree: Worktree, rel: str) -> str | None:
    try:
        data = worktree.read_bytes(rel, limit=MAX_GREP_FILE_BYTES)
    except (OSError, PathRefused):
        return None
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return None
    return data.decode("utf-8", errors="replace")


def _matching_lines(regex: re.Pattern[str], text: str, multiline: bool) -> Iterator[int]:
    """0-based numbers of lines that (part of) a match falls on."""
    if multiline:
        starts = [0] + [m.end() for m in re.finditer("\n", text)]
        seen: set[int] = set()
        for match in regex.finditer(text):
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
            for number in range(first, last + 1):
                if number not in seen:
                    seen.add(number)
                    yield number
        return
    for number, line in enumerate(text.split("\n")):
        if regex.search(line):
            yield number


def grep(req: GrepRequest) -> str:
    """The Grep tool's output text for `req` (runs in the isolated child)."""
    worktree = Worktree(Path(req.root))
    flags = re.IGNORECASE if req.case_insensitive else 0
    if req.multiline:
        flags |= re.MULTILINE | re.DOTALL
    regex = re.compile(req.pattern, flags)
    files = newest_first(_candidates(worktree, req))
    limit = req.head_limit
    if req.output_mode == "files_with_matches":
        hits: list[str] = []
        for f in files:
            text = _text_of(worktree, f.rel)
            if (
                text is not None
                and next(_matching_lines(regex, text, req.multiline), None) is not None
            ):
                hits.append(worktree.display(f.rel))
                if limit is not None and len(hits) >= limit:
                    break
        if not hits:
            return "No files found"
        return f"Found {len(hits)} file{'s' if len(hits) != 1 else ''}\n" + "\n".join(hits)
    if req.output_mode == "count":
        rows: list[str] = []
        total = 0
        for f in sorted(files, key=lambda f: f.rel):
            text = _text_of(worktree, f.rel)
            if text is None:
                continue
            count = sum(1 for _ in _matching_lines(regex, text, req.multiline))
            if count:
                total += count
                rows.append(f"{worktree.display(f.rel)}:{count}")
        if not rows:
            return "No matches found"
        shown = rows[:limit] if limit is not None else rows
        return "\n".join(shown) + (
            f"\n\nFound {total} matching line{'s' if total != 1 else ''}"
            f" in {len(rows)} file{'s' if len(rows) != 1 else ''}"
        )
    out: list[str] = []
    for f in sorted(files, key=lambda f: f.rel):
        if limit is not None and len(out) >= limit:
            break
        text = _text_of(worktree, f.rel)
        if text is None:
            continue
        matched = sorted(set(_matching_lines(regex, text, req.multiline)))
        if not matched:
            continue
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        wanted: dict[int, bool] = {}
        for m in matched:
            for k in range(max(m - req.before, 0), min(m + req.after, len(lines) - 1) + 1):
                wanted.setdefault(k, False)
            wanted[m] = True
        name = worktree.display(f.rel)
        previous = None
        for k in sorted(wanted):
            if previous is not None and k != previous + 1 and (req.before or req.after):
                out.append("--")
            line = lines[k] if k < len(lines) else ""
            if len(line) > MAX_LINE_CHARS:
                line = line[:MAX_LINE_CHARS] + " … [line truncated]"
            sep = ":" if wanted[k] else "-"
            out.append(
                f"{name}{sep}{k + 1}{sep}{line}" if req.line_numbers else f"{name}{sep}{line}"
            )
            previous = k
        if req.before or req.after:
            out.append("--")
    while out and out[-1] == "--":
        out.pop()
    if limit is not None:
        out = out[:limit]
    return "\n".join(out) if out else "No matches found"


def run_grep(req: GrepRequest, *, timeout: float) -> str:
    """`grep(req)` in a child Python process; raises TimeoutError or RuntimeError."""
    package_parent = str(Path(__file__).resolve().parents[2])  # holds `agents/`
    env = {"PATH": SAFE_PATH, "PYTHONPATH": package_parent, "LANG": "C.UTF-8"}
    # `-P` and cwd "/": with `-m` Python would otherwise put the working directory
    # first on sys.path, and a `json.py` the agent left in the worktree would run here,
    # on the host, outside the sandbox.
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "agents.tools.search"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd="/",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(json.dumps(req.__dict__).encode(), timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise TimeoutError(timeout) from None
    if proc.returncode != 0:
        raise RuntimeError(err.decode(errors="replace").strip()[-2000:] or "grep failed")
    reply = json.loads(out)
    if "error" in reply:
        raise PathRefused(reply["error"])
    return cap_text(str(reply["text"]), DEFAULT_MAX_CHARS)


def _child_main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GREP_MEMORY_BYTES, GREP_MEMORY_BYTES))
    req = GrepRequest(**json.loads(sys.stdin.buffer.read()))
    try:
        reply = {"text": grep(req)}
    except (PathRefused, OSError, re.error) as exc:
        reply = {"error": describe_error(exc)}
    sys.stdout.write(json.dumps(reply))


if __name__ == "__main__":
    _child_main()
