"""CommonMark's block phase, reduced to what decides whether a line is top-level text.

handlers.commands counts a `/command` only on a line of a top-level paragraph. This
module finds those paragraphs: `BlockScanner` follows the CommonMark parsing strategy
(containers matched line by line, lazy continuation, leaf blocks) for the constructs
that can hide a line (fenced and indented code, block quotes, list items, HTML blocks),
and `naive_fenced_lines` is a deliberately simpler second opinion on fences, so a line
either reader takes for code never counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from handlers.markdown_inline import CLOSING_TAG, OPEN_TAG

_ATX_HEADING = re.compile(r"#{1,6}(?: |$)")
_FENCE_OPEN = re.compile(r"(`{3,})(?!.*`)|(~{3,})")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,}) *$")
_THEMATIC_BREAK = re.compile(r"(?:(?:\* *){3,}|(?:- *){3,}|(?:_ *){3,})$")
_SETEXT_UNDERLINE = re.compile(r"(?:=+|-+) *$")
_LIST_MARKER = re.compile(r"(?:[*+-]|(\d{1,9})[.)])(?= |$)")

_BLOCK_TAGS = (
    "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    "details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    "h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    "noframes|ol|optgroup|option|p|param|search|section|source|summary|table|tbody|td|"
    "tfoot|th|thead|title|tr|track|ul"
)
# CommonMark's seven kinds of HTML block: how each starts and what ends it (None: a blank
# line). The seventh cannot interrupt a paragraph.
_HTML_BLOCKS: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = [
    (re.compile(r"<(?:script|pre|style|textarea)(?:[ \t>]|$)", re.I),
     re.compile(r"</(?:script|pre|style|textarea)>", re.I)),
    (re.compile(r"<!--"), re.compile(r"-->")),
    (re.compile(r"<\?"), re.compile(r"\?>")),
    (re.compile(r"<![A-Za-z]"), re.compile(r">")),
    (re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")),
    (re.compile(rf"</?(?:{_BLOCK_TAGS})(?:[ \t]|/?>|$)", re.I), None),
    (re.compile(rf"(?:{OPEN_TAG}|{CLOSING_TAG})[ \t]*$"), None),
]  # fmt: skip


@dataclass
class Block:
    """An open block: a container (quote, list item) or a leaf (paragraph, code, HTML)."""

    kind: str  # "quote" | "item" | "para" | "fence" | "icode" | "html"
    width: int = 0  # item: columns its content is indented by
    fence: str = ""  # fence: the opening run, e.g. "```"
    html_end: re.Pattern[str] | None = None  # html: what ends it (None: a blank line)
    has_content: bool = False  # item: holds anything yet (an item may start with one blank)
    top_level: bool = False  # para: directly in the document, not in a container
    lines: list[tuple[int, str]] = field(default_factory=list)  # para: (number, text)


class BlockScanner:
    """CommonMark's block phase, reduced to what decides whether a line is top-level text.

    Keeps the chain of open blocks; each line first continues as many of them as it can,
    then may open new ones, then lands in a paragraph (possibly lazily) or a code block.
    Top-level paragraphs are collected for the inline pass.
    """

    def __init__(self) -> None:
        self.stack: list[Block] = []
        self.paragraphs: list[Block] = []
        self._matched = 0

    def feed(self, number: int, line: str) -> None:
        pos = self._continue_open_blocks(line)
        if pos is None:
            return
        all_matched = self._matched == len(self.stack)
        container = self.stack[self._matched - 1].kind if self._matched else "document"
        if all_matched and container in ("icode", "html"):
            self._add_code_line(line, pos)
            return
        pos, leaf_started = self._open_new_blocks(line, pos, container, all_matched)
        if leaf_started:
            return
        blank = _first_nonspace(line, pos) == len(line)
        tip = self.stack[-1] if self.stack else None
        if not all_matched and not blank and tip is not None and tip.kind == "para":
            tip.lines.append((number, line))  # lazy continuation of a deeper paragraph
            return
        self._close_unmatched()
        if blank:
            return
        tip = self.stack[-1] if self.stack else None
        if tip is None or tip.kind != "para":
            tip = Block("para", top_level=not self.stack)
            self._push(tip)
        tip.lines.append((number, line))

    def finish(self) -> None:
        self._matched = 0
        self._close_unmatched()

    def _continue_open_blocks(self, line: str) -> int | None:
        """Match the open blocks; the column after their markers, or None if line is done.

        Works on positions, never slices, so a line nesting thousands of quotes stays linear.
        """
        pos = 0
        self._matched = 0
        for block in self.stack:
            first = _first_nonspace(line, pos)
            indent = first - pos
            blank = first == len(line)
            if block.kind == "quote":
                if indent > 3 or not line.startswith(">", first):
                    break
                pos = first + 1 + line.startswith(" ", first + 1)
            elif block.kind == "item":
                if blank and not block.has_content:
                    break
                if not blank:
                    if indent < block.width:
                        break
                    pos += block.width
            elif block.kind == "fence":
                close = _FENCE_CLOSE.match(line, first) if indent <= 3 else None
                if _closes(close, block.fence):
                    self._matched = len(self.stack) - 1
                    self._close_unmatched()
                return None  # a code line (or the closing fence): never a command
            elif block.kind == "icode":
                if indent >= 4:
                    pos += 4
                elif not blank:
                    break
            elif block.kind == "html":
                if blank and block.html_end is None:
                    break
            elif block.kind == "para" and blank:
                break
            self._matched += 1
        return pos

    def _open_new_blocks(
        self, line: str, pos: int, container: str, all_matched: bool
    ) -> tuple[int, bool]:
        """Open the containers and leaf that start at `pos`: (new pos, leaf started)."""
        while True:
            first = _first_nonspace(line, pos)
            indent = first - pos
            blank = first == len(line)
            tip = self.stack[-1].kind if self.stack else "document"
            continuing_paragraph = (
                tip == "para" and not blank and (container == "para" or not all_matched)
            )
            if indent < 4:
                if line.startswith(">", first):
                    self._close_unmatched()
                    self._push(Block("quote"))
                    pos = first + 1 + line.startswith(" ", first + 1)
                    container, all_matched = "quote", True
                    continue
                if _ATX_HEADING.match(line, first) or (
                    container == "para" and _SETEXT_UNDERLINE.match(line, first)
                ):
                    self._close_unmatched()
                    self._close_paragraph()
                    return pos, True
                fence = _FENCE_OPEN.match(line, first)
                if fence:
                    self._close_unmatched()
                    self._push(Block("fence", fence=fence.group(1) or fence.group(2)))
                    return pos, True
                for kind, (start, end) in enumerate(_HTML_BLOCKS, start=1):
                    if start.match(line, first) and (kind < 7 or not continuing_paragraph):
                        self._close_unmatched()
                        self._push(Block("html", html_end=end))
                        if end is not None and end.search(line, first):
                            self._close_tip()
                        return pos, True
                if _THEMATIC_BREAK.match(line, first):
                    self._close_unmatched()
                    self._close_paragraph()
                    return pos, True
                item = _list_item(line, first, interrupting=container == "para")
                if item is not None:
                    padding, blank_after = item
                    self._close_unmatched()
                    self._push(Block("item", width=indent + padding, has_content=not blank_after))
                    pos = len(line) if blank_after else first + padding
                    container, all_matched = "item", True
                    continue
            elif tip != "para" and not blank:
                self._close_unmatched()
                self._push(Block("icode"))
                return pos, True
            return pos, False

    def _add_code_line(self, line: str, pos: int) -> None:
        tip = self.stack[-1]
        if tip.html_end is not None and tip.html_end.search(line, pos):
            self._close_tip()

    def _push(self, block: Block) -> None:
        """Open `block` under the innermost container (a paragraph it interrupts ends)."""
        self._close_paragraph()
        # Only the parent gains a child; every other ancestor already had one.
        if self.stack and self.stack[-1].kind == "item":
            self.stack[-1].has_content = True
        self.stack.append(block)
        self._matched = len(self.stack)

    def _close_paragraph(self) -> None:
        if self.stack and self.stack[-1].kind == "para":
            self._close_tip()

    def _close_tip(self) -> None:
        self._finalize(self.stack.pop())
        self._matched = min(self._matched, len(self.stack))

    def _close_unmatched(self) -> None:
        while len(self.stack) > self._matched:
            self._finalize(self.stack.pop())

    def _finalize(self, block: Block) -> None:
        if block.kind == "para" and block.top_level:
            self.paragraphs.append(block)


def _closes(close: re.Match[str] | None, fence: str) -> bool:
    """Whether a closing-fence match ends `fence`: same character, at least as long."""
    if close is None:
        return False
    return close.group(1)[0] == fence[0] and len(close.group(1)) >= len(fence)


_SPACES = re.compile(" *")


def _first_nonspace(line: str, pos: int) -> int:
    match = _SPACES.match(line, pos)
    assert match is not None  # " *" matches everywhere
    return match.end()


def _list_item(line: str, first: int, *, interrupting: bool) -> tuple[int, bool] | None:
    """A list marker at `first`: (columns from `first` to its content, nothing after it).

    An empty item, or an ordered one not starting at 1, cannot interrupt a paragraph.
    """
    marker = _LIST_MARKER.match(line, first)
    if marker is None:
        return None
    after = _first_nonspace(line, marker.end())
    blank_after = after == len(line)
    if interrupting and (blank_after or (marker.group(1) and int(marker.group(1)) != 1)):
        return None
    spaces = after - marker.end()
    width = marker.end() - first
    return width + (1 if blank_after or spaces >= 5 else spaces), blank_after


# --- a second opinion on code -----------------------------------------------------------------

_CONTAINER_PREFIX = re.compile(r"(?:[ \t]*(?:>|[*+-](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")


def naive_fenced_lines(lines: list[str]) -> set[int]:
    """Line numbers inside (or delimiting) a fence, ignoring containers and indentation.

    Deliberately different from the block scanner: quote markers, list markers and any
    indentation are stripped before looking for fences, so where the two disagree about a
    fence the line is treated as code by one of them and does not count.
    """
    inside: set[int] = set()
    fence = ""
    for number, line in enumerate(lines, start=1):
        text = line[_CONTAINER_PREFIX.match(line).end() :]  # type: ignore[union-attr]
        if fence:
            inside.add(number)
            if _closes(_FENCE_CLOSE.match(text), fence):
                fence = ""
            continue
        opening = _FENCE_OPEN.match(text)
        if opening:
            fence = opening.group(1) or opening.group(2)
            inside.add(number)
    return inside
