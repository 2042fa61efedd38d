"""Agent-written text made inert before Rolecall posts it (invariant 8).

What the agent says reaches GitHub as PR bodies, comments, thread replies and reviews,
and GitHub acts on text: `@name` notifies a person or a team, `Fixes #12` closes an
issue when the PR merges (from a commit message too), `owner/repo#7` puts a backlink in
another repository, `![](…)` and `<img>` make every reader's browser fetch a URL, raw
HTML hides or disguises text, and `<!-- rolecall:… -->` is how Rolecall recognises its
own posts. A hijacked model must gain none of these, so every piece of agent text goes
through `inert_markdown` (or `inert_plain_text` for commit messages and titles) after
redaction and before Rolecall adds its own lines.

How: a zero-width space (U+200B) goes after the character that starts each construct
(`@`, `<`, `&` of an entity, `!` of an image, `#` of a cross-repository reference) or
inside a closing keyword. The text reads exactly as before, but no parser sees the
construct any more: not GitHub's markdown, not its mention and reference filters, and
not the plain-text readers that notify from email replies and commit bodies, where
Dependabot found that wrapping mentions in code spans was not enough and Renovate found
that commit bodies notify (both insert a zero-width space after `@`). The same insertion
is harmless inside inline code, so no markdown needs to be parsed to decide where it is
safe, and nothing an agent writes can make it unsafe.

Only fenced code blocks are left as they are, because code copied from them must still
run: a fence is always re-emitted at the start of its line (so it is a top-level block
for GitHub, never one a list item or quote could end early), and a fence the agent
opened and never closed is closed, so it cannot swallow what Rolecall writes after it.
Inside fences only Rolecall's markers are broken.

Kept readable: headings, lists, tables, emphasis, inline code, links (also to other
hosts) and `#N` references to the same repository. What changes for a reader: an
outside image is shown as a link, raw HTML and entities as the literal text the agent
typed, and a `@` inside a URL becomes `%40`, which the URL still means.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NewType
from urllib.parse import urlsplit

ZWSP = "\u200b"

# Text that went through this module; render functions take it where agent text goes,
# so mypy catches a caller that forgot to neutralize.
InertText = NewType("InertText", str)

_FENCE_OPEN = re.compile(r" {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)")
# A closing keyword followed by something that could be an issue reference (`#N`, `GH-N`,
# `owner/repo#N`, a URL, a link, an entity) with only spaces, line breaks and markup
# between them: marks, emphasis, a quote's `>`, a list's `-` or `1.`.
_CLOSING_KEYWORD = re.compile(
    r"(?<![A-Za-z0-9])(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)(?![A-Za-z0-9])"
    r"(?=(?:[^A-Za-z0-9]|\d{1,9}[.)](?=[ \t])){0,24}?"
    r"(?:#|gh-\d|[A-Za-z0-9][\w.-]*(?:/[\w.-]+)?#|https?:|www\.|\[|&))",
    re.IGNORECASE,
)
# `#N` right after a name (`owner/repo#N`, `user#N`) refers outside this repository;
# `#N` after a space, a bracket or `*` emphasis is a plain reference and stays a link.
_QUALIFIED_REF = re.compile(r"(?<=[^\s(\[{*~>\"'\u200b])#(?=\d)")
_URL_OR_MENTION = re.compile(
    r"(?P<url>(?:https?|ftp)://[^\s<>\"'`]+|www\.[^\s<>\"'`]+)|@(?=[A-Za-z0-9])",
    re.IGNORECASE,
)
# `<` that could open a tag, a comment (Rolecall's markers among them) or a declaration;
# an autolink (`<https://…>`) is a link, not HTML, and stays one.
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])(?![A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>)")
_ENTITY = re.compile(r"&(?=#[0-9]|#[xX][0-9a-fA-F]|[A-Za-z][A-Za-z0-9]{1,31};)")
_IMAGE_START = re.compile(r"!(?=\[)")
_INLINE_IMAGE = re.compile(r"!\[[^\[\]\n]*\]\(\s*(?P<url>[^\s()<>]+)(?:\s+\"[^\"\n]*\")?\s*\)")
_MARKER = re.compile(r"<(?=!--\s*rolecall)", re.IGNORECASE)


def inert_markdown(text: str, *, github_host: str) -> InertText:
    """`text` as markdown that reads the same and does nothing on GitHub.

    `github_host` is the host (and port) of the GitHub the repository lives on; images
    there are kept as images, every other image becomes a link.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    prose: list[str] = []
    index = 0
    while index < len(lines):
        opened = _fence_opener(lines[index])
        if opened is None:
            prose.append(lines[index])
            index += 1
            continue
        if prose:
            out.append(_inert_inline("\n".join(prose), github_host))
            prose = []
        fence, info = opened
        out.append(fence + _MARKER.sub("<" + ZWSP, info))
        index += 1
        while index < len(lines) and not _closes(lines[index], fence):
            out.append(_MARKER.sub("<" + ZWSP, lines[index]))
            index += 1
        out.append(fence)  # the agent's closing line, or the one it never wrote
        index += 1
    if prose:
        out.append(_inert_inline("\n".join(prose), github_host))
    return InertText("\n".join(out))


def inert_plain_text(text: str) -> InertText:
    """`text` that GitHub reads without rendering (a commit message, a title), made inert.

    There is no code block in plain text, so every line is treated alike.
    """
    return InertText(_inert_inline(text.replace("\r\n", "\n").replace("\r", "\n"), None))


def github_host_of(url: str) -> str:
    """The host (and port) of a repository URL, e.g. its `clone_url`: where GitHub is."""
    return urlsplit(url).netloc.lower()


@dataclass(frozen=True)
class Neutralizer:
    """Agent text for one job: redacted first, then made inert.

    Redaction comes first because the zero-width spaces would split a secret the
    redactor knows (a password with an `@`, say) and hide it from the redactor.
    """

    redact: Callable[[str], str]
    github_host: str

    def markdown(self, text: str) -> InertText:
        return inert_markdown(self.redact(text), github_host=self.github_host)

    def plain(self, text: str) -> InertText:
        return inert_plain_text(self.redact(text))


# --- the pieces -------------------------------------------------------------------------------


def _fence_opener(line: str) -> tuple[str, str] | None:
    """(fence, info string) when `line` opens a fenced code block, as CommonMark says."""
    found = _FENCE_OPEN.fullmatch(line)
    if found is None:
        return None
    fence, info = found.group("fence"), found.group("info")
    if fence[0] == "`" and "`" in info:
        return None  # a backtick fence's info string cannot hold a backtick
    return fence, info


def _closes(line: str, fence: str) -> bool:
    """Whether `line` closes a block opened by `fence` (same character, at least as long)."""
    stripped = line.lstrip(" ")
    if len(line) - len(stripped) > 3:
        return False
    run = len(stripped) - len(stripped.lstrip(fence[0]))
    return run >= len(fence) and not stripped[run:].strip(" \t")


def _inert_inline(text: str, github_host: str | None) -> str:
    """Every construct GitHub would act on, broken by a zero-width space; keyword first,
    so that a reference the later steps break is not needed to recognise it."""
    text = _CLOSING_KEYWORD.sub(lambda m: m.group()[0] + ZWSP + m.group()[1:], text)
    text = _QUALIFIED_REF.sub("#" + ZWSP, text)
    text = _URL_OR_MENTION.sub(_mention_or_url, text)
    text = _TAG_START.sub("<" + ZWSP, text)
    text = _ENTITY.sub("&" + ZWSP, text)
    return _IMAGE_START.sub(lambda m: _image_start(m, github_host), text)


def _mention_or_url(found: re.Match[str]) -> str:
    """`@` + ZWSP in text; `%40` inside a URL, which keeps the URL working either way."""
    url = found.group("url")
    if url is None:
        return "@" + ZWSP
    return re.sub(r"@(?=[A-Za-z0-9])", "%40", url)


def _image_start(found: re.Match[str], github_host: str | None) -> str:
    """`!` of an image: kept for an image on the GitHub host, else it becomes a link."""
    image = _INLINE_IMAGE.match(found.string, found.start())
    if image is not None and github_host:
        url = urlsplit(image.group("url"))
        if url.scheme == "https" and url.netloc.lower() == github_host.lower():
            return "!"
    return "!" + ZWSP
