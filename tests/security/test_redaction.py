"""Redaction: every credential format, in every disguise, in what is posted and logged.

Credential-shaped values are assembled at run time (random, so a hit proves this test's
value leaked, and so the repository holds no credential-shaped literal).
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from agents import workspace
from agents.text.redact import REDACTED, Redactor, find_secrets
from bot.cli.logs import configure_logging
from bot.jobs.failures import explain_failure
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


def test_the_log_filter_knows_every_secret_the_settings_hold(
    capsys: pytest.CaptureFixture[str], root_logging: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Values of no known format: only the settings say they are secrets.
    gateway_key = "gw-" + _alnum(24)
    database_password = "db-" + _alnum(16)
    queue_password = "q-" + _alnum(16)
    gateway = {"gateway": {"base_url": "https://llm.example.com", "api_key": gateway_key}}
    monkeypatch.setenv("ROLECALL_PROVIDERS", json.dumps(gateway))
    monkeypatch.setenv(
        "ROLECALL_DATABASE_URL", f"postgresql://rolecall:{database_password}@db:5432/rolecall"
    )
    monkeypatch.setenv("ROLECALL_QUEUE_URL", f"redis://:{queue_password}@cache:6379/0")
    configure_logging(Settings())
    log = logging.getLogger("rolecall.test")
    log.warning("the gateway refused %s", gateway_key)
    log.warning("could not log in with %s, then with %s", database_password, queue_password)
    written = capsys.readouterr().err
    assert "the gateway refused" in written and written.count(REDACTED) == 3
    for secret in (gateway_key, database_password, queue_password):
        assert secret not in written


def test_what_is_posted_about_a_failure_is_in_rolecalls_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    """A git error quoting a host file, an OSError naming a host path, a parser error
    quoting its input: the tracking comment names the kind of failure, never the text;
    git's own words go to the (redacted) log."""
    value = _alnum(24)
    git_dir = tmp_path / "mirror.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(git_dir)], check=True, timeout=30)
    # What git quotes when a file it reads is not what it expects (how a host file's
    # password line reached a public comment before).
    (git_dir / "packed-refs").write_text(f"DB_PASSWORD={value}\n")
    configure_logging(Settings())
    with pytest.raises(workspace.GitError) as git_error:
        workspace.run_git(["for-each-ref"], git_dir=git_dir)
    # git did quote the line (its stderr is kept on the error, already redacted).
    assert "packed-refs: DB_PASSWORD=[REDACTED]" in git_error.value.stderr
    posted = explain_failure(git_error.value)
    assert posted.startswith("`git for-each-ref` failed (exit 128).")
    assert value not in posted and "DB_PASSWORD" not in posted and str(tmp_path) not in posted
    logged = capsys.readouterr().err
    assert "unexpected line in" in logged and "DB_PASSWORD=[REDACTED]" in logged
    assert value not in logged

    host_file = tmp_path / "etc" / f"credentials-{value}.env"
    with pytest.raises(OSError) as os_error:
        host_file.read_text()
    with pytest.raises(yaml.YAMLError) as parse_error:
        yaml.safe_load(f"db_password: [{value}\n")
    for error in (os_error.value, parse_error.value):
        posted = explain_failure(error)
        assert value not in posted and str(tmp_path) not in posted, posted
        assert "Rolecall's log" in posted
