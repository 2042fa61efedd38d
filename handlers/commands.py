"""Slash commands as a reader of the rendered comment sees them.

A command is `/name` starting a line of a top-level paragraph, with at most three spaces
before it, in the comment as CommonMark reads it (GitHub renders with cmark-gfm). Text the reader
does not see as such a line never triggers anything: fenced and indented code, inline code
spans, block quotes (and their lazy continuation lines), list items, HTML comments and
other HTML, link destinations and titles, and commands split or preceded by zero-width or
bidi characters (`/imple\\u200bment` is not `/implement`). This is invariant 2: Rolecall
acts only on a command its sender could see they were giving.

The block structure follows the CommonMark parsing strategy (containers matched line by
line, lazy continuation, leaf blocks) for the constructs that can hide a line. Where this
scanner might disagree with GitHub, it errs towards "not a command": HTML comments are
read both as CommonMark 0.29 (cmark-gfm) and as 0.31 define them, and a second, simpler
fence tracker must agree that a line is outside code before it counts. GFM tables are not
modelled (a table row reads as paragraph text, which is visible either way).

The block phase is handlers.markdown_blocks, the inline one handlers.markdown_inline;
this module turns what they leave visible into `Command`s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agents.text.sanitize import sanitize
from handlers.markdown_blocks import Block, BlockScanner, naive_fenced_lines
from handlers.markdown_inline import InlineScan


@dataclass(frozen=True)
class Command:
    """One visible command: its lowercased name, the notes after it, its 1-based line."""

    name: str
    notes: str
    line: int


def parse_commands(text: str) -> list[Command]:
    """The visible commands in a comment body, in order.

    Notes are the rest of the command's line, then the following lines of the same
    paragraph up to the next command, sanitized (hidden text removed) and stripped.
    """
    paragraphs, in_code = _top_level_paragraphs(text)
    commands: list[Command] = []
    for paragraph in paragraphs:
        commands += _paragraph_commands(paragraph, in_code)
    commands.sort(key=lambda command: command.line)
    return commands


# Where a command could start: a line of the comment whose first character other than
# spaces and tabs is "/". Every visible command is such a line (see `may_hold_command`).
_MAYBE_COMMAND_LINE = re.compile(r"(?:\A|[\r\n])[ \t]*/")


def may_hold_command(text: str) -> bool:
    """False only when `parse_commands(text)` is certainly empty, at a fraction of its cost.

    A command is `/name` after at most three spaces at the start of a line of a top-level
    paragraph, and a paragraph line is the comment's line as written, its tabs expanded:
    so a comment none of whose lines (split at CR, LF or CRLF, as `parse_commands` splits
    them) starts with spaces or tabs and then "/" holds none.
    """
    return "/" in text and _MAYBE_COMMAND_LINE.search(text) is not None


def visible_paragraphs(text: str) -> list[tuple[list[int], str]]:
    """Each top-level paragraph a reader sees as text: its line numbers, and its lines
    joined (leading spaces stripped), for an inline scan (handlers.mentions).

    Lines a fence might hide are blanked (they keep their place, so positions still map
    to line numbers); link reference definitions, which never render, are skipped.
    """
    paragraphs, in_code = _top_level_paragraphs(text)
    found: list[tuple[list[int], str]] = []
    for paragraph in paragraphs:
        stripped = [text.lstrip(" ") for _, text in paragraph.lines]
        if stripped[0].startswith("[") and "]:" in "".join(stripped):
            continue
        shown = [
            "" if number in in_code else line
            for (number, _), line in zip(paragraph.lines, stripped, strict=True)
        ]
        found.append(([number for number, _ in paragraph.lines], "\n".join(shown)))
    return found


def _top_level_paragraphs(text: str) -> tuple[list[Block], set[int]]:
    """The comment's top-level paragraphs, and the lines a fence might hide."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    scanner = BlockScanner()
    for number, line in enumerate(lines, start=1):
        scanner.feed(number, line.expandtabs(4))
    scanner.finish()
    return scanner.paragraphs, naive_fenced_lines(lines)


def find_command(text: str, name: str) -> Command | None:
    """The first visible `/name` command in `text`, if there is one."""
    return next((c for c in parse_commands(text) if c.name == name), None)


# --- which lines of a paragraph are visible commands ------------------------------------

_COMMAND_LINE = re.compile(r" {0,3}/([a-z][a-z0-9-]*)(?= |$)", re.ASCII | re.IGNORECASE)


def _paragraph_commands(paragraph: Block, in_code: set[int]) -> list[Command]:
    """The commands on the lines of one top-level paragraph whose start is visible."""
    candidates = [
        (index, match)
        for index, (number, text) in enumerate(paragraph.lines)
        if number not in in_code and (match := _COMMAND_LINE.match(text))
    ]
    if not candidates:
        return []
    stripped = [text.lstrip(" ") for _, text in paragraph.lines]
    if stripped[0].startswith("[") and "]:" in "".join(stripped):
        return []  # may be (or start with) link reference definitions, which never render
    starts: list[int] = []
    offset = 0
    for text in stripped:
        starts.append(offset)
        offset += len(text) + 1
    joined = "\n".join(stripped)
    hidden = InlineScan(joined, modern=False).hidden_spans()
    hidden += InlineScan(joined, modern=True).hidden_spans()
    covered = _covered([starts[index] for index, _ in candidates], hidden)
    found = [c for c, is_covered in zip(candidates, covered, strict=True) if not is_covered]

    commands: list[Command] = []
    for position, (index, match) in enumerate(found):
        until = found[position + 1][0] if position + 1 < len(found) else len(stripped)
        raw_notes = "\n".join([match.string[match.end() :], *stripped[index + 1 : until]])
        commands.append(
            Command(
                name=match.group(1).lower(),
                notes=sanitize(raw_notes).strip(),
                line=paragraph.lines[index][0],
            )
        )
    return commands


def _covered(points: list[int], spans: list[tuple[int, int]]) -> list[bool]:
    """For each point (ascending), whether some span (a, b) has a < point < b."""
    spans = sorted(spans)
    result: list[bool] = []
    reach = -1
    next_span = 0
    for point in points:
        while next_span < len(spans) and spans[next_span][0] < point:
            reach = max(reach, spans[next_span][1])
            next_span += 1
        result.append(reach > point)
    return result
