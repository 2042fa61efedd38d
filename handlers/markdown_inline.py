"""CommonMark's inline phase, reduced to which spans of a paragraph hide a line start.

A line that starts inside a code span, raw HTML, an autolink, link text or a link's
destination or title is not seen by a reader as a line of its own, so a `/command` there
never counts (handlers.commands). The raw-HTML tag grammar is also what HTML blocks
of the seventh kind start with (handlers.markdown_blocks).
"""

from __future__ import annotations

import re
from bisect import bisect_left

_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = (
    r"""(?:[ \t\n]+[A-Za-z_:][A-Za-z0-9_.:-]*"""
    r"""(?:[ \t\n]*=[ \t\n]*(?:[^ \t\n"'=<>`]+|'[^']*'|"[^"]*"))?)"""
)
OPEN_TAG = rf"<{_TAG_NAME}{_ATTRIBUTE}*[ \t\n]*/?>"
CLOSING_TAG = rf"</{_TAG_NAME}[ \t\n]*>"


_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_TAG = re.compile(rf"{OPEN_TAG}|{CLOSING_TAG}")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[^\s<>@]+@[^\s<>]+>")
# An HTML comment as CommonMark 0.29 (what GitHub renders with) defines it: no `--` inside.
_COMMENT_029 = re.compile(r"<!--(?!-?>)(?:[^-]|-(?!-))*-->|<!---->")
# After `](`: an inline link's destination and optional title, then `)`.
_LINK_TAIL = re.compile(
    r"""\([ \t\n]*(?:<[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()]*)*)"""
    r"""(?:[ \t\n]+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t\n]*\)""",
)


class InlineScan:
    """A left-to-right scan, like CommonMark's inline parser, for what can hide a line start.

    Code spans, raw HTML (tags, comments, processing instructions, declarations, CDATA),
    autolinks, link brackets and link destinations/titles can all run over a line break.
    Link text and image alt text count as hidden (alt never shows; a command inside link
    text is an odd thing to count). `modern` reads comments as CommonMark 0.31 does rather
    than as 0.29 (GitHub's cmark-gfm); callers scan both ways and hide what either hides.
    Every search forward is cached, so a hostile body cannot make the scan quadratic.
    """

    def __init__(self, text: str, *, modern: bool) -> None:
        self.text = text
        self.modern = modern
        self._found: dict[str, int] = {}
        self._runs: dict[int, list[int]] = {}
        for run in re.finditer("`+", text):
            self._runs.setdefault(len(run.group()), []).append(run.start())

    def hidden_spans(self) -> list[tuple[int, int]]:
        text = self.text
        spans: list[tuple[int, int]] = []
        brackets: list[int] = []
        i = 0
        while i < len(text):
            char = text[i]
            if char == "\\" and text[i + 1 : i + 2] in _ASCII_PUNCTUATION:
                i += 2
                continue
            end: int | None = None
            if char == "`":
                run = self._run_at(i)
                end = self._closing_run(i + run, run)
                if end is None:
                    i += run
                    continue
            elif char == "<":
                end = self._raw_html_end(i)
            elif char == "[":
                brackets.append(i)
            elif char == "]" and brackets:
                start = brackets.pop()
                end = i + 1
                if text.startswith("(", end):
                    tail = _LINK_TAIL.match(text, end)
                    end = tail.end() if tail else len(text)
                spans.append((start, end))
                i = end
                continue
            if end is None:
                i += 1
                continue
            spans.append((i, end))
            i = end
        if brackets:
            spans.append((brackets[0], len(text)))
        return spans

    def _run_at(self, i: int) -> int:
        end = i
        while end < len(self.text) and self.text[end] == "`":
            end += 1
        return end - i

    def _closing_run(self, start: int, length: int) -> int | None:
        """The end of the first backtick run of exactly `length` at or after `start`."""
        starts = self._runs.get(length, [])
        index = bisect_left(starts, start)
        return starts[index] + length if index < len(starts) else None

    def _find(self, needle: str, start: int) -> int:
        """`text.find(needle, start)`, remembering the answer for later, larger starts."""
        known = self._found.get(needle)
        if known is None or (known != -1 and known < start):
            known = self.text.find(needle, start)
            self._found[needle] = known
        return known

    def _after(self, needle: str, start: int) -> int | None:
        found = self._find(needle, start)
        return None if found == -1 else found + len(needle)

    def _raw_html_end(self, i: int) -> int | None:
        """Where the autolink or raw HTML starting at `i` ends, if it is one."""
        text = self.text
        if text.startswith("<!--", i):
            if self.modern:
                return self._comment_end(i)
            match = _COMMENT_029.match(text, i)
            return match.end() if match else None
        match = _AUTOLINK.match(text, i) or _TAG.match(text, i)
        if match:
            return match.end()
        if text.startswith("<?", i):
            return self._after("?>", i + 2)
        if text.startswith("<![CDATA[", i):
            return self._after("]]>", i + 9)
        if text.startswith("<!", i) and text[i + 2 : i + 3].isalpha():
            return self._after(">", i + 2)
        return None

    def _comment_end(self, i: int) -> int | None:
        """Where the comment at `i` ends as CommonMark 0.31 reads it (`<!-->` is complete)."""
        text = self.text
        for short in ("<!-->", "<!--->"):
            if text.startswith(short, i):
                return i + len(short)
        return self._after("-->", i + 4)
