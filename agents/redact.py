"""Redaction of secret-shaped strings from everything Rolecall posts or logs.

Invariant 6: whatever the agent printed, whatever a role file contained, no
credential leaves through a comment, a PR body or a log line. Patterns cover the
credential formats we know; `Redactor` adds the exact values Rolecall itself holds
(installation tokens, the model key, the webhook secret, the App's private key) so
those are caught even when they match no pattern.

A secret rarely arrives tidy. A model (or a hostile instruction it obeyed) can print a
token folded over two lines, wrapped in ANSI colour codes, base64-encoded, or inside a
JSON string where its line breaks are `\\n` escapes. So the text is searched in three
views and every hit is mapped back to the characters of the original text:

- the text with ANSI escape sequences removed;
- the same, with line breaks (and the indentation around them) removed, so a folded
  token reads whole again; searched for the known secrets and `JOINABLE_PATTERNS`;
- every base64 (or base64url) run of both, decoded, so an encoded secret is found by its
  content and the whole encoded run is redacted.

Redaction errs towards removing too much: a base64 run, a JWT or an Anthropic key at the
end of a line may take the first word of the next line with it. What is not caught:
credential formats not listed here, when Rolecall does not hold the value, and encodings
other than base64 (hex, rot13, reversed text, one character per line with other text in
between). The agent never sees Rolecall's own credentials (invariant 1); this is the
second line of defence.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import re
from collections.abc import Iterable, Iterator

REDACTED = "[REDACTED]"

# Each pattern matches one whole credential, anchored on a distinctive prefix so that
# ordinary prose is not mangled. A pattern with a group named `secret` redacts only that
# group (the value, not the name that introduced it).
SECRET_PATTERNS: tuple[re.Pattern[str], ...] = (
    # GitHub: personal (ghp_), OAuth (gho_), user-to-server (ghu_), server-to-server
    # i.e. installation (ghs_) and refresh (ghr_) tokens; fine-grained PATs.
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,255}"),
    re.compile(r"github_pat_[A-Za-z0-9_]{20,255}"),
    # Anthropic API and admin keys.
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,}"),
    # AWS access key ids, and a secret access key where it is named as one.
    re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(
        r"(?i:aws_?secret_?access_?key|secret_?access_?key)[\"'\s:=]{1,6}"
        r"(?P<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"
    ),
    # PEM private keys (RSA, EC, OPENSSH, PKCS#8, encrypted); a truncated one to the end.
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)",
        re.DOTALL,
    ),
    # JSON Web Tokens (a GitHub App's JWT among them): base64url of `{"` twice.
    re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"),
    # Registries a role may be allowed to reach, and other common services.
    re.compile(r"npm_[A-Za-z0-9]{36}"),
    re.compile(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,}"),
    re.compile(r"xox[abposr]-[A-Za-z0-9\-]{10,}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{35}"),
    re.compile(r"[rs]k_live_[0-9A-Za-z]{16,}"),
    # Credentials in a URL, and in an Authorization header.
    re.compile(r"://[^/\s:@]{1,100}:(?P<secret>[^/\s@]{8,})@"),
    re.compile(
        r"(?i:authorization)[\"']?\s*[:=]\s*[\"']?(?i:bearer|token|basic)\s+"
        r"(?P<secret>[A-Za-z0-9._~+/=\-]{8,})"
    ),
)

# Searched again with line breaks removed. Formats of a fixed length: knowing where the
# credential ends, a folded one is found whole without taking the next line's first word.
# Private keys (their header and footer say where they end), JWTs and Anthropic keys,
# whose length varies: a folded JWT or Anthropic key may take that word with it.
JOINABLE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"sk-ant-[A-Za-z0-9_\-]{10,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)"),
    # A JWT's signature, up to (not into) a PEM line that may follow it.
    re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.(?:[A-Za-z0-9_]|-(?!----))*"),
    re.compile(r"gh[pousr]_[A-Za-z0-9]{36}"),
    re.compile(r"github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
    re.compile(r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
    re.compile(
        r"(?i:aws_?secret_?access_?key|secret_?access_?key)[\"'\s:=]{1,6}"
        r"(?P<secret>[A-Za-z0-9/+]{40})"
    ),
    re.compile(r"npm_[A-Za-z0-9]{36}"),
    re.compile(r"AIza[0-9A-Za-z_\-]{35}"),
)

# CSI (colours, cursor), OSC (titles, hyperlinks) and two-character escapes; also as
# they look once JSON-encoded (`\u001b[31m`), as in a transcript line.
_ANSI = (
    r"(?:\x1b|\\u001b|\\x1b|\\033)"
    r"(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])"
)
_ANSI_RE = re.compile(_ANSI)
# A line break with the blanks around it, raw or JSON-escaped.
_JOINED_RE = re.compile(_ANSI + r"|[ \t]*(?:\r?\n|\\r\\n|\\n)[ \t>]*")
# base64 and base64url runs long enough to hold a credential (16 bytes and more).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{24,}={0,2}")
# Known secrets shorter than this are not matched: they would redact ordinary words.
MIN_KNOWN_LENGTH = 8
# Lines of a multi-line secret (a PEM key) are registered as secrets of their own when
# at least this long, so printing part of the key is caught too.
MIN_SECRET_LINE = 16
# A decoded base64 run is searched for secrets only up to this size.
_MAX_DECODED = 1024 * 1024

Span = tuple[int, int]


class _View:
    """`text` with some stretches removed, and the way back to the original positions."""

    def __init__(self, text: str, drop: re.Pattern[str]) -> None:
        parts: list[str] = []
        # (start in the view, start in the original) for each kept stretch.
        self._view_starts: list[int] = []
        self._orig_starts: list[int] = []
        self.removed = False
        position = length = 0
        for match in drop.finditer(text):
            if match.start() == match.end():
                continue
            self._keep(parts, text, position, match.start(), length)
            length += match.start() - position
            position = match.end()
            self.removed = True
        self._keep(parts, text, position, len(text), length)
        self.text = "".join(parts)

    def _keep(self, parts: list[str], text: str, start: int, end: int, at: int) -> None:
        if end > start:
            parts.append(text[start:end])
            self._view_starts.append(at)
            self._orig_starts.append(start)

    def original(self, start: int, end: int) -> Span:
        """The original span covering view characters start..end (end exclusive)."""
        first = bisect.bisect_right(self._view_starts, start) - 1
        last = bisect.bisect_right(self._view_starts, end - 1) - 1
        return (
            self._orig_starts[first] + start - self._view_starts[first],
            self._orig_starts[last] + (end - 1) - self._view_starts[last] + 1,
        )


def _pattern_spans(
    text: str, patterns: tuple[re.Pattern[str], ...] = SECRET_PATTERNS
) -> Iterator[Span]:
    for pattern in patterns:
        group = "secret" if "secret" in pattern.groupindex else 0
        for match in pattern.finditer(text):
            if match.end(group) > match.start(group):
                yield match.start(group), match.end(group)


def _known_spans(text: str, known: Iterable[str]) -> Iterator[Span]:
    for secret in known:
        start = text.find(secret)
        while start != -1:
            yield start, start + len(secret)
            start = text.find(secret, start + 1)


def _decoded(run: str) -> str | None:
    """The text a base64 or base64url run decodes to, or None if it does not decode."""
    body = run.rstrip("=")
    if len(body) * 3 // 4 > _MAX_DECODED:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.decode("latin-1")


def _spans(text: str, known: tuple[str, ...]) -> list[Span]:
    """Every span of `text` that is, or encodes, a secret; merged and in order."""
    found: list[Span] = []
    views = [_View(text, _ANSI_RE)]
    if "\n" in text or "\\n" in text:
        views.append(_View(text, _JOINED_RE))
    for index, view in enumerate(views):
        if index > 0 and not view.removed:
            continue
        patterns = SECRET_PATTERNS if index == 0 else JOINABLE_PATTERNS
        hits = [*_pattern_spans(view.text, patterns), *_known_spans(view.text, known)]
        found += [view.original(start, end) for start, end in hits]
        for run in _BASE64_RUN.finditer(view.text):
            decoded = _decoded(run.group())
            if decoded is None:
                continue
            if any(True for _ in _pattern_spans(decoded)) or any(
                True for _ in _known_spans(decoded, known)
            ):
                found.append(view.original(run.start(), run.end()))
    return _merge(found)


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def find_secrets(text: str) -> list[str]:
    """The credential-shaped strings in `text`, in order of appearance.

    Each is the stretch of `text` itself that holds it (so it may contain the line break
    or colour codes a folded or coloured token was printed with, or be a base64 run).
    """
    return [text[start:end] for start, end in _spans(text, ())]


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
    installation token) and may be called from any thread.
    """

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self._known: tuple[str, ...] = ()
        self.add(*known_secrets)

    def add(self, *secrets: str) -> None:
        values = {v for s in secrets if s for v in _variants(s) if len(v) >= MIN_KNOWN_LENGTH}
        # Longest first, so a secret that contains another is removed whole.
        self._known = tuple(sorted({*self._known, *values}, key=len, reverse=True))

    def find(self, text: str) -> list[str]:
        """Like `find_secrets`, and also every known secret value found in `text`."""
        return [text[start:end] for start, end in _spans(text, self._known)]

    def __call__(self, text: str) -> str:
        spans = _spans(text, self._known)
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
