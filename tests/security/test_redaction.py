"""Redaction: every credential format, in every disguise, in what is posted and logged.

Credential-shaped values are assembled at run time (random, so a hit proves this test's
value leaked, and so the repository holds no credential-shaped literal).
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Iterator

import pytest

from agents.redact import REDACTED, Redactor, find_secrets
from bot.cli import configure_logging
from bot.settings import Settings


def _alnum(n: int) -> str:
    out = ""
    while len(out) < n:
        out += uuid.uuid4().hex.upper()[:8] + uuid.uuid4().hex[:8]
    return out[:n]


CONFIGURED = {
    "webhook secret": "whsec-" + uuid.uuid4().hex[:12],
    "model key": "sk-ant-api03-" + _alnum(80) + "AA",
}
PEM_BODY = [base64.b64encode(uuid.uuid4().bytes * 3).decode() for _ in range(3)]
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(PEM_BODY) + "\n-----END RSA PRIVATE KEY-----\n"
)
FORMATS = {
    **{f"GitHub {p}": f"{p}{_alnum(36)}" for p in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")},
    "GitHub fine-grained PAT": f"github_pat_{_alnum(22)}_{_alnum(59)}",
    "Anthropic key": "sk-ant-admin01-" + _alnum(60),
    "AWS access key id": "AKIA" + _alnum(16).upper(),
    "AWS secret access key": "aws_secret_access_key = " + _alnum(40),
    "private key": PRIVATE_KEY,
    "JWT": "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxMjM0NSJ9." + _alnum(43),
    **CONFIGURED,
}


def the_secret(name: str) -> str:
    """The part of a format's example that must not survive."""
    value = FORMATS[name]
    return value.split("= ", 1)[1] if name == "AWS secret access key" else value


def fold(value: str) -> str:
    """Folded the way `fold -w 17` or a narrow terminal would print it."""
    return "\n".join(value[i : i + 17] for i in range(0, len(value), 17))


DISGUISES: dict[str, Callable[[str], str]] = {
    "plain": lambda v: f"the value is {v} there",
    "at a line end": lambda v: f"the value is {v}\nNext line",
    "split across lines": lambda v: f"first half {v[: len(v) // 2]}\n    {v[len(v) // 2 :]} end",
    "folded": lambda v: f"printed:\n{fold(v)}\ndone",
    "base64": lambda v: "echo " + base64.b64encode(v.encode()).decode() + " | base64 -d",
    "base64 wrapped": lambda v: fold(base64.b64encode(f"user:{v}".encode()).decode()),
    "base64url": lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
    "ANSI colours": lambda v: f"\x1b[1;31m{v[:9]}\x1b[0m\x1b[32m{v[9:]}\x1b[0m",
    "JSON-escaped": lambda v: json.dumps({"out": f"{v[:12]}\n{v[12:]}"}),
    "in a URL": lambda v: f"https://x-access-token:{v}@github.com/o/r.git",
}
# Formats a fold can split anywhere and still be caught whole: fixed length, or held.
WHOLE_WHEN_FOLDED = {n for n in FORMATS if n.startswith("GitHub") or n in CONFIGURED}
WHOLE_WHEN_FOLDED |= {"AWS access key id", "private key", "Anthropic key"}


def fragments(secret: str, size: int = 12) -> Iterator[str]:
    body = "".join(secret.split())
    for start in range(0, max(len(body) - size, 0) + 1, 3):
        yield body[start : start + size]


def test_every_credential_format_is_redacted_in_every_disguise() -> None:
    redact = Redactor([*CONFIGURED.values(), PRIVATE_KEY])
    for name in FORMATS:
        secret = the_secret(name)
        for disguise, wrap in DISGUISES.items():
            text = wrap(FORMATS[name])
            out = redact(text)
            assert REDACTED in out, f"{name} {disguise}: nothing redacted in {text!r}"
            assert secret not in out, f"{name} {disguise}: {out!r}"
            assert redact.find(text), f"{name} {disguise}: not found"
            folded = disguise in ("split across lines", "folded", "JSON-escaped")
            if not folded or name in WHOLE_WHEN_FOLDED:
                left = [f for f in fragments(secret) if f in "".join(out.split())]
                assert not left, f"{name} {disguise}: {left[0]!r} survived in {out!r}"
    # Credential-shaped strings are found without being told about them, too.
    for name in set(FORMATS) - set(CONFIGURED):
        assert find_secrets(DISGUISES["base64"](FORMATS[name])), name
    # The App's private key: printing any line of it is caught, not only the whole block.
    for line in PEM_BODY:
        assert line not in redact(f"part of the key: {line}")
    # Ordinary text, code and commit ids pass untouched.
    prose = (
        "Fixed add() in calc.py; ran `python3 -m unittest -q` (3 tests, OK).\n"
        "Commit 3f1c2a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39, token budget 2000, see #12.\n"
        "export GITHUB_TOKEN=$GITHUB_TOKEN  # read from the environment\n"
    )
    assert redact(prose) == prose


@pytest.fixture
def root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_logs_are_redacted_tracebacks_included(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    settings = Settings(
        WEBHOOK_SECRET=CONFIGURED["webhook secret"],
        ANTHROPIC_API_KEY=CONFIGURED["model key"],
        PRIVATE_KEY=PRIVATE_KEY.replace("\n", "\\n"),  # as Probot users write it in .env
    )
    configure_logging(settings)
    log = logging.getLogger("rolecall.test")
    token = FORMATS["GitHub ghs_"]
    log.warning("pushing with %s and %s", token, CONFIGURED["webhook secret"])
    try:
        raise RuntimeError(f"git said: remote: Invalid credentials {fold(token)} for {PEM_BODY[1]}")
    except RuntimeError:
        log.exception("job 7 failed in deliver")
    log.info("model key %s", base64.b64encode(CONFIGURED["model key"].encode()).decode())

    written = capsys.readouterr().err
    assert "job 7 failed in deliver" in written and "Traceback" in written
    assert written.count(REDACTED) >= 5
    for secret in (token, *CONFIGURED.values(), *PEM_BODY):
        assert secret not in written
        assert not [f for f in fragments(secret) if f in "".join(written.split())]
