"""File listing, glob matching and the Grep engine behind the Glob and Grep tools.

Listing respects `.gitignore` by asking git (`ls-files --cached --others
--exclude-standard`) with everything repository-controlled that could run a program
switched off: no fsmonitor, no hooks, no system or global config, and `GIT_DIR` /
`GIT_COMMON_DIR` pinned so a `.git/commondir` planted by the agent cannot point git at
a config of its choosing. Without a `.git` directory it walks the tree instead.

Grep runs the model's regular expression in a separate Python process with a timeout
and a memory limit: Python's `re` cannot be interrupted and holds the GIL, so one
catastrophically backtracking pattern would otherwise freeze the whole worker.
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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.capping import DEFAULT_MAX_CHARS, cap_text
from agents.fs_guard import PathRefused, Worktree

SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_GREP_FILE_BYTES = 10 * 1024**2
GREP_MEMORY_BYTES = 2 * 1024**3
BINARY_SNIFF_BYTES = 8192
MAX_LINE_CHARS = 2000

FILE_TYPES: dict[str, tuple[str, ...]] = {
    "c": ("*.c", "*.h"),
    "cpp": ("*.cpp", "*.cc", "*.cxx", "*.hpp", "*.hh", "*.hxx", "*.h"),
    "cs": ("*.cs",),
    "css": ("*.css", "*.scss", "*.sass", "*.less"),
    "go": ("*.go",),
    "html": ("*.html", "*.htm"),
    "java": ("*.java",),
    "js": ("*.js", "*.mjs", "*.cjs", "*.jsx"),
    "json": ("*.json",),
    "kotlin": ("*.kt", "*.kts"),
    "md": ("*.md", "*.markdown"),
    "php": ("*.php",),
    "py": ("*.py", "*.pyi"),
    "rb": ("*.rb",),
    "rust": ("*.rs",),
    "sh": ("*.sh", "*.bash", "*.zsh"),
    "sql": ("*.sql",),
    "swift": ("*.swift",),
    "toml": ("*.toml",),
    "ts": ("*.ts", "*.tsx", "*.mts", "*.cts"),
    "yaml": ("*.yml", "*.yaml"),
}


def describe_error(exc: BaseException) -> str:
    """The message of a tool failure, without Python's `[Errno N]` decoration."""
    if isinstance(exc, re.error):
        return f"invalid regular expression: {exc}"
    if isinstance(exc, OSError) and exc.filename is None and exc.strerror:
        return exc.strerror
    return str(exc)


# -- listing -------------------------------------------------------------------------


def git_environment(root: Path) -> dict[str, str]:
    """An environment for host-side git that ignores everything the agent could plant."""
    git_dir = str(root / ".git")
    return {
        "PATH": SAFE_PATH,
        "HOME": "/nonexistent",
        "LC_ALL": "C",
        "GIT_DIR": git_dir,
        "GIT_COMMON_DIR": git_dir,
        "GIT_WORK_TREE": str(root),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_OPTIONAL_LOCKS": "0",
        "GIT_TERMINAL_PROMPT": "0",
    }


SAFE_GIT_OPTIONS = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.untrackedCache=false",
    "-c", "core.quotePath=false",
)  # fmt: skip


def _git_listing(root: Path, base_rel: str) -> list[str] | None:
    git_dir = root / ".git"
    try:
        if not stat.S_ISDIR(os.lstat(git_dir).st_mode):
            return None
    except OSError:
        return None
    argv = ["git", *SAFE_GIT_OPTIONS, "ls-files", "-z", "--cached", "--others",
            "--exclude-standard", "--", base_rel or "."]  # fmt: skip
    try:
        done = subprocess.run(
            argv, cwd=root, env=git_environment(root), capture_output=True, timeout=60,
            check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    names = {os.fsdecode(n) for n in done.stdout.split(b"\0") if n}
    return sorted(names)


def _walk_listing(root: Path, base_rel: str) -> list[str]:
    found: list[str] = []
    start = root / base_rel if base_rel else root
    for dirpath, dirnames, filenames in os.walk(start, followlinks=False):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        rel_dir = os.path.relpath(dirpath, root)
        for name in filenames:
            found.append(name if rel_dir == "." else f"{rel_dir}/{name}")
    return sorted(found)


@dataclass(frozen=True)
class ListedFile:
    rel: str
    mtime: float


def list_files(worktree: Worktree, base_rel: str) -> list[ListedFile]:
    """Regular files under directory `base_rel`: not in `.git`, not git-ignored, no symlinks."""
    root = worktree.root
    names = _git_listing(root, base_rel)
    if names is None:
        names = _walk_listing(root, base_rel)
    files: list[ListedFile] = []
    prefix = base_rel + "/" if base_rel else ""
    for rel in names:
        if not rel.startswith(prefix) or ".git" in rel.split("/"):
            continue
        try:
            info = os.lstat(root / rel)
        except OSError:
            continue  # tracked but deleted
        if stat.S_ISREG(info.st_mode):
            files.append(ListedFile(rel, info.st_mtime))
    return files


def newest_first(files: Iterable[ListedFile]) -> list[ListedFile]:
    return sorted(files, key=lambda f: (-f.mtime, f.rel))


# -- globs ---------------------------------------------------------------------------


def expand_braces(pattern: str) -> list[str]:
    """`a.{js,ts}` → [`a.js`, `a.ts`], nested braces included; unbalanced ones are literal."""
    depth = 0
    start = -1
    for i, ch in enumerate(pattern):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                inner = pattern[start + 1 : i]
                options, level, last = [], 0, 0
                for j, c in enumerate(inner):
                    if c == "{":
                        level += 1
                    elif c == "}":
                        level -= 1
                    elif c == "," and level == 0:
                        options.append(inner[last:j])
                        last = j + 1
                options.append(inner[last:])
                if len(options) == 1:
                    continue
                head, tail = pattern[:start], pattern[i + 1 :]
                result: list[str] = []
                for option in options:
                    result.extend(expand_braces(head + option + tail))
                return result
    return [pattern]


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**", i):
            at_start = i == 0 or pattern[i - 1] == "/"
            j = i + 2
            if at_start and j < n and pattern[j] == "/":
                out.append("(?:.*/)?")
                i = j + 1
                continue
            if at_start and j == n:
                out.append(".*")
                i = j
                continue
            out.append("[^/]*")
            i = j
        elif ch == "*":
            out.append("[^/]*")
            i += 1
        elif ch == "?":
            out.append("[^/]")
            i += 1
        elif ch == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                out.append(re.escape(ch))
                i += 1
                continue
            body = pattern[i + 1 : end]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(ch))
            i += 1
    return "".join(out)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex that fully matches the relative paths `pattern` selects.

    `*` and `?` stay within one path segment, `**` spans segments, `{a,b}` and
    `[abc]` work as in shells; dotfiles are not special.
    """
    return re.compile("|".join(f"(?:{_translate(p)})" for p in expand_braces(pattern)) + r"\Z")


def path_filter(glob: str | None, file_type: str | None) -> Any:
    """A predicate on relative paths for Grep's `glob` (ripgrep-style) and `type`."""
    checks: list[tuple[bool, re.Pattern[str], bool]] = []
    for raw in (glob or "").split():
        negate = raw.startswith("!")
        body = raw[1:] if negate else raw
        checks.append((negate, glob_regex(body.lstrip("/")), "/" in body))
    type_regexes = [glob_regex(g) for g in FILE_TYPES.get(file_type or "", ())]

    def accept(rel: str) -> bool:
        base = rel.rsplit("/", 1)[-1]
        if type_regexes and not any(r.match(base) for r in type_regexes):
            return False
        positive = [c for c in checks if not c[0]]
        if positive and not any(r.match(rel if full else base) for _, r, full in positive):
            return False
        return not any(r.match(rel if full else base) for neg, r, full in checks if neg)

    return accept


# -- grep ------------------------------------------------------------------------------


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
    package_parent = str(Path(__file__).resolve().parent.parent)
    env = {"PATH": SAFE_PATH, "PYTHONPATH": package_parent, "LANG": "C.UTF-8"}
    # `-P` and cwd "/": with `-m` Python would otherwise put the working directory
    # first on sys.path, and a `json.py` the agent left in the worktree would run here,
    # on the host, outside the sandbox.
    proc = subprocess.Popen(
        [sys.executable, "-P", "-m", "agents.search"],
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
