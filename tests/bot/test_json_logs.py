"""`LOG_FORMAT=json`: one JSON object per line, with its context, and nothing secret in it.

What a log shipper reads from stderr: every line parses; a line logged while a job runs
names the job, its delivery, its repository and its phase; a secret is redacted in the
message, in a traceback, in an extra field and in a thread's uncaught exception, exactly
as the text format redacts the whole line.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from agents.text.redact import REDACTED
from bot.cli.logs import configure_logging
from bot.observe import log_context
from bot.settings import Settings
from tests.security.test_redaction import (
    CONFIGURED,
    FORMATS,
    PEM_BODY,
    PRIVATE_KEY,
    fold,
    fragments,
)

SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    LOG_FORMAT="json",
    WEBHOOK_SECRET=CONFIGURED["webhook secret"],
    ANTHROPIC_API_KEY=CONFIGURED["model key"],
    PRIVATE_KEY=PRIVATE_KEY.replace("\n", "\\n"),  # as Probot users write it in .env
)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Whatever a test configures is undone after it."""
    root = logging.getLogger()
    handlers, level, hook = root.handlers[:], root.level, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    threading.excepthook = hook


def lines_of(written: str) -> list[dict[str, Any]]:
    parsed = [json.loads(line) for line in written.splitlines() if line.strip()]
    assert all(isinstance(line, dict) for line in parsed)
    return parsed


def strings_in(value: Any) -> Iterator[str]:
    """Every string a reader of the decoded line sees (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def test_json_lines_are_redacted_tracebacks_and_extra_fields_included(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    configure_logging(SETTINGS)  # here: capsys's stderr is a new one in each test phase
    log = logging.getLogger("rolecall.test")
    token = FORMATS["GitHub ghs_"]
    log.warning("pushing with %s and %s", token, CONFIGURED["webhook secret"])
    try:
        raise RuntimeError(f"git said: remote: Invalid credentials {fold(token)} for {PEM_BODY[1]}")
    except RuntimeError:
        log.exception("job 7 failed in deliver")
    log.info("the model answered", extra={"detail": {"key": CONFIGURED["model key"]}})

    written = capsys.readouterr().err
    warning, failure, extra = lines_of(written)
    assert (warning["level"], warning["logger"]) == ("WARNING", "rolecall.test")
    assert warning["message"] == f"pushing with {REDACTED} and {REDACTED}"
    assert failure["message"] == "job 7 failed in deliver"
    assert "Traceback" in failure["exc_info"] and REDACTED in failure["exc_info"]
    assert extra["detail"] == {"key": REDACTED}
    seen = "".join(
        "".join(s.split()) for line in (warning, failure, extra) for s in strings_in(line)
    )
    for secret in (token, *CONFIGURED.values(), *PEM_BODY):
        assert secret not in written
        assert not [f for f in fragments(secret) if f in seen]


def test_a_line_names_the_job_delivery_repository_and_phase_it_was_logged_in(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    configure_logging(SETTINGS)
    log = logging.getLogger("rolecall.test")
    log.info("before")
    with log_context.bound(job_id=7):
        log_context.note(delivery_id="72d3162e-cc78", repository="octo/calc")
        log.info("claimed")
        log_context.note(phase="execute")
        log.info("running")
    log.info("after")

    before, claimed, running, after = lines_of(capsys.readouterr().err)
    context = ("job_id", "delivery_id", "repository", "phase")
    assert not set(context) & set(before) and not set(context) & set(after)
    assert {k: claimed[k] for k in context[:3]} == {
        "job_id": 7,
        "delivery_id": "72d3162e-cc78",
        "repository": "octo/calc",
    }
    assert "phase" not in claimed
    assert {k: running[k] for k in context} == {
        "job_id": 7,
        "delivery_id": "72d3162e-cc78",
        "repository": "octo/calc",
        "phase": "execute",
    }


def test_a_threads_uncaught_exception_is_a_redacted_json_line(
    capsys: pytest.CaptureFixture[str], root_logging: None
) -> None:
    configure_logging(SETTINGS)
    token = FORMATS["GitHub ghp_"]

    def fails() -> None:
        raise ValueError(f"bad credentials {token}")

    thread = threading.Thread(target=fails, name="rolecall-test-thread")
    thread.start()
    thread.join()

    [line] = lines_of(capsys.readouterr().err)
    assert line["level"] == "ERROR"
    assert "rolecall-test-thread" in line["message"]
    assert "ValueError" in line["exc_info"] and REDACTED in line["exc_info"]
    assert token not in json.dumps(line)
