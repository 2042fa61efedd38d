"""What GitHub would make of a body Rolecall posts: the judge of the inert-text tests.

The markdown is rendered by `cmarkgfm`, the Python binding of GitHub's own fork of
cmark (tables, autolinks, tag filter, task lists), so a test sees the document GitHub
sees: which text is text and which is code, what is a link, an image or raw HTML.
On that document this module models the parts of GitHub that act on text, each
stricter than GitHub rather than looser:

- mentions: `@name` or `@org/team` in a text node outside `code`, `pre` and `a` (where
  GitHub's mention filter looks), and, because email replies and commit bodies are read
  as plain text (Dependabot and Renovate both found mentions notify from there), also
  anywhere in the raw text outside fenced code blocks;
- closing references: a closing keyword followed by an issue reference (`#N`,
  `owner/repo#N`, an issue or pull request URL), searched in the rendered text outside
  code and in the raw text (commit messages are not rendered at all);
- cross-repository references `owner/repo#N`, which put a backlink in another
  repository's issue;
- images whose source is not the GitHub host; raw HTML (any element markdown itself
  never produces, and every HTML comment); and Rolecall's `<!-- rolecall:… -->` markers
  as Rolecall's own code finds them in the raw body.

A body Rolecall posts holds some HTML and a marker of its own (a `<details>` list of
files, `<sub>` spend lines, its job marker): the tests compare those parts with what
Rolecall itself put there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import cmarkgfm
from cmarkgfm.cmark import Options

# Where GitHub does not look for mentions and references: code and existing links.
_QUIET = {"code", "pre", "a"}
MENTION = re.compile(r"(?:^|[^A-Za-z0-9_])@([A-Za-z0-9][A-Za-z0-9-]*(?:/[A-Za-z0-9][\w.-]*)?)")
CLOSING = re.compile(
    r"(?<![A-Za-z0-9])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s*"
    r"(?:#\d+|[\w.-]+/[\w.-]+#\d+|gh-\d+|https?://\S+/(?:issues|pull)/\d+)",
    re.IGNORECASE,
)
CROSS_REPO = re.compile(r"(?<![\w./-])[A-Za-z0-9][\w.-]*/[\w.-]+#\d+")
MARKER = re.compile(r"<!--\s*rolecall:.*?-->", re.IGNORECASE | re.DOTALL)
# The elements cmark makes from markdown itself; any other element came as raw HTML.
MARKDOWN_TAGS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote", "pre", "code"}
    | {"em", "strong", "del", "a", "img", "hr", "br", "input"}
    | {"table", "thead", "tbody", "tr", "th", "td"}
)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_QUOTED = re.compile(r"^(?: {0,3}> ?)+")


@dataclass
class Rendered:
    """The rendered HTML of a body, taken apart the way GitHub's filters see it."""

    html: str
    # Text nodes outside code, pre and a: each element boundary starts a new one.
    text: list[str] = field(default_factory=list)
    # All text in order, with "\0" where code, a link's text or an image sits, so words
    # that only formatting separates ("**Fixes** #1") read as one phrase.
    flow: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)  # every <img> src
    tags: list[str] = field(default_factory=list)  # every element, in document order
    comments: list[str] = field(default_factory=list)  # every HTML comment

    @property
    def html_tags(self) -> list[str]:
        """The elements that came as raw HTML, not from markdown."""
        return [tag for tag in self.tags if tag not in MARKDOWN_TAGS]


class _Reader(HTMLParser):
    def __init__(self, into: Rendered) -> None:
        super().__init__(convert_charrefs=True)
        self.into = into
        self.open: list[str] = []
        self.node: list[str] = []

    def _boundary(self) -> None:
        if self.node:
            self.into.text.append("".join(self.node))
            self.node = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._boundary()
        self.into.tags.append(tag)
        if tag in _QUIET or tag == "img":
            self.into.flow.append("\0")  # even an empty one stands between its neighbours
        if tag == "img":
            self.into.images.append(dict(attrs).get("src") or "")
        elif tag not in ("br", "hr", "input"):
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self._boundary()
        if tag in self.open:
            while self.open and self.open.pop() != tag:
                pass

    def handle_comment(self, data: str) -> None:
        self._boundary()
        self.into.comments.append(data)

    def handle_data(self, data: str) -> None:
        if _QUIET.intersection(self.open):
            self.into.flow.append("\0")
        else:
            self.node.append(data)
            self.into.flow.append(data)

    def close(self) -> None:
        super().close()
        self._boundary()


def render(markdown: str) -> Rendered:
    """The body as GitHub renders it (raw HTML kept, as GitHub's sanitizer keeps most)."""
    html = cmarkgfm.github_flavored_markdown_to_html(markdown, options=Options.CMARK_OPT_UNSAFE)
    rendered = Rendered(html)
    reader = _Reader(rendered)
    reader.feed(html)
    reader.close()
    return rendered


def outside_fences(text: str) -> str:
    """The raw text without its fenced code blocks (as a person quoting it would see).

    A fence inside a block quote counts too, and ends where the quote ends.
    """
    kept: list[str] = []
    fence, in_quote = "", False
    for raw in text.split("\n"):
        quoted = _QUOTED.match(raw) is not None
        # Inside a fence opened outside any quote, a `>` is just code.
        line = raw if fence and not in_quote else _QUOTED.sub("", raw)
        found = _FENCE.match(line)
        if fence and not (in_quote and not quoted):
            closes = found is not None and found.group(1)[0] == fence[0]
            rest = line.lstrip(" ").lstrip(fence[0]).strip(" \t")  # only spaces and tabs
            if closes and len(found.group(1)) >= len(fence) and not rest:
                fence = ""
            continue
        fence = ""
        if found and not (found.group(1)[0] == "`" and "`" in line[found.end() :]):
            fence, in_quote = found.group(1), quoted
            kept.append("\0")  # the block stands between what comes before and after
            continue
        kept.append(raw)
    return "\n".join(kept)


@dataclass(frozen=True)
class Findings:
    """Everything in one body that GitHub would act on, or that Rolecall would misread."""

    mentions: list[str]
    closing: list[str]
    cross_repo: list[str]
    outside_images: list[str]
    html_tags: list[str]
    comments: list[str]
    markers: list[str]

    @property
    def inert(self) -> bool:
        return not (
            self.mentions
            or self.closing
            or self.cross_repo
            or self.outside_images
            or self.html_tags
            or self.comments
            or self.markers
        )


def live_parts(markdown: str, *, github_host: str, own_closing: str = "") -> Findings:
    """What in `markdown` would notify, close, link out, load, or pass for a marker.

    `own_closing` is Rolecall's own `Fixes #N` line, which is allowed (once).
    """
    rendered = render(markdown)
    flow = "".join(rendered.flow)
    raw = outside_fences(markdown)
    closing = CLOSING.findall(flow) + CLOSING.findall(raw)
    if own_closing:
        closing = [c for c in closing if c != own_closing]
    hosts = [urlsplit(src).netloc.lower() for src in rendered.images]
    return Findings(
        mentions=sorted(
            {*(m for node in rendered.text for m in MENTION.findall(node))}
            | set(MENTION.findall(raw))
        ),
        closing=closing,
        cross_repo=CROSS_REPO.findall(flow) + CROSS_REPO.findall(raw),
        outside_images=[
            src for src, host in zip(rendered.images, hosts, strict=True) if host != github_host
        ],
        html_tags=rendered.html_tags,
        comments=rendered.comments,
        markers=MARKER.findall(markdown),
    )


def live_parts_of_plain_text(text: str) -> Findings:
    """The same for text GitHub never renders (commit messages, titles): all of it counts."""
    return Findings(
        mentions=sorted(set(MENTION.findall(text))),
        closing=CLOSING.findall(text),
        cross_repo=CROSS_REPO.findall(text),
        outside_images=[],
        html_tags=[],
        comments=[],
        markers=MARKER.findall(text),
    )
