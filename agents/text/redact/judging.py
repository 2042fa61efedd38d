"""Whether a name says "secret", and whether a value looks like one.

A `NAME=value` line is a credential when both hold: the name says so (`DB_PASSWORD`,
`clientSecret`, `x-api-key`) and the value is not a placeholder, a reference to where
the secret really lives, a path, a number or a piece of code. The second half is what
keeps pull requests readable: configuration and code mention secrets all the time
(`password: ${DB_PASSWORD}`, `token = os.environ["TOKEN"]`, `API_KEY=changeme`) without
holding one.
"""

from __future__ import annotations

import re

# A value shorter than this is never taken for a secret: it would redact `1234`, `xxx`.
MIN_VALUE_LENGTH = 8

# Words (of a name split at `_`, `-`, `.` and camelCase) that make it a secret's name.
SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "token",
        "password",
        "passwd",
        "pwd",
        "pw",
        "pass",
        "passphrase",
        "passcode",
        "credential",
        "credentials",
        "creds",
        "auth",
        "dsn",
        "apikey",
        "secretkey",
        "privatekey",
        "accesskey",
        "authtoken",
    }
)
# `<word>_key` names a secret for these words (`API_KEY`, `private-key`, `accountKey`).
KEY_QUALIFIERS = frozenset(
    {
        "api",
        "access",
        "private",
        "secret",
        "account",
        "signing",
        "encryption",
        "master",
        "client",
        "auth",
        "app",
        "service",
        "license",
        "session",
        "storage",
    }
)
# `<word>_pat` names a personal access token for these (`GITHUB_PAT`); alone, `_PAT` is
# as often a regular expression's name.
PAT_QUALIFIERS = frozenset({"github", "gh", "gitlab", "personal", "access", "ado", "devops"})
# A lowercase run-together word ending in one of these is a secret's name too
# (`dbpassword`, `nextauthsecret`).
SECRET_ENDINGS = ("password", "passwd", "secret", "token", "apikey", "credential", "credentials")
# A name ending in one of these words is about a secret, not the secret itself
# (`TOKEN_URL`, `PASSWORD_FILE`, `SECRET_NAME`, `PASSWORD_MIN_LENGTH`, `token_budget`).
ABOUT_A_SECRET = frozenset(
    {
        "url", "uri", "urls", "endpoint", "host", "hostname", "port", "server", "domain",
        "file", "files", "path", "paths", "dir", "directory", "name", "names", "id", "ids",
        "type", "types", "kind", "length", "len", "size", "min", "max", "count", "ttl",
        "expiry", "expires", "expiration", "timeout", "header", "headers", "env", "var",
        "vars", "variable", "field", "enabled", "enable", "disabled", "required", "hint",
        "prompt", "label", "policy", "format", "pattern", "regex", "budget", "limit",
        "limits", "mode", "version", "prefix", "suffix", "method", "provider", "scope",
        "scopes", "user", "username", "login", "email", "hash", "digest", "checksum",
        "fingerprint", "algorithm", "algo", "rotation", "location", "source", "store",
        "manager", "command", "cmd", "script", "helper", "option", "options", "flag",
        "flags", "strength", "reset", "usage", "index", "at", "in", "on", "since", "until",
        "created", "updated", "issued", "seconds", "minutes", "hours", "days",
    }
)  # fmt: skip
# Words a placeholder value is made of (`your-secret-here`, `change-me`, `test-key-123`).
PLACEHOLDER_WORDS = frozenset(
    {
        "your", "my", "our", "the", "here", "goes", "put", "insert", "replace", "enter",
        "with", "this", "that", "and", "or", "of", "to", "for", "in",
        "secret", "secrets", "token", "tokens", "key", "keys", "password", "passwd",
        "pass", "pwd", "api", "apikey", "auth", "credential", "credentials", "value",
        "change", "me", "changeme", "changeit", "example", "examples", "sample", "dummy",
        "placeholder", "test", "testing", "tests", "fake", "mock", "stub", "demo", "dev",
        "local", "localhost", "default", "foo", "bar", "baz", "qux", "xxx", "todo",
        "fixme", "redacted", "hidden", "masked", "none", "null", "empty", "string", "str",
        "app", "user", "admin", "root", "guest", "sk", "pk", "abc", "xyz", "some",
        "random", "long", "generated", "generate", "openssl", "rand", "hex",
        "base64", "super", "very", "not", "real", "actual", "private", "public",
    }
)  # fmt: skip
# Values that are literals of some configuration language, whatever their case.
LITERALS = frozenset(
    {
        "true", "false", "yes", "no", "on", "off", "none", "null", "nil", "undefined",
        "required", "optional", "disabled", "enabled", "inherit", "default", "empty",
        "unset", "changeme", "hidden", "masked", "secret", "password", "token",
    }
)  # fmt: skip
# Where a value that starts so is a reference to a secret kept elsewhere, or a template.
_REFERENCE_START = ("$", "%(", "%{", "#{", "{{", "<", "[", "{", "@Value", "!Ref", "!Sub")
_REFERENCE_INSIDE = ("${", "$(", "{{", "<%", "%(", "}}")
# Substrings that, in a value without digits, make it a reference or a placeholder
# (`settings.db_password`, `vault_db_password`, `GITHUB_TOKEN`, `getApiKey`).
_SECRETISH = ("secret", "token", "passw", "pwd", "auth", "key", "cred")

_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_VALUE_WORD = re.compile(r"[a-z]+")
_MASK_RUN = re.compile(r"(.)\1{3,}")
# Numbers, versions, dates and times (`1.2.3`, `2024-01-01T00:00:00Z`).
_NUMBERISH = re.compile(r"[\d.,:+\-_/ ]+|\d{4}-\d\d-\d\d[T ][\d:.]+(?:Z|[+\-][\d:]+)?")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://")
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_PATH = re.compile(r"(?:~|\.{1,2}|[A-Za-z]:)?[/\\][\w.\-/\\~]*")
_PATH_SEGMENT = re.compile(r"[A-Za-z]?[a-z0-9._\-]*|[A-Z0-9._\-]+")
# Letters and word separators only: an identifier or words, unless random (see below).
_WORDY = re.compile(r"[A-Za-z_.\-]+")
# What never appears inside a token folded over lines (but does in code and prose).
_NOT_IN_A_TOKEN = re.compile(r"[\s\"'`(){}\[\]<>,;:]")
_CODE = re.compile(r"\{[A-Za-z_]\w*\}|\(\?[:=!<P]|\\[dswbDSWB]")
_DOTTED_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+")


def name_words(name: str) -> list[str]:
    """`BETTER_AUTH_SECRET` -> better, auth, secret; `clientSecret` -> client, secret."""
    return [word.lower() for word in _NAME_WORD.findall(name)]


def says_secret(name: str) -> bool:
    """Whether `name` names a secret's value (not its URL, file, length or kind)."""
    words = name_words(name)
    if not words or words[-1] in ABOUT_A_SECRET:
        return False
    for index, word in enumerate(words):
        if word in SECRET_WORDS or word.endswith(SECRET_ENDINGS):
            return True
        previous = words[index - 1] if index > 0 else ""
        if (word == "key" and previous in KEY_QUALIFIERS) or (
            word == "pat" and previous in PAT_QUALIFIERS
        ):
            return True
    return False


def looks_secret(value: str, min_length: int = MIN_VALUE_LENGTH) -> bool:
    """Whether `value`, found where a secret's name says a secret goes, is one."""
    if len(value) < min_length or any(c.isspace() for c in value):
        return False
    if value.startswith(_REFERENCE_START) or any(mark in value for mark in _REFERENCE_INSIDE):
        return False
    if value.lower() in LITERALS or "REDACTED" in value:
        return False
    if len(_MASK_RUN.sub("", value)) < 6:  # `xxxxxxxx`, `********`, `sk-xxxxxxxxxxxx`
        return False
    if _NUMBERISH.fullmatch(value) or _URL.match(value) or _EMAIL.fullmatch(value):
        return False
    if _is_path(value):
        return False
    has_digit = any(c.isdigit() for c in value)
    lowered = value.lower()
    if not has_digit and any(part in lowered for part in _SECRETISH):
        return False  # a reference (`settings.db_password`) or a placeholder
    if _DOTTED_IDENTIFIER.fullmatch(value) and all(map(_reads_as_words, value.split("."))):
        return False  # code: `os.environ`, `self.password`, `httpx2.Auth`
    if _CODE.search(value):
        return False  # a format string or a regular expression
    words = _VALUE_WORD.findall(lowered)
    if words and all(word in PLACEHOLDER_WORDS for word in words):
        return False
    if _WORDY.fullmatch(value) and _reads_as_words(value):
        return False
    return _character_classes(value) >= 2


def continues_a_fold(piece: str) -> bool:
    """Whether `piece`, the start of a line, reads as the rest of a token folded onto it.

    A folded token's pieces are random: a digit, or letters whose case changes at
    random. The first word of an ordinary next line (`Next`, `done`), an identifier
    (`LOOKBACK_BLOCKS`) or another `NAME=value` is not.
    """
    if not piece or _NOT_IN_A_TOKEN.search(piece) or "=" in piece.rstrip("="):
        return False
    if any(c.isdigit() for c in piece):
        return True
    return len(piece) >= 8 and not _reads_as_words(piece)


def _reads_as_words(value: str) -> bool:
    """An identifier or words (`tmp_path`, `not-ours`, `Iterable`, `MyAuthBackend`), not
    random letters: one case, or capitals only where words begin."""
    letters = [c for c in value if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    return upper in (0, len(letters)) or upper * 3 <= len(letters)


def _is_path(value: str) -> bool:
    if not _PATH.fullmatch(value):
        return False
    segments = [s for s in re.split(r"[/\\]", value) if s]
    return all(_PATH_SEGMENT.fullmatch(segment) for segment in segments)


def _character_classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
