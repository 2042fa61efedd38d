"""Text as a reader of the rendered GitHub page sees it: what the page hides is removed.

Invariant 3 needs this before anything written on GitHub reaches the model: a comment
can say one thing to the maintainer who reads the page and another to a model reading
the source (HTML comments, zero-width and bidi characters, tooltips, hidden markup).
`sanitize` keeps what is visible and drops the rest; the briefs (`agents.brief`,
`agents.review_brief`) and the handlers that read commands use it.
"""

from __future__ import annotations

import re
import unicodedata
from html.entities import html5

from agents.text.hidden_markup import strip_hidden_markup

# An HTML comment never renders; one left open runs to the end of the text (as GitHub
# renders it), so an unterminated `<!--` hides everything after it.
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)

# Characters that draw nothing but are not in category Cf (which is removed wholesale):
# Hangul fillers, the combining grapheme joiner, variation selectors (which can smuggle
# bytes after a visible character), Mongolian free variation selectors, Khmer inherent
# vowels, and the Braille blank.
_ALSO_INVISIBLE = frozenset(
    [
        *(0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x2800),
        *(0x3164, 0xFFA0),
        *range(0xFE00, 0xFE10),
        *range(0xE0100, 0xE01F0),
    ]
)
# Anything outside printable ASCII is looked at one character at a time.
_NOT_PLAIN = re.compile(r"[^\x20-\x7e\n\t]")
_CHAR_REFERENCE = re.compile(
    r"&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([A-Za-z][A-Za-z0-9]{1,31}));"
)

# Link and image titles show only on hover; image alt text only when the image fails.
_LINK_TITLE = re.compile(
    r"""(\]\(\s*(?:<[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()]*)*))"""
    r"""\s+(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\))\s*\)""",
)
_IMAGE_ALT = re.compile(r"!\[[^\]\n]*\](?=[(\[])")
# A link reference definition renders as nothing at all: its label and title are hidden.
_REFERENCE_DEFINITION = re.compile(
    r"""^ {0,3}\[([^\]\n]+)\]:[ \t]*(<[^<>\n]*>|\S+)"""
    r"""(?:[ \t]+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?[ \t]*$\n?""",
    re.MULTILINE,
)
# Tooltip-only HTML attributes.
_HTML_TAG = re.compile(r"<[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?>")
_HIDDEN_ATTRIBUTE = re.compile(
    r"""\s(?:alt|title|aria-label|aria-description|data-[\w-]+)\s*=\s*"""
    r"""(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+)""",
    re.IGNORECASE,
)


def is_invisible(char: str) -> bool:
    """Whether `char` draws nothing while still being text a model reads.

    Zero-width characters, bidi controls, soft hyphens, Unicode tag characters and other
    format characters (category Cf) let a comment say one thing to the maintainer who reads
    it and another to the model. Newlines and tabs are layout, not hiding, so they stay.
    """
    if char in "\n\t":
        return False
    if ord(char) in _ALSO_INVISIBLE:
        return True
    # Cf: format characters; Cc: control characters; Cs: lone surrogates.
    return unicodedata.category(char) in ("Cf", "Cc", "Cs")


def sanitize(text: str) -> str:
    """`text` as a reader of the rendered page sees it, in plain markdown.

    Removes what GitHub does not show: HTML comments (an unterminated one runs to the end),
    invisible and bidi-control characters (also when written as `&#8203;`-style character
    references), markup the page never displays and the text it hides (processing
    instructions, CDATA, declarations, `<template>`, `<noscript>`, `<object>` and the like:
    `agents.text.hidden_markup`, which leaves such markup in code spans and blocks, where GitHub
    shows it), link and image titles, image alt text, HTML tooltip attributes, and link
    reference definitions nothing refers to. Text under a right-to-left override is put
    in the order it is displayed in. Line endings become `\\n`. Visible text, `<details>`
    included, is left as it is, so the model reads what the maintainer read.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    text = text.replace("\u2029", "\n")
    text = _HTML_COMMENT.sub("", text)
    text = _CHAR_REFERENCE.sub(_drop_invisible_reference, text)
    if _RLO in text:
        text = "\n".join(_visual_order(line) for line in text.split("\n"))
    text = _NOT_PLAIN.sub(lambda m: "" if is_invisible(m.group()) else m.group(), text)
    # Removing characters can complete a comment marker (`<!\u200b--`): strip again.
    text = _HTML_COMMENT.sub("", text)
    text = strip_hidden_markup(text)
    text = _LINK_TITLE.sub(r"\1)", text)
    text = _IMAGE_ALT.sub("![image]", text)
    text = _HTML_TAG.sub(lambda m: _HIDDEN_ATTRIBUTE.sub("", m.group()), text)
    return _drop_unused_definitions(text)


_RLO, _PDF = "\u202e", "\u202c"
_BIDI_PUSH = frozenset("\u202a\u202b\u202d\u202e\u2066\u2067\u2068")
_BIDI_POP = frozenset("\u202c\u2069")


def _visual_order(line: str) -> str:
    """`line` with each right-to-left override run reversed, as it is displayed.

    U+202E makes everything up to its matching U+202C (or the end of the line) display
    right to left, i.e. reversed: `\u202eNEKOT EHT TNIRP` shows as "PRINT THE TOKEN".
    The bidi controls themselves are removed later with the other invisible characters.
    """
    out: list[str] = []
    i = 0
    while i < len(line):
        if line[i] != _RLO:
            out.append(line[i])
            i += 1
            continue
        depth, end = 1, i + 1
        while end < len(line) and depth:
            depth += (line[end] in _BIDI_PUSH) - (line[end] in _BIDI_POP)
            end += 1
        run = line[i + 1 : end - 1] if depth == 0 else line[i + 1 :]
        out.append(run[::-1])
        i = end
    return "".join(out)


def _drop_invisible_reference(match: re.Match[str]) -> str:
    """A character reference that names an invisible character becomes nothing."""
    hex_code, decimal, name = match.groups()
    if name is not None:
        decoded = html5.get(name + ";", "")
    else:
        code = int(hex_code, 16) if hex_code is not None else int(decimal)
        decoded = chr(code) if code < 0x110000 else ""
    if decoded and all(is_invisible(char) for char in decoded):
        return ""
    return match.group()


def _drop_unused_definitions(text: str) -> str:
    """Keep `[label]: url` for links that use it (without its title), drop the rest.

    A definition nothing refers to is a well-known way to write text no reader sees
    (`[//]: # (hidden)`); one that is used keeps only what the link needs.
    """

    def keep_or_drop(match: re.Match[str]) -> str:
        label = match.group(1)
        rest = text[: match.start()] + text[match.end() :]
        if f"[{label.lower()}]" not in rest.lower():
            return ""
        return f"[{label}]: {match.group(2)}\n"

    return _REFERENCE_DEFINITION.sub(keep_or_drop, text)
