"""A web page as the text a reader sees: what WebFetch hands the model instead of HTML.

Kept deliberately small: the standard library's tokenizer, no rendering, no scripts.
Text inside `script`, `style`, `template` and other never-shown elements is dropped,
block elements start new lines, list items get a bullet, links keep their target
(`text <url>`, so the model can fetch the next page), whitespace is collapsed, and
characters that draw nothing (`agents.text.sanitize.is_invisible`: zero-width, bidi
controls, Unicode tags) are removed, so a page cannot hide instructions from the person
who reads the transcript.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from agents.text.sanitize import is_invisible

# Elements whose content a browser never shows as text.
_HIDDEN = frozenset(
    {"script", "style", "template", "noscript", "head", "svg", "math", "iframe", "object"}
)
# Elements that start and end on their own lines.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "br", "dd", "details", "div", "dl"),
        *("dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3"),
        *("h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre"),
        *("section", "summary", "table", "tr", "ul", "title"),
    }
)
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden: list[str] = []  # open never-shown elements
        self.pre = 0
        self.link: str | None = None
        self.title = ""
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _HIDDEN and tag not in _VOID:
            self.hidden.append(tag)
            return
        if self.hidden:
            return
        if tag in _BLOCKS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")
        elif tag in ("td", "th"):
            self.parts.append(" | ")
        elif tag == "pre":
            self.pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.link = href if href.startswith(("http://", "https://", "/")) else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _HIDDEN:
            if tag in self.hidden:
                while self.hidden and self.hidden.pop() != tag:
                    pass
            return
        if self.hidden:
            return
        if tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag == "a" and self.link is not None:
            self.parts.append(f" <{self.link}>")
            self.link = None
        if tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title and not self.title:
            self.title = " ".join(data.split())
        if self.hidden:
            return
        if not self.pre:
            data = _SPACES.sub(" ", data.replace("\n", " "))
            if not self.parts or self.parts[-1].endswith("\n"):
                data = data.lstrip()
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """The readable text of `html`, its title (when it has one) on the first line."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = [line.rstrip() for line in "".join(parser.parts).split("\n")]
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    if parser.title and not text.startswith(parser.title):
        text = f"{parser.title}\n\n{text}"
    return visible(text)


def visible(text: str) -> str:
    """`text` without the characters that draw nothing (newlines and tabs stay)."""
    return "".join(
        char for char in text if " " <= char <= "~" or char in "\n\t" or not is_invisible(char)
    )
