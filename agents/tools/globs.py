"""Glob patterns as Claude Code reads them, for the Glob tool and Grep's `glob`/`type`.

`*` and `?` stay within one path segment, `**` spans segments, `{a,b}` and `[abc]` work
as in shells; dotfiles are not special. Patterns become Python regular expressions
matched against paths relative to the searched directory.
"""

from __future__ import annotations

import re
from typing import Any

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
