"""Which review threads a pushed commit really changed (invariant 8), as pure functions.

The fix playbook resolves a review thread only when the commit Rolecall pushed changed
the lines the thread is about; the agent saying "changed" is a claim, the diff is the
fact. The diff is the one between the PR head the agent started from and Rolecall's
commit on top of it, read host-side from the job's host-only git dir, so a thread's
line numbers (GitHub gives them for the file at the PR head) and the diff's old side are
the same file.

A thread counts as touched when a removed or replaced line lies in its range, or lines
were inserted right before, inside or right after it ("add a check before this" is
answered by an insertion above the line). Where GitHub gives no current line (the thread
is outdated because its line moved, it is on the base side of the diff, or it is about
the whole file) any change to the file counts, and so does a file git shows no hunks for
(binary).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_HUNK = re.compile(r"@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


@dataclass(frozen=True)
class FileChange:
    """How a commit changed one file, in the line numbers of the file before it."""

    removed: tuple[tuple[int, int], ...] = ()  # inclusive ranges of removed/replaced lines
    inserted_after: tuple[int, ...] = ()  # lines were inserted after these (0: at the top)
    whole_file: bool = False  # no hunks to read (binary): treat every line as changed


@dataclass(frozen=True)
class ThreadSpan:
    """The lines a review thread is about, in the file at the PR head."""

    path: str
    first: int | None  # None: no current line (outdated, base side, or the whole file)
    last: int | None


def file_change(patch: str) -> FileChange:
    """The changed lines of one file from its unified diff (any amount of context)."""
    removed: list[tuple[int, int]] = []
    inserted: list[int] = []
    old = 0
    hunks = 0
    replacing = False  # the current run of changed lines removed something: `+` replaces
    for line in patch.split("\n"):
        header = _HUNK.match(line)
        if header is not None:
            hunks += 1
            start, count = int(header.group(1)), int(header.group(2) or "1")
            # A hunk that removes nothing names the line it inserts after, not the next one.
            old, replacing = (start if count else start + 1), False
            continue
        if not hunks or not line:
            continue  # headers before the first hunk, or the patch's trailing newline
        if line[0] == "-":
            removed.append((old, old))
            old, replacing = old + 1, True
        elif line[0] == "+" and not replacing:
            inserted.append(old - 1)
        elif line[0] == " ":
            old, replacing = old + 1, False
    if not hunks:
        return FileChange(whole_file=True)
    return FileChange(tuple(_merge(removed)), tuple(sorted(set(inserted))))


def thread_span(comment: Any) -> ThreadSpan:
    """The span of the thread whose first comment is `comment` (GitHub's review comment).

    `line` is GitHub's current line at the PR head and is null when the thread is
    outdated; a comment on the base side (`side: LEFT`) counts lines of the base file,
    which this diff does not show, so both are whole-file spans.
    """
    path = str(comment.path)
    line = comment.line if isinstance(comment.line, int) else None
    if line is None or (getattr(comment, "side", None) or "RIGHT") != "RIGHT":
        return ThreadSpan(path, None, None)
    start = getattr(comment, "start_line", None)
    start_side = getattr(comment, "start_side", None) or "RIGHT"
    first = start if isinstance(start, int) and start_side == "RIGHT" and start <= line else line
    return ThreadSpan(path, first, line)


def touches(span: ThreadSpan, changes: Mapping[str, FileChange]) -> bool:
    """Whether `changes` (by path, files the commit changed) change the thread's lines."""
    change = changes.get(span.path)
    if change is None:
        return False
    if change.whole_file or span.first is None or span.last is None:
        return True
    first, last = span.first, span.last
    if any(start <= last and first <= end for start, end in change.removed):
        return True
    return any(first - 1 <= after <= last for after in change.inserted_after)


def _merge(lines: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(lines):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
