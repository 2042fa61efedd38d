"""Paths an agent's change may touch only when `.github/rolecall.yml` grants its role.

Some files are not code a reviewer reads as code: everything under `.github/` (workflows,
and composite actions that workflows run with the repository's secrets), CODEOWNERS
(who must approve), and the files that steer coding agents (`AGENTS.md`, `CLAUDE.md`,
`.claude/`, `.github/agents/`, Copilot's instruction files). A change there is refused
unless the role is granted it (`roles.<name>.may_change`); workflows are refused always,
because Rolecall never holds the `workflows` permission.

Matching is deliberately blunt, so that the same file cannot slip through under another
spelling: paths are compared case-insensitively (CODEOWNERS lookup, and checkouts on
macOS and Windows runners, ignore case), `\\` counts as a separator, `.` and empty
segments and trailing dots or spaces (which NTFS drops) are removed. A rename is a change
to both its paths: callers pass both (`git diff --no-renames`, or `paths_of_name_status`).

Everything here is a pure function; the text it returns is inert markdown (paths sit in
code spans wide enough for any backticks, control characters are spelled out).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

WORKFLOW = "workflow"
CODEOWNERS = "code owners"
AGENT_INSTRUCTIONS = "agent instructions"
GITHUB_CONFIG = "GitHub configuration"

# Where GitHub looks for CODEOWNERS (the first one found wins, so each is protected).
_CODEOWNERS_FILES = frozenset({"codeowners", "docs/codeowners", ".github/codeowners"})
# Agent instruction files and directories, at any depth (nested ones steer agents too).
_INSTRUCTION_NAMES = frozenset({"agents.md", "claude.md"})
_INSTRUCTION_DIRS = frozenset({".claude"})
# Under `.github/`: what Copilot and other agents read as instructions.
_GITHUB_INSTRUCTIONS = frozenset(
    {"agents", "copilot-instructions.md", "instructions", "chatmodes", "prompts"}
)
_LISTED = 10


def _fold(text: str) -> str:
    """One spelling per file for case-blind comparison.

    Upper-casing first catches letters NTFS's case table maps onto ASCII (dotless `ı`
    upper-cases to `I`), casefolding then catches the rest (`ſ`, the Kelvin sign).
    Folding too much only ever refuses more.
    """
    return text.upper().casefold()


def _segments(path: str) -> list[str]:
    """`path` as its segments: `\\` splits too; `.`, empty segments and trailing dots or
    spaces go; `..` removes the segment before it (never above the root)."""
    out: list[str] = []
    for raw in path.replace("\\", "/").split("/"):
        segment = raw.rstrip(" .") if raw not in (".", "..") else raw
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
            continue
        out.append(segment)
    return out


def normalize(path: str) -> str:
    """The path as compared: normalized segments, case folded."""
    return "/".join(_fold(segment) for segment in _segments(path))


def protected_kind(path: str) -> str | None:
    """Why `path` is protected (WORKFLOW, CODEOWNERS, …), or None for an ordinary path."""
    parts = normalize(path).split("/")
    if parts == [""]:
        return None
    if parts[0] == ".github" and len(parts) > 1 and parts[1] == "workflows":
        return WORKFLOW
    if "/".join(parts) in _CODEOWNERS_FILES:
        return CODEOWNERS
    if parts[0] == ".github" and len(parts) > 1 and parts[1] in _GITHUB_INSTRUCTIONS:
        return AGENT_INSTRUCTIONS
    if parts[-1] in _INSTRUCTION_NAMES or _INSTRUCTION_DIRS.intersection(parts[:-1]):
        return AGENT_INSTRUCTIONS
    if parts[0] == ".github":
        return GITHUB_CONFIG
    return None


# --- grants ----------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    """A root-anchored glob: `*` and `?` within a segment, `**` across segments.

    No character classes: `[` is an ordinary character, so a grant never means more
    than it reads as.
    """
    parts: list[str] = []
    segments = normalize(pattern).split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]*/)*")
            continue
        body = "".join(
            "[^/]*" if ch == "*" else "[^/]" if ch == "?" else re.escape(ch) for ch in segment
        )
        parts.append(body if last else body + "/")
    return re.compile("".join(parts), re.DOTALL)


def grants_match(patterns: Iterable[str], path: str) -> bool:
    """Whether one of `patterns` grants `path`: it matches the path or a directory of it."""
    target = normalize(path)
    prefixes = target.split("/")
    candidates = ["/".join(prefixes[: end + 1]) for end in range(len(prefixes))]
    return any(
        _compile(pattern).fullmatch(candidate) is not None
        for pattern in patterns
        if pattern.strip()
        for candidate in candidates
    )


def pattern_problem(pattern: str) -> str | None:
    """What is wrong with a `may_change` pattern, for the config comment; None if fine."""
    if "\n" in pattern or "\r" in pattern:
        return "a path pattern is one line"
    if not _segments(pattern):
        return "names no path; write one like `.github/actions/**`"
    if ".." in pattern.replace("\\", "/").split("/"):
        return "a path pattern may not contain `..`: patterns start at the repository root"
    if protected_kind(pattern.replace("*", "x").replace("?", "x")) == WORKFLOW:
        return (
            "Rolecall never changes GitHub Actions workflows (that needs the `workflows` "
            "permission, which it never requests), so this cannot be granted; remove it"
        )
    return None


def protected_changes(changed_paths: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The changed paths that must not be pushed: protected and not granted, or workflows.

    In the order given, each once. `granted` is the role's `may_change` patterns.
    """
    patterns = tuple(granted)
    return [
        path
        for path in _unique(changed_paths)
        if (kind := protected_kind(path)) is not None
        and (kind == WORKFLOW or not grants_match(patterns, path))
    ]


def granted_changes(changed_paths: Iterable[str], granted: Iterable[str]) -> list[str]:
    """The changed protected paths the role's grant allows (listed atop the PR body)."""
    patterns = tuple(granted)
    return [
        path
        for path in _unique(changed_paths)
        if protected_kind(path) not in (None, WORKFLOW) and grants_match(patterns, path)
    ]


def paths_of_name_status(raw: str) -> list[str]:
    """Every path in `git diff --name-status -z` output: both sides of a rename or copy."""
    fields = raw.split("\0")
    paths: list[str] = []
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        width = 2 if status[:1] in ("R", "C") else 1
        paths += fields[index + 1 : index + 1 + width]
        index += 1 + width
    return paths


# --- what is said ----------------------------------------------------------------------------


def refusal(refused: Sequence[str], role: str) -> str:
    """Why nothing was pushed, for the tracking comment: each path, why, how to grant it."""
    listed = ", ".join(f"{code(path)} ({protected_kind(path)})" for path in refused[:_LISTED])
    if len(refused) > _LISTED:
        listed += f" and {len(refused) - _LISTED} more"
    text = f"the change touches protected paths: {listed}, so nothing was pushed."
    if all(protected_kind(path) == WORKFLOW for path in refused):
        return (
            f"{text} Rolecall never changes GitHub Actions workflows (that needs the "
            "`workflows` permission, which it never requests). Make workflow changes yourself."
        )
    return (
        f"{text} Files there steer CI (which runs with the repository's secrets), code "
        "ownership or coding agents, so a role changes them only when `.github/rolecall.yml` "
        f"on the default branch grants it: under `roles:` → {code(role + ':')} add "
        '`may_change:` with the paths, e.g. `may_change: [".github/actions/**"]`. '
        "Workflows (`.github/workflows/`) can never be granted."
    )


def granted_note(granted: Sequence[str], role: str) -> str:
    """The warning at the top of the PR body listing granted protected changes; "" if none."""
    if not granted:
        return ""
    lines = [
        "> [!WARNING]",
        f"> This pull request changes protected paths, which the {code(role)} role may change "
        f"because `.github/rolecall.yml` grants it ({code(f'roles.{role}.may_change')}). "
        "They steer CI, code ownership or coding agents: review them with care.",
        ">",
    ]
    lines += [f"> - {code(path)} ({protected_kind(path)})" for path in granted]
    return "\n".join(lines)


def code(text: str) -> str:
    """`text` as an inline code span nothing can break out of.

    Control characters are spelled out (a path may hold a newline), and the fence is one
    backtick longer than the longest run inside, padded with spaces when needed.
    """
    shown = "".join(ch if ch.isprintable() or ch == " " else f"\\x{ord(ch):02x}" for ch in text)
    longest = max((len(run) for run in re.findall("`+", shown)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest or shown.startswith(" ") or shown.endswith(" ") else ""
    return f"{fence}{pad}{shown}{pad}{fence}"


def _unique(paths: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for path in paths:
        if path and path not in seen:
            seen.add(path)
            out.append(path)
    return out
