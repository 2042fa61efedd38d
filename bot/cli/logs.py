"""Log lines to stderr with every secret Rolecall holds redacted (invariant 6).

`LOG_FORMAT=text` (the default) writes one readable line per record; `LOG_FORMAT=json`
one JSON object per line, carrying the delivery, job, repository and phase the line
belongs to where they are known (`bot.observe.log_context`). Both redact everything they
write, tracebacks included. Warnings and an exception nothing caught in a thread are
logged the same way, rather than printed raw by Python.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.observe.log_context import current
from bot.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("rolecall")


def configure_logging(settings: Settings) -> None:
    """Log lines to stderr, with every secret Rolecall holds redacted (invariant 6)."""
    from agents.text.redact import Redactor

    # The same list the worker's redactor gets: every secret this process holds.
    redact = Redactor(settings.known_secrets())
    handler = logging.StreamHandler()
    formatter: logging.Formatter = (
        json_formatter(redact)
        if settings.log_format == "json"
        else RedactingFormatter(redact, TEXT_FORMAT)
    )
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = "DEBUG" if settings.log_level == "trace" else settings.log_level.upper()
    root.setLevel(level)
    # Nothing reaches stderr but through the handler: warnings and a thread's uncaught
    # exception are log records too (redacted, and one JSON object in `json`).
    logging.captureWarnings(True)
    threading.excepthook = _log_uncaught


class RedactingFormatter(logging.Formatter):
    """Redacts the whole formatted line, tracebacks included (invariant 6).

    Redacting only `record.getMessage()` would miss `log.exception(...)`: the traceback
    is added by the formatter and carries exception messages, which may hold a token.
    """

    def __init__(self, redact: Callable[[str], str], fmt: str) -> None:
        super().__init__(fmt)
        self._redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def json_formatter(redact: Callable[[str], str]) -> logging.Formatter:
    """The `LOG_FORMAT=json` formatter (python-json-logger, imported only when used)."""
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    class RedactingJsonFormatter(JsonFormatter):
        """One JSON object per line: time, level, logger, message, the line's context,
        `exc_info` for a traceback; every string in it redacted before it is encoded.

        Redacting the encoded line instead would rely on the redactor seeing through
        JSON's escapes (a key's line breaks become `\\n`), and a redaction could cut
        through its quoting; so each value is redacted as the text a reader sees, with
        the same redactor the text format uses.
        """

        def add_fields(
            self, log_data: dict[str, Any], record: logging.LogRecord, message: dict[str, Any]
        ) -> None:
            log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"
            )
            super().add_fields(log_data, record, message)
            for name, value in current().fields().items():
                log_data.setdefault(name, value)

        def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
            return {redact(str(key)): _redacted(value, redact) for key, value in log_data.items()}

    formatter: JsonFormatter = RedactingJsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        # uvicorn's records carry an ANSI-coloured copy of their message.
        reserved_attrs=[*RESERVED_ATTRS, "color_message"],
    )
    return formatter


def _redacted(value: Any, redact: Callable[[str], str]) -> Any:
    """`value` with every string in it redacted; anything else JSON cannot hold as it is
    becomes its (redacted) text, so nothing reaches the encoder unredacted."""
    if isinstance(value, str):
        return redact(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(k)): _redacted(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(item, redact) for item in value]
    return redact(str(value))


def _log_uncaught(args: threading.ExceptHookArgs) -> None:
    """An exception that ended a thread, logged (and so redacted) like any other."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    log.error(
        "uncaught exception in %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )
