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
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from agents.brief import sanitize


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
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    scanner = _BlockScanner()
    for number, line in enumerate(lines, start=1):
        scanner.feed(number, line.expandtabs(4))
    scanner.finish()
    in_code = _naive_fenced_lines(lines)
    commands: list[Command] = []
    for paragraph in scanner.paragraphs:
        commands += _paragraph_commands(paragraph, in_code)
    commands.sort(key=lambda command: command.line)
    return commands


def find_command(text: str, name: str) -> Command | None:
    """The first visible `/name` command in `text`, if there is one."""
    return next((c for c in parse_commands(text) if c.name == name), None)


# --- block structure ------------------------------------------------------------------------

_ATX_HEADING = re.compile(r"#{1,6}(?: |$)")
_FENCE_OPEN = re.compile(r"(`{3,})(?!.*`)|(~{3,})")
_FENCE_CLOSE = re.compile(r"(`{3,}|~{3,}) *$")
_THEMATIC_BREAK = re.compile(r"(?:(?:\* *){3,}|(?:- *){3,}|(?:_ *){3,})$")
_SETEXT_UNDERLINE = re.compile(r"(?:=+|-+) *$")
_LIST_MARKER = re.compile(r"(?:[*+-]|(\d{1,9})[.)])(?= |$)")

_TAG_NAME = r"[A-Za-z][A-Za-z0-9-]*"
_ATTRIBUTE = (
    r"""(?:[ \t\n]+[A-Za-z_:][A-Za-z0-9_.:-]*"""
    r"""(?:[ \t\n]*=[ \t\n]*(?:[^ \t\n"'=<>`]+|'[^']*'|"[^"]*"))?)"""
)
_OPEN_TAG = rf"<{_TAG_NAME}{_ATTRIBUTE}*[ \t\n]*/?>"
_CLOSING_TAG = rf"</{_TAG_NAME}[ \t\n]*>"
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
    (re.compile(rf"(?:{_OPEN_TAG}|{_CLOSING_TAG})[ \t]*$"), None),
]  # fmt: skip


@dataclass
class _Block:
    """An open block: a container (quote, list item) or a leaf (paragraph, code, HTML)."""

    kind: str  # "quote" | "item" | "para" | "fence" | "icode" | "html"
    width: int = 0  # item: columns its content is indented by
    fence: str = ""  # fence: the opening run, e.g. "```"
    html_end: re.Pattern[str] | None = None  # html: what ends it (None: a blank line)
    has_content: bool = False  # item: holds anything yet (an item may start with one blank)
    top_level: bool = False  # para: directly in the document, not in a container
    lines: list[tuple[int, str]] = field(default_factory=list)  # para: (number, text)


class _BlockScanner:
    """CommonMark's block phase, reduced to what decides whether a line is top-level text.

    Keeps the chain of open blocks; each line first continues as many of them as it can,
    then may open new ones, then lands in a paragraph (possibly lazily) or a code block.
    Top-level paragraphs are collected for the inline pass.
    """

    def __init__(self) -> None:
        self.stack: list[_Block] = []
        self.paragraphs: list[_Block] = []
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
            tip = _Block("para", top_level=not self.stack)
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
                    self._push(_Block("quote"))
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
                    self._push(_Block("fence", fence=fence.group(1) or fence.group(2)))
                    return pos, True
                for kind, (start, end) in enumerate(_HTML_BLOCKS, start=1):
                    if start.match(line, first) and (kind < 7 or not continuing_paragraph):
                        self._close_unmatched()
                        self._push(_Block("html", html_end=end))
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
                    self._push(_Block("item", width=indent + padding, has_content=not blank_after))
                    pos = len(line) if blank_after else first + padding
                    container, all_matched = "item", True
                    continue
            elif tip != "para" and not blank:
                self._close_unmatched()
                self._push(_Block("icode"))
                return pos, True
            return pos, False

    def _add_code_line(self, line: str, pos: int) -> None:
        tip = self.stack[-1]
        if tip.html_end is not None and tip.html_end.search(line, pos):
            self._close_tip()

    def _push(self, block: _Block) -> None:
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

    def _finalize(self, block: _Block) -> None:
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


def _naive_fenced_lines(lines: list[str]) -> set[int]:
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


# --- inline: which line starts are hidden inside a span ------------------------------------

_ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_TAG = re.compile(rf"{_OPEN_TAG}|{_CLOSING_TAG}")
_AUTOLINK = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|<[^\s<>@]+@[^\s<>]+>")
# An HTML comment as CommonMark 0.29 (what GitHub renders with) defines it: no `--` inside.
_COMMENT_029 = re.compile(r"<!--(?!-?>)(?:[^-]|-(?!-))*-->|<!---->")
# After `](`: an inline link's destination and optional title, then `)`.
_LINK_TAIL = re.compile(
    r"""\([ \t\n]*(?:<[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()]*)*)"""
    r"""(?:[ \t\n]+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t\n]*\)""",
)
_COMMAND_LINE = re.compile(r" {0,3}/([a-z][a-z0-9-]*)(?= |$)", re.ASCII | re.IGNORECASE)


def _paragraph_commands(paragraph: _Block, in_code: set[int]) -> list[Command]:
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
    hidden = _InlineScan(joined, modern=False).hidden_spans()
    hidden += _InlineScan(joined, modern=True).hidden_spans()
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


class _InlineScan:
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
