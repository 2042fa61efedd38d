"""Encoded stretches of a text, decoded, so an encoded secret is found by its content.

base64 (and base64url) is decoded at every offset: a `+` diff prefix, a one-letter
prefix or a word glued in front shifts where the encoding starts, and decoding only
from the first character would read garbage. Hex is decoded however it is written
(`4748`, `0x4748`, `\\x47\\x48`, `47 48`, `47:48`, folded `xxd -p` lines) at both
offsets. Only the printable stretches of what comes out are searched: an encoded
secret decodes to text, and ordinary words decode to noise.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator

Span = tuple[int, int]

# base64 and base64url runs long enough to hold a short secret (12 bytes and more).
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
# Hex digits in pairs or longer groups, with the separators hex dumps use between them.
_HEX_RUN = re.compile(
    r"(?:\\x|0x)?[0-9A-Fa-f]{2,}(?:(?:[ :]|\r?\n|\\n)?(?:\\x|0x)?[0-9A-Fa-f]{2,})*"
)
_NOT_HEX_DIGIT = re.compile(r"\\x|0x|[^0-9A-Fa-f]")
_MIN_HEX_DIGITS = 16
_PRINTABLE = re.compile(r"[\t\n\r\x20-\x7e]{8,}")
# A run is decoded only up to this size.
_MAX_RUN = 1024 * 1024


def encoded_stretches(text: str) -> Iterator[tuple[Span, str]]:
    """Each base64 or hex run in `text` with the printable text it decodes to.

    A run may be yielded more than once (one per offset); each decoding is one string
    of its printable stretches, separated by line breaks.
    """
    yield from base64_stretches(text)
    for match in _HEX_RUN.finditer(text):
        digits = _NOT_HEX_DIGIT.sub("", match.group())
        if len(digits) < _MIN_HEX_DIGITS or len(digits) > _MAX_RUN:
            continue
        for offset in (0, 1):
            body = digits[offset:]
            decoded = _printable(bytes.fromhex(body[: len(body) // 2 * 2]))
            if decoded:
                yield match.span(), decoded


def base64_stretches(text: str) -> Iterator[tuple[Span, str]]:
    """Each base64 run in `text`, decoded at each of the four offsets."""
    for match in _BASE64_RUN.finditer(text):
        run = match.group().rstrip("=")
        if len(run) > _MAX_RUN:
            continue
        standard = run.replace("-", "+").replace("_", "/")
        for offset in range(4):
            body = standard[offset:]
            if len(body) % 4 == 1:
                body = body[:-1]  # a lone trailing character encodes nothing
            try:
                raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            decoded = _printable(raw)
            if decoded:
                yield match.span(), decoded


def _printable(raw: bytes) -> str:
    return "\n".join(_PRINTABLE.findall(raw.decode("latin-1")))
