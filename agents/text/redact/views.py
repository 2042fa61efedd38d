"""Views of a text with some stretches removed, and the way back to the original.

A secret rarely arrives tidy: it may be wrapped in ANSI colour codes, folded over lines,
or sit inside a JSON string whose quotes are escaped. Searching a view with those
stretches removed finds it whole; `View.original` maps every hit back to the characters
of the text that was asked about, so the whole disguise is what gets redacted.
"""

from __future__ import annotations

import bisect
import re

Span = tuple[int, int]

# CSI (colours, cursor), OSC (titles, hyperlinks) and two-character escapes; also as
# they look once JSON-encoded (`\u001b[31m`), as in a transcript line.
ANSI = (
    r"(?:\x1b|\\u001b|\\x1b|\\033)"
    r"(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
)
# The base view: no colour codes, and no backslashes escaping a quote (a transcript
# line is JSON, so `"password": "…"` in a file the agent read is `\"password\": \"…\"`).
BASE_DROP = re.compile(ANSI + r"""|(?<!\\)\\+(?=["'])""")
# A line break with the blanks (and a Markdown quote mark) around it, raw or
# JSON-escaped: without them a folded token reads whole again.
JOIN_DROP = re.compile(r"[ \t]*(?:\r?\n|\\r\\n|\\n)[ \t>]*")
# The same, also dropping one diff marker at the start of the next line, so a blob
# folded over the `+` lines of a diff reads whole again.
DIFF_JOIN_DROP = re.compile(r"[ \t]*(?:\r?\n[+\-]?|\\r\\n|\\n)[ \t>]*")
_DIFF_LINE = re.compile(r"\n[+\-]")
_LINE_BREAK = re.compile(r"\n|\\n")


class View:
    """`text` with every match of `drop` removed; `parent` is the view `text` came from."""

    def __init__(self, text: str, drop: re.Pattern[str], parent: View | None = None) -> None:
        self.parent = parent
        parts: list[str] = []
        # (start in this view, start in `text`) of each kept stretch.
        self._view_starts: list[int] = []
        self._source_starts: list[int] = []
        # Positions in this view where something was removed.
        self.breaks: list[int] = []
        position = length = 0
        for match in drop.finditer(text):
            if match.start() == match.end():
                continue
            length += self._keep(parts, text, position, match.start(), length)
            position = match.end()
            if not self.breaks or self.breaks[-1] != length:
                self.breaks.append(length)
        self._keep(parts, text, position, len(text), length)
        self.text = "".join(parts)

    @property
    def removed(self) -> bool:
        return bool(self.breaks)

    def _keep(self, parts: list[str], text: str, start: int, end: int, at: int) -> int:
        if end <= start:
            return 0
        parts.append(text[start:end])
        self._view_starts.append(at)
        self._source_starts.append(start)
        return end - start

    def original(self, start: int, end: int) -> Span:
        """The span of the original text covering this view's characters start..end."""
        first = bisect.bisect_right(self._view_starts, start) - 1
        last = bisect.bisect_right(self._view_starts, end - 1) - 1
        span = (
            self._source_starts[first] + start - self._view_starts[first],
            self._source_starts[last] + (end - 1) - self._view_starts[last] + 1,
        )
        return self.parent.original(*span) if self.parent is not None else span

    def breaks_within(self, start: int, end: int) -> list[int]:
        """Where something was removed inside start..end (at `start` included)."""
        low = bisect.bisect_left(self.breaks, start)
        high = bisect.bisect_left(self.breaks, end)
        return self.breaks[low:high]


def base_view(text: str) -> View:
    return View(text, BASE_DROP)


def joined_views(base: View) -> list[View]:
    """The base view with line breaks removed, and (for a diff) diff markers too."""
    if not _LINE_BREAK.search(base.text):
        return []
    views = [View(base.text, JOIN_DROP, parent=base)]
    if _DIFF_LINE.search(base.text):
        views.append(View(base.text, DIFF_JOIN_DROP, parent=base))
    return views
