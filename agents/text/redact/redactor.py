"""Finding every secret in a text, and the `Redactor` that replaces them.

The text is searched in views (`agents.text.redact.views`): as it is with colour codes and
escaped quotes removed; with line breaks removed, so a folded token reads whole; and,
for a diff, with the `+` markers removed as well. In each view, three kinds of hit:

- credential formats (`formats`): tokens that say what they are;
- credentials by where they stand (`shapes`): a value under a secret's name, a password
  in a URL;
- the exact values Rolecall holds (its own secrets, given to `Redactor`).

Every base64 and hex run is decoded (`encodings`) and searched for the same three, and
a hit redacts the whole encoded run. A value found under a secret's name is then looked
for everywhere else in the text (and a `Redactor` remembers it for the texts that
follow), because `The app signs sessions with <value>` names nothing.

Every hit is mapped back to the original text, so what is redacted is the whole
disguise: the colour codes, the line breaks and indentation of a fold, the encoded run.
A variable-length token or value found with line breaks removed is followed onto the
next line only while that break looks like a fold (`folds.folded_end`).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from agents.text.redact.encodings import base64_stretches, encoded_stretches
from agents.text.redact.folds import folded_end
from agents.text.redact.formats import all_formats, format_spans
from agents.text.redact.judging import looks_secret
from agents.text.redact.shapes import named_value_spans, url_credential_spans
from agents.text.redact.views import View, base_view, joined_views

REDACTED = "[REDACTED]"
# Known secrets shorter than this are not matched: they would redact ordinary words.
MIN_KNOWN_LENGTH = 8
# Lines of a multi-line secret (a PEM key) are registered as secrets of their own when
# at least this long, so printing part of the key is caught too.
MIN_SECRET_LINE = 16
# How many values found under a secret's name a `Redactor` remembers.
MAX_LEARNED = 256

Span = tuple[int, int]


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    whole: bool  # its own length (or end marker, or exact value) says where it ends
    value: bool = False  # found under a secret's name: looked for elsewhere too


@dataclass
class Found:
    """The spans of secrets in one text, and the values to look for in the next ones."""

    spans: list[Span] = field(default_factory=list)
    values: set[str] = field(default_factory=set)


def scan(text: str, known: tuple[str, ...] = ()) -> Found:
    """Every span of `text` that is, or encodes, a secret; merged and in order."""
    found = Found()
    base = base_view(text)
    for hit in _hits(base.text, known):
        _record(found, base, hit)
    for span, decoded in encoded_stretches(base.text):
        _record_decoded(found, base, span, decoded, known)
    for joined in joined_views(base):
        for hit in _hits(joined.text, known):
            folded = _follow_fold(joined, hit)
            if folded is not None:
                _record(found, joined, folded)
        for span, decoded in base64_stretches(joined.text):
            _record_decoded(found, joined, span, decoded, known)
    for value in found.values:
        found.spans += [base.original(*span) for span in _occurrences(base.text, value)]
    found.spans = _merge(found.spans)
    return found


def _hits(text: str, known: tuple[str, ...]) -> Iterator[_Hit]:
    for (start, end), fixed in format_spans(text, all_formats()):
        yield _Hit(start, end, whole=fixed)
    for start, end in (*named_value_spans(text), *url_credential_spans(text)):
        yield _Hit(start, end, whole=False, value=True)
    for secret in known:
        for start, end in _occurrences(text, secret):
            yield _Hit(start, end, whole=True)


def _record(found: Found, view: View, hit: _Hit) -> None:
    found.spans.append(view.original(hit.start, hit.end))
    if hit.value:
        found.values.add(view.text[hit.start : hit.end])


def _record_decoded(
    found: Found, view: View, span: Span, decoded: str, known: tuple[str, ...]
) -> None:
    hits = list(_hits(decoded, known))
    if hits:
        found.spans.append(view.original(*span))
        found.values.update(decoded[h.start : h.end] for h in hits if h.value)


def _follow_fold(view: View, hit: _Hit) -> _Hit | None:
    """`hit` (found with line breaks removed) as far as it is one token folded over lines."""
    if hit.whole:
        return hit
    end = folded_end(view, hit.start, hit.end, value=hit.value)
    if hit.value:
        end = _trim_sentence_end(view.text, hit.start, end)
        if not looks_secret(view.text[hit.start : end]):
            return None
    return _Hit(hit.start, end, whole=False, value=hit.value) if end > hit.start else None


def _trim_sentence_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in ".:":
        end -= 1
    return end


def _occurrences(text: str, secret: str) -> Iterator[Span]:
    start = text.find(secret)
    while start != -1:
        yield start, start + len(secret)
        start = text.find(secret, start + 1)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def secret_spans(text: str) -> list[Span]:
    """Where `text` holds a secret-shaped string, as (start, end), in order."""
    return scan(text).spans


def find_secrets(text: str) -> list[str]:
    """The secret-shaped strings in `text`, in order of appearance.

    Each is the stretch of `text` itself that holds it (so it may contain the line break
    or colour codes a folded or coloured token was printed with, or be an encoded run).
    """
    return [text[start:end] for start, end in secret_spans(text)]


def _variants(secret: str) -> set[str]:
    """A secret and the parts of it that are secrets on their own (a PEM key's lines)."""
    found = {secret}
    if "\n" in secret or "\\n" in secret:
        for line in re.split(r"\\n|\r?\n", secret):
            line = line.strip()
            if len(line) >= MIN_SECRET_LINE and not line.startswith("-----"):
                found.add(line)
    return found


class Redactor:
    """Replaces known secret values and secret-shaped strings with a marker.

    `known_secrets` are the exact values this process holds; they are redacted even
    when they look like nothing in particular. `add` registers more (a freshly minted
    installation token). A value found under a secret's name (`BETTER_AUTH_SECRET=…`)
    is remembered, so the same value is redacted in the texts that follow even where
    nothing names it. Safe to share between threads.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._known: tuple[str, ...] = ()
        self._learned: tuple[str, ...] = ()
        self.add(*known_secrets)

    def add(self, *secrets: str) -> None:
        values = {v for s in secrets if s for v in _variants(s) if len(v) >= MIN_KNOWN_LENGTH}
        with self._lock:
            # Longest first, so a secret that contains another is removed whole.
            self._known = tuple(sorted({*self._known, *values}, key=len, reverse=True))

    def spans(self, text: str) -> list[Span]:
        """Where `text` holds a secret, as (start, end), in order."""
        found = scan(text, self._known + self._learned)
        if found.values - set(self._learned):
            with self._lock:
                learned = dict.fromkeys((*found.values, *self._learned))
                self._learned = tuple(learned)[:MAX_LEARNED]
        return found.spans

    def find(self, text: str) -> list[str]:
        """Like `find_secrets`, and also every known secret value found in `text`."""
        return [text[start:end] for start, end in self.spans(text)]

    def __call__(self, text: str) -> str:
        spans = self.spans(text)
        if not spans:
            return text
        out: list[str] = []
        position = 0
        for start, end in spans:
            out.append(text[position:start])
            out.append(REDACTED)
            position = end
        out.append(text[position:])
        return "".join(out)
