"""`rolecall jobs` as a table a person reads: one line per job, fitted to the terminal.

An outcome is written for GitHub: markdown, several lines, sometimes (in a ledger
written by an older Rolecall) an exception's repr. In the table it is one line of plain
text, cut at a word with "…" where the terminal ends; `--json` keeps it whole.
Text from the ledger may hold what an agent wrote, so control and format characters are
dropped before it reaches the terminal (no escape sequence is ever printed).
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

HEADER = ("ID", "STATE", "ROLE", "TARGET", "COST", "PR", "OUTCOME")
GAP = "  "
# The outcome column never gets narrower than this, however narrow the terminal.
MIN_OUTCOME = 24
# Longer roles and targets are cut (with "…") so the outcome keeps its room.
MAX_ROLE = 24
MAX_TARGET = 40

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_AUTOLINK = re.compile(r"<((?:https?|mailto):[^\s<>]*)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_FENCE = re.compile(r"^\s{0,3}(?:`{3,}|~{3,}).*$")
_BLOCK_MARKERS = re.compile(r"^\s*(?:>\s?)*(?:#{1,6}\s+|[-*+]\s+(?:\[[ xX]\]\s+)?|\d{1,9}[.)]\s+)?")
_IMAGE_OR_LINK = re.compile(r"!?\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])")
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_STRONG = re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
# Escaped characters wait here, in Unicode's supplementary private use area B, while the
# markup around them is removed (what the ledger holds there is dropped first).
_ESCAPED = 0x100000
_REPR_ESCAPE = re.compile(r"\\(.)")
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# `RuntimeError('boom')`, `httpx.ConnectError("refused", 3)`: how `repr(exc)` looks.
_EXCEPTION_REPR = re.compile(
    r"\b(?:[A-Za-z_][\w]*\.)*([A-Z]\w*(?:Error|Exception|Exit|Interrupt|Timeout|Failed))"
    r"""\((?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")?(?:,[^()]*)?\)"""
)


def render(jobs: Sequence[Mapping[str, Any]], width: int | None = None) -> list[str]:
    """The table's lines for `jobs` (JSON values, as `read_jobs` gives them), header first,
    no line wider than `width` (the terminal's, when not given) unless it is very narrow."""
    rows = [_cells(job) for job in jobs]
    columns = width or shutil.get_terminal_size().columns
    fixed = [
        max(display_width(row[index]) for row in [HEADER, *rows])
        for index in range(len(HEADER) - 1)
    ]
    room = columns - sum(fixed) - len(GAP) * len(fixed)
    longest = max(display_width(row[-1]) for row in [HEADER, *rows])
    widths = [*fixed, min(longest, max(room, MIN_OUTCOME))]
    lines = []
    for row in [HEADER, *rows]:
        cells = [*row[:-1], shorten(row[-1], widths[-1])]
        padded = [_pad(cell, cell_width) for cell, cell_width in zip(cells, widths, strict=True)]
        lines.append(GAP.join(padded).rstrip())
    return lines


def _cells(job: Mapping[str, Any]) -> tuple[str, ...]:
    repo = job.get("repo_full_name") or ""
    target = repo or "-"
    if job.get("issue_number") is not None:
        target += f"#{job['issue_number']}"
    cost = job.get("cost_usd")
    return (
        str(job.get("id", "?")),
        printable(str(job.get("state") or "-")),
        shorten(printable(str(job.get("role") or job.get("kind") or "-")), MAX_ROLE),
        _cut_middle(printable(target), MAX_TARGET),
        "unknown" if cost is None else f"${cost:.4f}",
        _pull_request(job.get("pr_url"), repo),
        plain_text(str(job.get("outcome") or "-")) or "-",
    )


def _pull_request(url: object, repo: str) -> str:
    """`#12` for a pull request in the job's own repository, else `owner/repo#12` or the URL."""
    if not isinstance(url, str) or not url:
        return "-"
    found = re.search(r"/([^/\s]+/[^/\s]+)/pull/(\d+)/?$", url)
    if found is None:
        return _cut_middle(printable(url), MAX_TARGET)
    where, number = found.groups()
    return f"#{number}" if where.casefold() == repo.casefold() else f"{where}#{number}"


def plain_text(text: str) -> str:
    """Markdown (as Rolecall posts it) as one line of plain text, exception reprs as
    `Name: message`, without characters that draw nothing or steer the terminal."""
    text = "".join(char for char in text if ord(char) < _ESCAPED)  # see _ESCAPED
    text = _EXCEPTION_REPR.sub(_plain_exception, text)
    text = _HTML_COMMENT.sub(" ", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    # An escaped character (`\*`) is kept aside, so no markup rule below reads it.
    text = _ESCAPE.sub(lambda match: chr(_ESCAPED + ord(match.group(1))), text)
    text = _join_blocks(text.splitlines())
    text = _IMAGE_OR_LINK.sub(r"\1", text)
    text = _CODE_SPAN.sub(lambda match: match.group(2).strip(), text)
    for _ in range(2):  # `**_both_**`
        text = _STRONG.sub(r"\2", text)
        text = _EMPHASIS.sub(r"\2", text)
    return printable("".join(chr(ord(c) - _ESCAPED) if ord(c) >= _ESCAPED else c for c in text))


def printable(text: str) -> str:
    """`text` on one line, without what draws nothing or steers the terminal."""
    return " ".join("".join(char for char in text if _shown(char)).split())


def _join_blocks(lines: list[str]) -> str:
    """Lines as one: a paragraph's lines with a space, list items, headings and
    paragraphs with "; " (unless the one before ends a sentence), fences left out."""
    text, new_block = "", False
    for line in lines:
        if _FENCE.match(line) or not line.strip():
            new_block = True
            continue
        marker = _BLOCK_MARKERS.match(line)
        prefix = marker.group() if marker else ""
        new_block = new_block or bool(prefix.replace(">", "").strip())  # a list item, a heading
        ends_sentence = text.rstrip()[-1:] in ("", ".", "!", "?", ":", ";", ",")
        text += (" " if ends_sentence or not new_block else "; ") + line[len(prefix) :].strip()
        new_block = "#" in prefix  # a heading is a block of its own
    return text


def _plain_exception(match: re.Match[str]) -> str:
    name = match.group(1)
    message = match.group(2) if match.group(2) is not None else match.group(3)
    if not message:
        return name
    unescaped = _REPR_ESCAPE.sub(r"\1", message)
    return f"{name}: {unescaped}"


def _shown(char: str) -> bool:
    """Whether a character is text in a table cell: not a control or format character, not
    an emoji (their width differs by terminal, and STATE says what they say)."""
    category = unicodedata.category(char)
    if category in ("Cc", "Cf", "Co", "Cn", "Cs", "So") and not char.isspace():
        return False
    return not 0xFE00 <= ord(char) <= 0xFE0F


def display_width(text: str) -> int:
    """Terminal columns `text` takes: wide (CJK) characters two, combining marks none."""
    return sum(_char_width(char) for char in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` columns: cut at the last word that fits, with "…"
    (mid-word only when not even the first word fits)."""
    if display_width(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    head = _fit(text, width - 1)
    # Where the cut falls just before a space, the last word is whole.
    whole = text[len(head)] == " " or " " not in head
    words = head if whole else head.rsplit(" ", 1)[0]
    return (words.rstrip(" ,.;:-—") or head) + "…"


def _cut_middle(text: str, width: int) -> str:
    """`text` in at most `width` columns, its end kept (`a-long-org/…/repo#12`)."""
    if display_width(text) <= width:
        return text
    tail = _fit(text[::-1], width // 2)[::-1]
    return _fit(text, width - 1 - display_width(tail)) + "…" + tail


def _fit(text: str, width: int) -> str:
    """The longest start of `text` that takes at most `width` columns."""
    used = 0
    for index, char in enumerate(text):
        used += _char_width(char)
        if used > width:
            return text[:index]
    return text


def _pad(cell: str, width: int) -> str:
    return cell + " " * max(0, width - display_width(cell))
