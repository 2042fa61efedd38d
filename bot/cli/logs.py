"""Log lines to stderr with every secret Rolecall holds redacted (invariant 6)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.settings import Settings


def configure_logging(settings: Settings) -> None:
    """Log lines to stderr, with every secret Rolecall holds redacted (invariant 6)."""
    from agents.text.redact import Redactor

    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactingFormatter(
            # The same list the worker's redactor gets: every secret this process holds.
            Redactor(settings.known_secrets()),
            "%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = "DEBUG" if settings.log_level == "trace" else settings.log_level.upper()
    root.setLevel(level)


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
