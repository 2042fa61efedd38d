"""A webhook body read as GitHub writes it, or refused with the reason why.

GitHub sends one JSON object, as UTF-8 without a byte order mark, whose numbers are
integers that fit in 64 bits (ids are int64 in its OpenAPI description) or finite
decimals, and whose strings are Unicode text. A body that is anything else was not
written by GitHub, so it is refused here, before any decision is made about it and
before any of it can reach the ledger, a log line or the model, where it would fail
later and less clearly (an int past 64 bits does not fit an SQL integer; a lone UTF-16
surrogate cannot be encoded as UTF-8, so nothing can store or send it).

This is on the request path of every delivery, so the usual body takes a fast way:
msgspec's parser (about 20 µs on a 16 KB payload, plus 5 µs for the scan, against
45 µs for `json.loads` and 50–90 µs with the number hooks below) whenever a scan of
the bytes finds no run of 19 digits, i.e. no integer that could pass 64 bits
(`has_long_digit_run`, which looks at every fourth byte first). Where
that parser refuses anything (a non-finite number, a lone surrogate, bad UTF-8,
nesting past the recursion limit) or the scan finds a long run of digits, the body is
read again the careful way, with the number hooks inside the C parser, which accepts
and refuses exactly as before and says why. The fast way accepts nothing else the
careful one refuses: the numbers it reads fit in 64 bits, and it stops at Python's
recursion limit too (a few levels later, as it calls fewer functions on the way: about
997 against 993). The scan for lone surrogates runs only when a `\\uD8xx`-style escape
is in the body at all, which GitHub's raw UTF-8 seldom has.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# The longest integer literal that can fit: "-9223372036854775808" is 20 characters.
_LONGEST_INT64 = len(str(INT64_MIN))

_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),  # before UTF-16: it starts with the UTF-16 LE mark
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF8, "UTF-8 with a byte order mark"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

# Any escape of a UTF-16 surrogate (\uD800-\uDFFF): the cheap test for "look closer".
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
# Every escape in a JSON text, read from its backslash so that `\\ud800` (an escaped
# backslash, then text) is never taken for one: a pair (high then low) is one character;
# group 1 is a surrogate standing alone.
_ESCAPE = re.compile(
    rb"\\(?:u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    rb"|(u[dD][89a-fA-F][0-9a-fA-F]{2})|.)",
    re.DOTALL,
)


class UnreadableBody(ValueError):
    """The body is not a webhook payload GitHub could have sent; the message says why."""


def read_payload(body: bytes) -> dict[str, Any]:
    """The JSON object in `body`, or `UnreadableBody` naming the rule it breaks."""
    payload = _read_fast(body)
    if payload is None:
        payload = _read_carefully(body)
    if not isinstance(payload, dict):
        raise UnreadableBody(
            f"the body is JSON but a {_json_kind(payload)}, not an object; GitHub sends objects"
        )
    if b"\\" in body and _SURROGATE_ESCAPE.search(body) and _has_lone_surrogate(body):
        raise UnreadableBody(
            "a string in the body holds a lone UTF-16 surrogate (such as \\ud800), which is "
            "not Unicode text; GitHub never sends one"
        )
    return payload


def _read_fast(body: bytes) -> Any:
    """The body parsed by msgspec, or None: then only the careful way can tell."""
    # A byte order mark, a NUL byte, bad UTF-8: msgspec refuses them all, as it should.
    if _FAST_DECODER is None or has_long_digit_run(body):
        return None
    try:
        return _FAST_DECODER.decode(body)
    except Exception:  # msgspec's errors, RecursionError: the careful way says which
        return None


def _read_carefully(body: bytes) -> Any:
    text = _utf8_text(body)
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise UnreadableBody(
            "the JSON nests deeper than Rolecall parses (GitHub's payloads nest a few "
            "levels; this one nests about a thousand)"
        ) from None
    except json.JSONDecodeError as exc:
        raise UnreadableBody(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None


def _utf8_text(body: bytes) -> str:
    for mark, name in _BYTE_ORDER_MARKS:
        if body.startswith(mark):
            raise UnreadableBody(f"the body is {name}; GitHub sends UTF-8 without a BOM")
    if b"\x00" in body:
        # No JSON text holds a raw NUL byte; UTF-16 and UTF-32 text is full of them.
        raise UnreadableBody(
            "the body holds NUL bytes, as UTF-16 or UTF-32 text does; GitHub sends UTF-8"
        )
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBody(
            f"the body is not UTF-8 (byte {exc.start} cannot start or continue a character); "
            "GitHub sends UTF-8"
        ) from None


def _int64(literal: str) -> int:
    """A JSON integer, refused unless it fits in 64 bits (GitHub's ids are int64)."""
    if len(literal) <= _LONGEST_INT64:
        value = int(literal)
        if INT64_MIN <= value <= INT64_MAX:
            return value
    shown = literal if len(literal) <= 30 else f"{literal[:12]}… ({len(literal)} digits)"
    raise UnreadableBody(
        f"the number {shown} does not fit in a signed 64-bit integer; GitHub's numbers do"
    )


def _finite(literal: str) -> float:
    """A JSON decimal, refused when it overflows to infinity (1e400)."""
    value = float(literal)
    if not math.isfinite(value):
        raise UnreadableBody(f"the number {literal[:30]} is not a finite double")
    return value


def _no_constant(name: str) -> float:
    """`NaN`, `Infinity`, `-Infinity`: Python's json accepts them, JSON does not."""
    raise UnreadableBody(f"{name} is not JSON (numbers must be finite); GitHub never sends it")


_DECODER = json.JSONDecoder(parse_int=_int64, parse_float=_finite, parse_constant=_no_constant)

# The fast way (see the module's docstring). Without msgspec every body goes the careful way.
try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; this keeps reading bodies
    _FAST_DECODER: Any = None
else:
    _FAST_DECODER = msgspec.json.Decoder()
# An integer literal past 64 bits has at least 19 digits (as may a string, which only
# sends that body the careful way).
_LONG_RUN = len(str(INT64_MAX))
_DIGIT_RUN = re.compile(rb"[0-9]{%d}" % _LONG_RUN)
# Every digit becomes "0", every other byte ".".
_DIGITS_ONLY = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x2E for byte in range(256))
# Every 4th byte is looked at first: 19 digits in a row always cover 4 looked-at bytes in
# a row (the first at most 3 bytes in, the fourth 12 bytes after it), and no shorter run
# can, nor a GitHub time ("2019-05-15T15:20:33Z": its separators fall on every third
# byte, and any four bytes 4 apart meet one). So only a stretch where 4 looked-at bytes
# are digits is read in full.
_STEP = 4
_SAMPLED_RUN = b"0" * 4
assert (_STEP - 1) + (len(_SAMPLED_RUN) - 1) * _STEP < _LONG_RUN


def has_long_digit_run(body: bytes) -> bool:
    """Whether `body` holds 19 ASCII digits in a row (an integer that may not fit int64).

    The same answer as searching every byte, in about half the time: every 4th byte is
    read, and only around 4 digits among those (at m, m+4, m+8, m+12) is every byte read:
    a run of 19 that covers them starts at most 3 bytes before m and ends before m+19.
    """
    sampled = body[::_STEP].translate(_DIGITS_ONLY)
    found = sampled.find(_SAMPLED_RUN)
    while found >= 0:
        at = found * _STEP
        if _DIGIT_RUN.search(body, max(at - (_STEP - 1), 0), at + _LONG_RUN):
            return True
        found = sampled.find(_SAMPLED_RUN, found + 1)
    return False


def _has_lone_surrogate(body: bytes) -> bool:
    return any(match.group(1) for match in _ESCAPE.finditer(body))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "array"
