"""Credentials by where they stand: a value under a secret's name, a password in a URL.

`NAME=value`, `export NAME=value`, `NAME: value` (YAML), `"name": "value"` (JSON),
`name = "value"` (TOML, Python), `name := value`, `"name" => "value"`, `--name=value`,
`--name value` and `scheme://user:password@host` hold a credential when the name says
secret (`agents.text.redact.judging.says_secret`) and the value looks like one
(`looks_secret`). Only the value is a hit, so a reader still sees what was configured.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

from agents.text.redact.judging import looks_secret, says_secret

Span = tuple[int, int]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*"
# A quoted value, on one line; or an unquoted one, up to a blank, a quote, a separator,
# a bracket, a JSON escape (`\n` in a transcript line ends it) or an `=` that is not
# base64 padding (`--env=NAME=value` holds an assignment of its own).
_QUOTED = r"(?P<q>[\"'])(?P<quoted>(?:(?!(?P=q))[^\n])*)(?P=q)"
_STOP = r"\s\"'`,;\\<>(){}\[\]"
_BARE = rf"(?P<bare>(?:[^{_STOP}=]|\\(?![nrtu\"'\\/])|=(?==*(?:[{_STOP}]|$)))+)"
_ASSIGNMENT = re.compile(
    rf"(?<![\w.\-])-{{0,2}}(?P<name>{_NAME})[\"']?[ \t]*"
    r"(?P<sep>:=|=>|=(?![=~>])|:(?=[ \t\"']))(?P<gap>[ \t]*)"
    rf"(?:{_QUOTED}|{_BARE})"
)
_FLAG = re.compile(rf"(?<![\w\-])--(?P<name>{_NAME})(?P<gap>[ \t]+)(?:{_QUOTED}|{_BARE})")
# The scheme is anchored where a word starts, so a long run of letters is read once.
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]{0,30}://(?P<user>[^\s:/@\"'`<>?#]*)"
    r"(?::(?P<password>[^\s/@\"'`<>?#]*))?@"
)
# The user part of a URL is a secret on its own (a Sentry DSN's key) only when longer.
MIN_URL_USER_SECRET = 16


def named_value_spans(text: str) -> Iterator[Span]:
    """The value of every `NAME=value` (in any of its shapes) that is a credential."""
    for pattern in (_ASSIGNMENT, _FLAG):
        position = 0
        while match := pattern.search(text, position):
            span = None
            if says_secret(match.group("name")):
                span = _value_span(match, flag=pattern is _FLAG)
            if span is not None:
                yield span
                position = span[1]
            else:
                # The value may hold an assignment of its own (a JSON string quoting
                # `NAME=value`, `packed-refs: DB_PASSWORD=…`): search on from inside it.
                position = match.start("quoted" if match.group("q") else "bare")


def url_credential_spans(text: str) -> Iterator[Span]:
    """The password of `scheme://user:password@host`, or a user that is itself a key."""
    for match in _URL_CREDENTIALS.finditer(text):
        password = match.group("password")
        if password is not None:
            if looks_secret(unquote(password)):
                yield match.span("password")
        elif looks_secret(unquote(match.group("user")), MIN_URL_USER_SECRET):
            yield match.span("user")


def _value_span(match: re.Match[str], *, flag: bool) -> Span | None:
    if match.group("quoted") is not None:
        start, end = match.span("quoted")
    else:
        start, end = match.span("bare")
        bare = match.group("bare")
        if bare.startswith("#") and match.group("gap"):
            return None  # a comment after an empty value
        if flag and bare.startswith("-"):
            return None  # the next option, not a value
        if match.string[end : end + 1] in ("(", "["):
            return None  # a call or a subscript: code that fetches the secret
        while end > start and match.string[end - 1] in ".:":
            end -= 1  # the end of a sentence
    return (start, end) if looks_secret(match.string[start:end]) else None
