"""Markup GitHub does not display, found with GitHub's own Markdown parser and cut from the text.

A maintainer decides to put a role to work on what the rendered issue shows. Raw HTML in
Markdown can hide text from that page while the model, which reads the source, still
sees it: a processing instruction (`<?x …?>`), CDATA, a declaration (`<!DOCTYPE …>`), a
`<template>` or `<noscript>` element, an object's fallback content, a tag whose quoted
attribute swallows the paragraphs after it. Whether a `<template>` is markup or text
depends on Markdown: inside a code span or a fenced block GitHub shows it literally, and
there it must stay; a regular expression cannot tell the two apart as an attacker would
need it to (a backtick inside a link title, a line that starts an HTML block, a table
cell boundary all change the answer).

So the question is put to the parser GitHub uses: the text is rendered with cmark-gfm
(`cmarkgfm`, GitHub's fork of cmark with the same extensions, the tag filter included).
What it emits as raw HTML is then read the way a browser's HTML parser reads it
(`hidden_regions`): comments, bogus comments, declarations, CDATA, the elements in
`HIDDEN_ELEMENTS` with their content (nested, to their real end tag, or to the end of the
text when left open), and tags that run on past their line. Each such region starts at
a `<` of a kind the source also spells (`_candidates`); the n-th such `<` in the rendered
HTML is the n-th in the source, so the region is cut from the source itself and the rest
of the text reaches the model exactly as written.

Where that correspondence cannot be established (the source spells `<` as a character
reference, or a link destination swallowed one), or the cut would need guessing, the cut
runs to the end of the text: removing visible text is a smaller harm than passing on
hidden text. `<script>`, `<style>` and the other tags of GitHub's tag filter are not
hidden: GitHub escapes them and shows them, content included, so the model sees them too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import cmarkgfm
from cmarkgfm.cmark import Options

# Elements whose content a reader of the rendered page never sees: a template's content
# is inert, noscript's is skipped (GitHub runs scripts), an embedded object's, a media
# element's and a canvas's fallback content is shown only where the embedding fails,
# datalist and a closed dialog draw nothing, and GitHub's sanitizer drops svg and math.
# Unsure cases count as hidden: cutting visible text is the smaller harm.
HIDDEN_ELEMENTS = frozenset(
    {
        "template",
        "noscript",
        "object",
        "applet",
        "embed",
        "svg",
        "math",
        "audio",
        "video",
        "canvas",
        "datalist",
        "dialog",
    }
)
_VOID = frozenset({"embed"})
_FOREIGN = frozenset({"svg", "math"})
_SPACE = " \t\n\f\r"
# Up to this many rounds: cutting can join the two halves of a construct into a new one.
_MAX_ROUNDS = 4

_NAMES = "|".join(sorted(HIDDEN_ELEMENTS))
# What can start hidden markup, as the source spells it (after `<`) and as the rendered
# HTML does (after `<` when raw, after `&lt;` when shown as text). Names are matched as
# HTML does, without regard to case.
_KEY = re.compile(rf"(?:[!?]|/(?![A-Za-z>])|/?(?:{_NAMES})(?![A-Za-z0-9-]))", re.IGNORECASE)
_SOURCE_START = re.compile(r"<")
_RENDERED_START = re.compile(r"<|&lt;")
# A character reference that GitHub shows as `<`: it would add a `<` to the rendered text
# that the source does not spell, so the n-th `<` would no longer be the n-th.
_LESS_THAN_REFERENCE = re.compile(r"&(?:lt|LT);|&#0*60;|&#[xX]0*3[cC];")
# Could anything here be markup at all? (Plain prose skips the parser.)
_MAYBE_MARKUP = re.compile(r"<[A-Za-z!?/]")
_COMMENT_END = re.compile(r"--!?>")


def strip_hidden_markup(text: str) -> str:
    """`text` without the markup GitHub does not display and the text that markup hides."""
    for _ in range(_MAX_ROUNDS):
        if not _MAYBE_MARKUP.search(text):
            return text
        stripped = _strip_once(text)
        if stripped == text:
            return text
        text = stripped
    return _cut_from_first_markup(text)


def _strip_once(text: str) -> str:
    html = render_like_github(text)
    regions = hidden_regions(html)
    if not regions:
        return text
    source_at = _align(text, html)
    if source_at is None:
        return _cut_from_first_markup(text)
    cuts: list[tuple[int, int]] = []
    for region in regions:
        cut = _source_cut(text, html, region, source_at)
        if cut is None:
            return _cut_from_first_markup(text)
        cuts.append(cut)
    return _remove(text, cuts)


def render_like_github(text: str) -> str:
    """The HTML GitHub makes of `text`, before its sanitizer: cmark-gfm, raw HTML kept."""
    return str(cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE))


def _cut_from_first_markup(text: str) -> str:
    """The safe answer when a region cannot be placed: nothing from the first `<tag` on."""
    match = _MAYBE_MARKUP.search(text)
    return text if match is None else text[: match.start()]


def _remove(text: str, cuts: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in sorted(cuts):
        if end <= position:
            continue
        kept.append(text[position : max(start, position)])
        position = end
    kept.append(text[position:])
    return "".join(kept)


# --- reading the rendered HTML as a browser does -------------------------------------------

RegionEnd = Literal["markup", "tag", "element", "rest"]


@dataclass(frozen=True)
class Region:
    """Hidden part of the rendered HTML, from the `<` at `start`.

    `end` says where it stops: after the markup token itself (`markup`: a comment,
    declaration or processing instruction; `tag`: one tag), after the end tag at
    `closer` (`element`), or at the end of the text (`rest`). `token_end` is the offset
    just past the markup, tag or end tag in the HTML.
    """

    start: int
    end: RegionEnd
    token_end: int = 0
    closer: int = 0


@dataclass(frozen=True)
class _Token:
    kind: Literal["text", "comment", "bogus", "start", "end", "skip"]
    end: int | None  # None: it runs to the end of the input
    name: str = ""
    self_closing: bool = False


def hidden_regions(html: str) -> list[Region]:
    """Every hidden region of `html`, in order, as the HTML parsing algorithm finds them.

    Only what can hide is tracked. An end tag closes a hidden element only when it is the
    innermost one still open: where a browser would also close it from further in, this
    reads on, which hides more, never less.
    """
    regions: list[Region] = []
    open_elements: list[str] = []
    opened_at = 0
    position = 0
    while (start := html.find("<", position)) >= 0:
        token = _token_at(html, start, foreign=any(n in _FOREIGN for n in open_elements))
        if token.end is None:
            if not open_elements and token.kind != "text":
                regions.append(Region(start, "rest"))
            break
        if open_elements:
            if token.kind == "start" and _opens(token, foreign=True):
                open_elements.append(token.name)
            elif token.kind == "end" and token.name == open_elements[-1]:
                open_elements.pop()
                if not open_elements:
                    regions.append(Region(opened_at, "element", token.end, start))
        elif token.kind in ("comment", "bogus"):
            regions.append(Region(start, "markup", token.end))
        elif token.kind in ("start", "end") and _runs_on(html[start : token.end]):
            regions.append(Region(start, "rest"))
        elif token.kind == "start" and token.name in HIDDEN_ELEMENTS:
            if _opens(token, foreign=token.name in _FOREIGN):
                open_elements, opened_at = [token.name], start
            else:
                regions.append(Region(start, "tag", token.end))
        position = token.end
    if open_elements:
        regions.append(Region(opened_at, "rest"))
    return regions


def _opens(token: _Token, *, foreign: bool) -> bool:
    """Whether a hidden element's start tag opens content (void and `<svg/>` do not)."""
    if token.name not in HIDDEN_ELEMENTS or token.name in _VOID:
        return False
    return not (foreign and token.self_closing)


def _runs_on(tag: str) -> bool:
    """A tag that swallowed what the parser put after its line (a quote left open)."""
    return "\n<" in tag


def _token_at(html: str, start: int, *, foreign: bool) -> _Token:
    """The token that begins with the `<` at `start` (HTML's tokenizer, the parts that hide)."""
    after = html[start + 1 : start + 2]
    if html.startswith("<!--", start):
        for empty in ("<!-->", "<!--->"):
            if html.startswith(empty, start):
                return _Token("comment", start + len(empty))
        match = _COMMENT_END.search(html, start + 4)
        return _Token("comment", match.end() if match else None)
    if foreign and html.startswith("<![CDATA[", start):
        close = html.find("]]>", start)
        return _Token("skip", close + 3 if close >= 0 else None)
    if after in ("!", "?"):
        return _bogus(html, start)
    if after == "/":
        first = html[start + 2 : start + 3]
        if not first:
            return _Token("text", start + 1)
        if first == ">":
            return _Token("skip", start + 3)
        if not _is_letter(first):
            return _bogus(html, start)
        name, end, _ = _tag(html, start + 2)
        return _Token("end", end, name)
    if _is_letter(after):
        name, end, self_closing = _tag(html, start + 1)
        return _Token("start", end, name, self_closing)
    return _Token("text", start + 1)


def _bogus(html: str, start: int) -> _Token:
    close = html.find(">", start + 2)
    return _Token("bogus", close + 1 if close >= 0 else None)


def _is_letter(char: str) -> bool:
    return char.isascii() and char.isalpha()


def _tag(html: str, at: int) -> tuple[str, int | None, bool]:
    """(name, offset past `>` or None at the end of input, self-closing) of the tag at `at`.

    `at` is the first letter of the name. Quoted attribute values may hold `>` and run
    over lines, as they do in a browser.
    """
    end = len(html)
    position = at
    while position < end and html[position] not in _SPACE + "/>":
        position += 1
    name = _ascii_lower(html[at:position])
    while position < end:
        char = html[position]
        if char in _SPACE:
            position += 1
        elif char == ">":
            return name, position + 1, False
        elif char == "/":
            if html.startswith("/>", position):
                return name, position + 2, True
            position += 1
        else:
            position = _attribute_end(html, position)
            if position < 0:
                return name, None, False
    return name, None, False


def _attribute_end(html: str, position: int) -> int:
    """Offset past the attribute starting at `position`, or -1 if a quote never closes."""
    end = len(html)
    position += 1  # the first character belongs to the name, even `=`
    while position < end and html[position] not in _SPACE + "/>=":
        position += 1
    while position < end and html[position] in _SPACE:
        position += 1
    if position >= end or html[position] != "=":
        return position
    position += 1
    while position < end and html[position] in _SPACE:
        position += 1
    if position < end and html[position] in "\"'":
        close = html.find(html[position], position + 1)
        return close + 1 if close >= 0 else -1
    while position < end and html[position] not in _SPACE + ">":
        position += 1
    return position


def _ascii_lower(name: str) -> str:
    """Lower case the way HTML folds tag names: ASCII letters only."""
    return name.translate(_ASCII_LOWER)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


# --- from the rendered HTML back to the source ------------------------------------------


def _candidates(text: str, starts: re.Pattern[str]) -> list[tuple[int, str]]:
    """(offset, kind) of every `<` (or `&lt;`) that could start hidden markup, in order."""
    found: list[tuple[int, str]] = []
    for match in starts.finditer(text):
        key = _KEY.match(text, match.end())
        if key is not None:
            found.append((match.start(), _ascii_lower(key.group())))
    return found


def _align(text: str, html: str) -> dict[int, int] | None:
    """Offset in the HTML of each candidate `<` -> its offset in `text`, or None.

    cmark copies raw HTML as it is and writes every other `<` as `&lt;`, in the order of
    the source. Unless a character reference adds a `<` of its own, or a construct drops
    one (a `<…>` link destination), the n-th candidate of each side is the same character;
    the kinds must agree one by one, else there is no answer.
    """
    if _LESS_THAN_REFERENCE.search(text):
        return None
    source = _candidates(text, _SOURCE_START)
    rendered = _candidates(html, _RENDERED_START)
    if [kind for _, kind in source] != [kind for _, kind in rendered]:
        return None
    return {at_html: at_text for (at_text, _), (at_html, _) in zip(source, rendered, strict=True)}


def _source_cut(
    text: str, html: str, region: Region, source_at: dict[int, int]
) -> tuple[int, int] | None:
    """The part of `text` to remove for `region`, or None when it cannot be placed."""
    start = source_at.get(region.start)
    if start is None or not html.startswith("<", region.start):
        return None
    if region.end == "rest":
        return start, len(text)
    if region.end == "element":
        closer = source_at.get(region.closer)
        if closer is None:
            return None
        return start, _same_token_end(text, closer, html[region.closer : region.token_end])
    token = html[region.start : region.token_end]
    if region.end == "tag":
        return start, _same_token_end(text, start, token)
    if text.startswith(token, start):
        return start, start + len(token)
    return start, _first_markup_end(text, start)


def _same_token_end(text: str, start: int, token: str) -> int:
    """End of `token` in `text` if the source spells it the same; else the end of the text.

    A tag spelt differently in the source runs over lines inside a block quote or list,
    where the markers between its lines are not part of it; rather than guess its end,
    everything after it goes.
    """
    return start + len(token) if text.startswith(token, start) else len(text)


def _first_markup_end(text: str, start: int) -> int:
    """Just past the first `>` after `start` that is not a block-quote marker, or the end.

    A comment, declaration or processing instruction ends at the first `>` the HTML holds.
    If that `>` came from the source it is this one; if cmark wrote it (the construct ran
    to the end of its block), this one lies at or past the block's end. Either way the
    cut covers what was hidden.
    """
    if text.startswith("<!--", start):
        match = _COMMENT_END.search(text, start + 4)
        return match.end() if match else len(text)
    for match in re.finditer(">", text[start + 1 :]):
        at = start + 1 + match.start()
        line_start = text.rfind("\n", 0, at) + 1
        if line_start > start and not text[line_start:at].strip(" \t>"):
            continue  # a block-quote marker at the start of a line
        return at + 1
    return len(text)
